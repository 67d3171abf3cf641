"""The ``openlisten`` command: a thin shell over the embedded API and the server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from openlisten.cli_store import jobs, keys
from openlisten.cli_stream import stream
from openlisten.config import Settings
from openlisten.errors import OpenListenError

__all__ = ["main"]

#: Show a progress bar for audio longer than this, in seconds.
_PROGRESS_MIN_DURATION_S = 30.0


def _engine_options(func: Any) -> Any:
    """Options shared by every command that runs the engine."""
    options = [
        click.option("--model", "model_source", help="Default model: tiny.en (bundled), a directory, or a name."),
        click.option(
            "--model-map",
            multiple=True,
            metavar="NAME=MODEL",
            help="Run MODEL for the Deepgram model NAME (repeatable), e.g. whisper-small=small.en.",
        ),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where the model runs."),
        click.option("--compute-type", help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA)."),
        click.option(
            "--threads", "cpu_threads", type=int, help="CPU threads per model call (0: cores shared by the workers)."
        ),
        click.option("--decode-workers", type=int, help="Model calls run at once (default 2)."),
        click.option("--beam-size", type=int, help="Beam width; 1 is greedy."),
        click.option("--decode-windows", type=int, help="Whisper windows per decoding round (4 on CPU, 16 on CUDA)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(**given: Any) -> Settings:
    """Settings from the environment, overridden by the options given on the command line."""
    # Identity, not equality: `--port 0` (0 == False) is a value given.
    overrides = {k: v for k, v in given.items() if v is not None and v is not False and v != ()}
    if "model_source" in overrides:
        overrides["model"] = overrides.pop("model_source")
    if "model_map" in overrides:
        overrides["model_map"] = dict(_pair(item) for item in overrides["model_map"])
    if "api_keys" in overrides:
        overrides["api_keys"] = list(overrides["api_keys"])
    if "callback_allowed_hosts" in overrides:
        overrides["callback_allowed_hosts"] = list(overrides["callback_allowed_hosts"])
    if overrides.pop("no_metrics", False):
        overrides["metrics"] = False
    if overrides.pop("no_playground", False):
        overrides["playground"] = False
    return Settings(**overrides)


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name or not value:
        raise click.BadParameter(f"expected NAME=MODEL, got {item!r}")
    return name, value


@click.group()
@click.version_option(package_name="openlisten")
def main() -> None:
    """OpenListen: Deepgram-compatible speech-to-text on your own hardware."""


main.add_command(jobs)
main.add_command(keys)
main.add_command(stream)


@main.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default 8080).")
@click.option("--api-key", "api_keys", multiple=True, help="Accept this API key (repeatable).")
@click.option("--api-keys-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File of keys.")
@click.option("--no-auth", is_flag=True, help="Development mode: accept requests without a key.")
@click.option("--allow-private-urls", is_flag=True, help="Let {url} requests fetch private and loopback hosts.")
@click.option("--max-upload-bytes", type=int, help="Largest request body, in bytes.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep callback jobs, keys and the token secret here (default: in memory).",
)
@click.option("--database-url", help="Keep them in this PostgreSQL database instead, shared by replicas.")
@click.option(
    "--callback-allowed-host",
    "callback_allowed_hosts",
    multiple=True,
    metavar="HOST",
    help="Only these hosts may receive callbacks, private ones included (repeatable; *.example.com).",
)
@click.option("--max-concurrent-requests", type=int, help="REST requests in progress at once (0: no limit).")
@click.option("--max-concurrent-requests-per-key", type=int, help="REST requests in progress per key (0: no limit).")
@click.option("--request-timeout", "request_timeout_s", type=float, help="Longest synchronous request, in seconds.")
@click.option("--shutdown-grace", "shutdown_grace_s", type=float, help="Seconds in-flight work gets on SIGTERM.")
@click.option("--no-metrics", is_flag=True, help="Do not serve Prometheus metrics at /metrics.")
@click.option("--no-playground", is_flag=True, help="Do not serve the browser playground at /.")
@click.option("--ray", "on_ray", is_flag=True, help="Run as a Ray Serve application of engine replicas.")
@click.option("--ray-address", help="With --ray: a running Ray cluster (default: start a local one).")
@click.option("--replicas", type=click.IntRange(1), help="With --ray: this many replicas (default 1).")
@click.option("--min-replicas", type=click.IntRange(1), help="With --ray: autoscale from this many replicas…")
@click.option("--max-replicas", type=click.IntRange(1), help="…up to this many.")
@click.option(
    "--target-ongoing-requests",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="With --ray autoscaling: requests in progress per replica to aim at (a live session is one).",
)
@click.option("--replica-cpus", type=click.FloatRange(min=0), default=1.0, show_default=True, help="CPUs per replica.")
@_engine_options
def serve(on_ray: bool, **given: Any) -> None:
    """Serve Deepgram's /v1/listen API over HTTP."""
    ray = {name: given.pop(name) for name in _RAY_OPTIONS}
    settings = _settings(**given)
    if on_ray:
        _serve_on_ray(settings, **ray)
        return
    if any(ray[name] for name in ("ray_address", "replicas", "min_replicas", "max_replicas")):
        raise click.UsageError("--ray-address and the replica options go with --ray")
    from openlisten.api.app import create_app
    from openlisten.api.server import run

    try:
        app = create_app(settings)
        engine = app.state.services.engine
        engine.load(engine.models.resolve("default"))
    except OpenListenError as exc:
        raise click.ClickException(exc.message) from exc
    run(app, settings)


_RAY_OPTIONS = ("ray_address", "replicas", "min_replicas", "max_replicas", "target_ongoing_requests", "replica_cpus")


def _serve_on_ray(
    settings: Settings,
    ray_address: str | None,
    replicas: int | None,
    min_replicas: int | None,
    max_replicas: int | None,
    target_ongoing_requests: float,
    replica_cpus: float,
) -> None:
    try:
        from openlisten.api.ray_app import RayOptions, serve_on_ray
    except ImportError as exc:
        raise click.ClickException(f"--ray needs Ray Serve: pip install 'openlisten[ray]' ({exc})") from exc
    if replicas is not None and (min_replicas or max_replicas):
        raise click.UsageError("give either --replicas or --min-replicas/--max-replicas")
    autoscale = replicas is None and (min_replicas is not None or max_replicas is not None)
    low = min_replicas or 1
    high = max_replicas or low
    if low > high:
        raise click.UsageError("--min-replicas is more than --max-replicas")
    most = high if autoscale else (replicas or 1)
    if most > 1 and settings.database_url is None:
        raise click.UsageError(
            "replicas share their store: give --database-url postgresql://… (callback jobs, keys, token secret)"
        )
    if settings.port == 0:
        raise click.UsageError("--ray needs a fixed --port (Ray's proxies listen on it on every node)")
    options = RayOptions(
        address=ray_address,
        replicas=None if autoscale else (replicas or 1),
        min_replicas=low,
        max_replicas=high,
        target_ongoing_requests=target_ongoing_requests,
        replica_cpus=replica_cpus,
    )
    serve_on_ray(settings, options)


@main.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the full Deepgram JSON response.")
@click.option("--smart-format/--no-smart-format", default=True, show_default=True, help="Formatted text.")
@click.option("--punctuate/--no-punctuate", default=True, show_default=True, help="Punctuation and capitals.")
@click.option("--multichannel", is_flag=True, help="Transcribe each channel separately.")
@click.option("--language", help="BCP-47 language (multilingual models).")
@click.option("--deepgram-model", "model", default="nova-3", show_default=True, help="Deepgram model name.")
@click.option("--encoding", help="Raw audio encoding (linear16, mulaw, …).")
@click.option("--sample-rate", type=int, help="Sample rate of raw audio.")
@click.option("--channels", type=int, help="Channels of raw audio.")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Any /v1/listen parameter.")
@_engine_options
def transcribe(source: str, as_json: bool, params: tuple[str, ...], multichannel: bool, **given: Any) -> None:
    """Transcribe SOURCE (a file or an http(s) URL) with the embedded engine and print the transcript."""
    from openlisten.embedded import transcribe as run_transcription
    from openlisten.engine.engine import Engine

    request = {k: given.pop(k) for k in ("smart_format", "punctuate", "language", "model", "encoding")}
    request.update(sample_rate=given.pop("sample_rate"), channels=given.pop("channels"), multichannel=multichannel)
    request.update(_pair(p) for p in params)
    engine = Engine(_settings(**given))
    with _ProgressBar() as bar:
        try:
            response = run_transcription(source, engine=engine, progress=bar.update, **request)
        except (OpenListenError, OSError) as exc:
            raise click.ClickException(getattr(exc, "message", None) or str(exc)) from exc
    if as_json:
        click.echo(json.dumps(response.model_dump(exclude_none=True), indent=2))
        return
    for index, channel in enumerate(response.results.channels):
        prefix = f"[channel {index}] " if len(response.results.channels) > 1 else ""
        click.echo(prefix + channel.alternatives[0].transcript)


class _ProgressBar:
    """A tqdm bar on stderr over seconds of audio, shown only for long audio."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, done_s: float, total_s: float) -> None:
        if self._bar is None:
            if total_s < _PROGRESS_MIN_DURATION_S:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=round(total_s), unit="s", desc="transcribing", file=sys.stderr, leave=False)
        self._bar.update(round(done_s) - self._bar.n)
