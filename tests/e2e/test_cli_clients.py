"""Tools that read our JSON: Deepgram's own CLI (`deepctl`, ``dg``) and `deepgram-captions`, unchanged."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from deepgram_captions import DeepgramConverter, srt, webvtt

from tests.conftest import JFK_FLAC, words_of
from tests.e2e.conftest import API_KEY, LiveServer


def dg(server: LiveServer, home: Path, *args: str, key: str = API_KEY) -> subprocess.CompletedProcess[str]:
    """``dg --base-url <server> --api-key <key> …`` with its telemetry off and its config in `home`."""
    env = {**os.environ, "HOME": str(home), "DEEPCTL_TELEMETRY_DISABLED": "1", "NO_PROXY": "127.0.0.1"}
    command = [str(Path(sys.executable).parent / "dg"), "--base-url", server.base_url, "--api-key", key]
    return subprocess.run(
        [*command, "--non-interactive", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_projects_answer_for_a_valid_key_only(live_server: LiveServer) -> None:
    listed = httpx.get(live_server.base_url + "/v1/projects", headers={"Authorization": f"Token {API_KEY}"})
    assert listed.status_code == 200
    [project] = listed.json()["projects"]
    one = httpx.get(f"{live_server.base_url}/v1/projects/{project['project_id']}",
                    headers={"Authorization": f"Token {API_KEY}"})  # fmt: skip
    assert one.json() == project
    assert httpx.get(live_server.base_url + "/v1/projects", headers={"Authorization": "Token nope"}).status_code == 401


def test_deepctl_transcribes_a_file(live_server: LiveServer, tmp_path: Path) -> None:
    done = dg(live_server, tmp_path, "-o", "json", "listen", str(JFK_FLAC))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    transcript = body["results"]["channels"][0]["alternatives"][0]["transcript"]
    assert "ask not what your country can do for you" in " ".join(words_of(transcript))


def test_deepctl_writes_captions_with_speakers(live_server: LiveServer, tmp_path: Path) -> None:
    done = dg(live_server, tmp_path, "listen", str(JFK_FLAC), "--srt", "--diarize")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^1\n00:00:0\d,\d{3} --> 00:00:\d\d,\d{3}\n", done.stdout, re.M), done.stdout
    assert "country" in done.stdout.lower()


def test_deepctl_reports_a_bad_key(live_server: LiveServer, tmp_path: Path) -> None:
    done = dg(live_server, tmp_path, "-o", "json", "listen", str(JFK_FLAC), key="not-a-key")
    assert done.returncode != 0
    assert "Invalid API key" in done.stdout + done.stderr


@pytest.mark.parametrize("query", ["utterances=true&diarize=true", "utterances=true", ""])
def test_deepgram_captions_reads_our_response(live_server: LiveServer, query: str) -> None:
    response = httpx.post(
        f"{live_server.base_url}/v1/listen?{query}&punctuate=true",
        content=JFK_FLAC.read_bytes(),
        headers={"Authorization": f"Token {API_KEY}"},
        timeout=120,
    )
    body = response.json()
    words = [w for c in body["results"]["channels"] for w in c["alternatives"][0]["words"]]
    assert all(w["end"] > w["start"] for w in words)  # no zero-length word
    converter = DeepgramConverter(body)
    vtt, subtitles = webvtt(converter), srt(converter)
    assert vtt.startswith("WEBVTT") and "-->" in vtt and "country" in vtt.lower()
    assert subtitles.startswith("1\n") and "country" in subtitles.lower()
    if "diarize" in query:
        assert "<v Speaker 0>" in vtt
