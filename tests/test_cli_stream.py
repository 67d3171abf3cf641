"""``openlisten stream`` on the embedded engine (click's CliRunner, the real model) and its terminal printing.

Streaming to a server is tested end to end in tests/e2e/test_cli_stream.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from openlisten.cli import main
from openlisten.cli_stream import TerminalPrinter, TurnPrinter
from tests.conftest import words_of

SPEECH = "hello world this is a test"


@pytest.fixture
def speech_file(tmp_path: Path, speak: Callable[..., bytes]) -> Path:
    path = tmp_path / "speech.wav"
    path.write_bytes(speak(SPEECH))
    return path


def _recognized(text: str) -> bool:
    """Whether `text` is SPEECH as tiny.en hears espeak-ng ("this is my test" is common), nothing more."""
    words = words_of(text)
    return words[:4] == ["hello", "world", "this", "is"] and words[-1] == "test" and len(words) == 6


def _results(text: str, is_final: bool, speech_final: bool = False) -> dict[str, object]:
    return {
        "type": "Results",
        "is_final": is_final,
        "speech_final": speech_final,
        "channel": {"alternatives": [{"transcript": text}]},
    }


def test_printer_overwrites_interims_keeps_finals_and_ends_lines_at_speech_final() -> None:
    out: list[str] = []
    printer = TerminalPrinter(out.append)
    for message in (
        _results("hello", False),
        _results("hello wor", False),
        _results("Hello world.", True),  # a final: kept, the next interim goes after it
        _results("this", False),
        _results("This is it.", True, speech_final=True),
        {"type": "UtteranceEnd"},  # the line already ended: no blank line
        {"type": "Metadata"},
        _results("stray", False),
        _results("", True, speech_final=True),  # the interim came to nothing: wiped, no new line
        _results("Bye.", True),
    ):
        printer(message)
    printer.end_line()
    assert "".join(out) == (
        "\rhello\rhello wor\rHello world.\rHello world. this\rHello world. This is it.\n\rstray\r     \rBye.\n"
    )


def test_turn_printer_grows_each_turn_in_place_and_ends_its_line() -> None:
    out: list[str] = []
    printer = TurnPrinter(out.append)
    for event, text in (("StartOfTurn", "Hello"), ("Update", "Hello there."), ("EndOfTurn", "Hello there.")):
        info = {"type": "TurnInfo", "event": event, "turn_index": 0, "transcript": text}
        printer(info | {"trigger": "model", "end_of_turn_confidence": 0.91})
    printer({"type": "Connected"})
    printer.end_line()
    assert "".join(out) == "\r[turn 0] Hello\r[turn 0] Hello there.\r[turn 0] Hello there.  (model, 0.91)\n"


def test_stream_turns_prints_each_turn_as_it_ends_embedded(speech_file: Path) -> None:
    args = ["stream", str(speech_file), "--turns", "--json"]
    result = CliRunner().invoke(main, args, env={"OPENLISTEN_CPU_THREADS": "1"})
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.output.splitlines()]
    assert messages[0]["type"] == "Connected"
    ends = [m for m in messages if m.get("event") == "EndOfTurn"]
    assert len(ends) == 1 and _recognized(ends[0]["transcript"])  # the stream's end ends its one turn


def test_stream_prints_the_text_of_a_file_embedded(speech_file: Path) -> None:
    result = CliRunner().invoke(main, ["stream", str(speech_file), "--speed", "4"], env={"OPENLISTEN_CPU_THREADS": "1"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\r") and result.output.endswith("\n")
    shown = [line.split("\r")[-1] for line in result.output.split("\n")]  # what each line ends up showing
    assert _recognized(" ".join(shown))


def test_stream_json_prints_every_message_embedded(speech_file: Path) -> None:
    args = ["stream", str(speech_file), "--speed", "4", "--json", "--no-interim-results", "--no-smart-format"]
    result = CliRunner().invoke(main, args, env={"OPENLISTEN_CPU_THREADS": "1"})
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.output.splitlines()]
    assert messages[-1]["type"] == "Metadata"
    assert messages[-1]["duration"] == pytest.approx(2.1, abs=0.5)
    results = [m for m in messages if m["type"] == "Results"]
    assert all(m["is_final"] for m in results)
    text = " ".join(m["channel"]["alternatives"][0]["transcript"] for m in results)
    assert _recognized(text)


def test_stream_refused_options_are_clean_errors(speech_file: Path) -> None:
    result = CliRunner().invoke(main, ["stream", str(speech_file), "--language", "fr"])
    assert result.exit_code == 1
    assert "Error: language 'fr' is not available" in result.output and "Traceback" not in result.output


def test_stream_needs_a_file_or_the_microphone(speech_file: Path) -> None:
    for args in ([], [str(speech_file), "--mic"]):
        result = CliRunner().invoke(main, ["stream", *args])
        assert result.exit_code == 2 and "give a FILE or --mic" in result.output


def test_stream_without_microphone_support_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as when the package or PortAudio is missing
    result = CliRunner().invoke(main, ["stream", "--mic"])
    assert result.exit_code == 1
    assert "Error: no microphone support on this machine" in result.output


def test_stream_bad_file_and_bad_url_are_clean_errors(tmp_path: Path, speech_file: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    result = CliRunner().invoke(main, ["stream", str(text)])
    assert result.exit_code == 1 and "notes.txt" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["stream", str(speech_file), "--url", "ftp://example.com"])
    assert result.exit_code == 2 and "--url" in result.output
