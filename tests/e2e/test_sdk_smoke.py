"""The contract's own end-to-end check, ../shared/spec/sdk_smoke.py, against our server."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import API_KEY, LiveServer

pytestmark = pytest.mark.e2e

SMOKE = REPO.parent / "shared" / "spec" / "sdk_smoke.py"
PRERECORDED_CHECKS = [
    "listen.v1.media.transcribe_file",
    "transcribe_file (chunked upload)",
    "listen.v1.media.transcribe_url",
    "auth.v1.tokens.grant",
    "transcribe_file (Bearer access token)",
    "manage.v1.models.list",
]


def run_smoke(server: LiveServer) -> dict[str, str]:
    """Each check's name and status (PASS / WARN / FAIL / SKIP)."""
    completed = subprocess.run(
        [sys.executable, str(SMOKE), "--base-url", server.base_url, "--api-key", API_KEY, "--wait", "20"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    statuses = {}
    for line in completed.stdout.splitlines():
        match = re.match(r"(PASS|WARN|FAIL|SKIP) +(.+?) +\(\d+\.\d+s\)", line)
        if match:
            statuses[match[2]] = match[1]
    assert statuses, completed.stdout + completed.stderr
    return statuses


def test_prerecorded_checks_pass(live_server: LiveServer) -> None:
    statuses = run_smoke(live_server)
    assert {name: statuses.get(name) for name in PRERECORDED_CHECKS} == dict.fromkeys(PRERECORDED_CHECKS, "PASS")
