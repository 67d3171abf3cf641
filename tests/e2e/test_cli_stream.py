"""``openlisten stream --url``: a file streamed to a real server through the official SDK (CliRunner)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from openlisten.cli import main
from tests.conftest import words_of
from tests.e2e.conftest import API_KEY, LiveServer

pytestmark = pytest.mark.e2e

#: Long enough without a pause for interims (one per second of an utterance).
LONG_SPEECH = "the quick brown fox jumps over the lazy dog and runs across the green field to the old red barn"


@pytest.fixture
def speech_file(tmp_path: Path, speak: Callable[..., bytes]) -> Callable[[str], Path]:
    def make(text: str) -> Path:
        path = tmp_path / "speech.wav"
        path.write_bytes(speak(text))
        return path

    return make


def test_stream_to_a_server_prints_the_text(live_server: LiveServer, speech_file: Callable[[str], Path]) -> None:
    args = [
        "stream",
        str(speech_file("hello world this is a test")),
        "--url",
        live_server.base_url,
        "--api-key",
        API_KEY,
    ]
    result = CliRunner().invoke(main, [*args, "--speed", "4"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\r") and result.output.endswith("\n")
    shown = [line.split("\r")[-1] for line in result.output.split("\n")]
    words = words_of(" ".join(shown))
    assert words[:2] == ["hello", "world"] and words[-1] == "test", result.output


def test_stream_json_has_results_then_metadata(live_server: LiveServer, speech_file: Callable[[str], Path]) -> None:
    args = ["stream", str(speech_file(LONG_SPEECH)), "--url", live_server.base_url, "--api-key", API_KEY, "--json"]
    result = CliRunner().invoke(main, [*args, "--speed", "1.5", "--endpointing", "300"])
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.output.splitlines()]
    assert [m["type"] for m in messages][-1] == "Metadata"
    results = [m for m in messages if m["type"] == "Results"]
    # (Whether interims came depends on the machine's load: `bench/live.py` counts them.)
    assert all(m["is_final"] or m["channel"]["alternatives"][0]["transcript"] for m in results)
    finals = " ".join(m["channel"]["alternatives"][0]["transcript"] for m in results if m["is_final"])
    assert {"quick", "lazy", "green", "field", "barn"} <= set(words_of(finals)), finals
    assert any(m["speech_final"] for m in results)


def test_stream_turns_to_a_server_prints_each_turn_as_it_ends(
    live_server: LiveServer, speech_file: Callable[[str], Path]
) -> None:
    args = ["stream", str(speech_file(LONG_SPEECH)), "--turns", "--url", live_server.base_url, "--api-key", API_KEY]
    result = CliRunner().invoke(main, [*args, "--speed", "2"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\r")[-1] for line in result.output.split("\n") if line]
    assert lines and all(line.startswith("[turn ") for line in lines), result.output
    assert lines[-1].endswith(")")  # how the last turn ended, and with what confidence
    assert {"quick", "lazy", "barn"} <= set(words_of(" ".join(lines))), result.output


def test_stream_refusals_are_clean_errors(live_server: LiveServer, speech_file: Callable[[str], Path]) -> None:
    audio = str(speech_file("hello world"))
    result = CliRunner().invoke(main, ["stream", audio, "--url", live_server.base_url, "--api-key", "wrong"])
    assert result.exit_code == 1
    assert "Error: the server refused the stream (HTTP 401): Invalid credentials." in result.output

    result = CliRunner().invoke(
        main, ["stream", audio, "--url", live_server.base_url, "--api-key", API_KEY, "--language", "fr"]
    )
    assert result.exit_code == 1
    assert "(HTTP 400): language 'fr' is not available" in result.output  # the server's dg-error header

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = CliRunner().invoke(main, ["stream", audio, "--url", f"http://127.0.0.1:{port}", "--api-key", API_KEY])
    assert result.exit_code == 1
    assert f"Error: could not connect to http://127.0.0.1:{port}" in result.output
