"""The CLI is a thin shell over the embedded API (click's CliRunner, the real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from openlisten.cli import main
from tests.conftest import JFK_FLAC, words_of


def test_transcribe_prints_the_transcript() -> None:
    result = CliRunner().invoke(main, ["transcribe", str(JFK_FLAC)])
    assert result.exit_code == 0, result.output
    assert "ask not what your country can do for you" in " ".join(words_of(result.output))
    assert result.output.strip()[0].isupper()  # smart_format is on by default


def test_transcribe_json_is_the_full_response() -> None:
    result = CliRunner().invoke(main, ["transcribe", str(JFK_FLAC), "--json", "--no-smart-format", "--no-punctuate"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)  # stdout alone: a stray thread of another test may write to stderr
    assert body["metadata"]["duration"] == pytest.approx(11.0, abs=0.05)
    assert body["results"]["channels"][0]["alternatives"][0]["transcript"].islower()


def test_transcribe_multichannel_labels_channels() -> None:
    result = CliRunner().invoke(main, ["transcribe", str(JFK_FLAC), "--multichannel"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[channel 0] ") and "[channel 1] " in result.output


def test_transcribe_bad_file_is_a_clean_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    result = CliRunner().invoke(main, ["transcribe", str(text)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["transcribe", str(tmp_path / "nope.wav")])
    assert missing.exit_code == 1 and "nope.wav" in missing.output


def test_bad_model_map_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["transcribe", str(JFK_FLAC), "--model-map", "nonsense"])
    assert result.exit_code == 2


def test_progress_bar_on_long_audio(tmp_path: Path) -> None:
    from openlisten.cli import _ProgressBar

    seen: list[float] = []
    with _ProgressBar() as bar:
        bar.update(10.0, 20.0)  # short audio: no bar
        assert bar._bar is None
    with _ProgressBar() as bar:
        for done in (30.0, 60.0, 90.0):
            bar.update(done, 90.0)
            seen.append(bar._bar.n)
    assert seen == [30, 60, 90]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replicas", "2"], "go with --ray"),
        (["--ray", "--replicas", "2"], "--database-url"),
        (["--ray", "--max-replicas", "3"], "--database-url"),
        (["--ray", "--replicas", "2", "--min-replicas", "1"], "either --replicas or"),
        (["--ray", "--min-replicas", "3", "--max-replicas", "2"], "more than --max-replicas"),
        (["--ray", "--port", "0"], "fixed --port"),
    ],
)
def test_serve_on_ray_options_are_checked_before_anything_starts(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--no-auth", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_ray_deployment_takes_replicas_or_autoscaling_bounds() -> None:
    from openlisten.api.ray_app import RayOptions, build_deployment
    from openlisten.config import Settings

    settings = Settings(max_live_sessions=16, max_concurrent_requests=32, shutdown_grace_s=30)
    fixed = build_deployment(settings, RayOptions(replicas=2))
    assert fixed.num_replicas == 2 and fixed.max_ongoing_requests > 16 + 32
    assert fixed.ray_actor_options["num_cpus"] == 1.0
    scaled = build_deployment(settings, RayOptions(replicas=None, min_replicas=1, max_replicas=4))
    autoscaling = scaled._deployment_config.autoscaling_config
    assert (autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.target_ongoing_requests) == (1, 4, 4.0)
