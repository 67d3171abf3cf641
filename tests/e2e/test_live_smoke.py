"""../shared/spec/sdk_smoke.py passes completely against our server: REST and both live checks."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_sdk_smoke import run_smoke

pytestmark = pytest.mark.e2e

LIVE_CHECKS = ["listen.v1.connect (sync)", "listen.v1.connect (async)"]


def test_every_smoke_check_passes(live_server: LiveServer) -> None:
    statuses = run_smoke(live_server)
    assert all(name in statuses for name in LIVE_CHECKS), statuses
    assert statuses == dict.fromkeys(statuses, "PASS")
