"""``openlisten stream``: live transcription of a file (at real-time pace) or the microphone.

With ``--url`` the audio goes to a server through the official Deepgram SDK, exactly as any client would
send it; without, to the embedded engine: the same `LiveSession` the WebSocket route runs, driven
in-process, with no server. Either way the audio is sent as 16 kHz linear16 in 100 ms pieces, and the
messages that come back are printed as Deepgram's live example prints them (seed:
deepgram-python-speech-to-text): interim text overwritten in place by finals (``\\r``), a new line at
``speech_final``. ``--json`` prints every message as one JSON line instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import numpy.typing as npt

from openlisten.errors import OpenListenError

__all__ = ["TerminalPrinter", "TurnPrinter", "stream"]

#: What is sent: mono linear16 at the engine's own rate, so the server resamples nothing.
_SAMPLE_RATE = 16000
#: Samples per message: 100 ms, the piece size of browsers and telephony gateways.
_CHUNK_SAMPLES = 1600
#: Sent as the key when none is given, for servers run with ``--no-auth`` (the SDK insists on one).
_NO_KEY = "no-key"

Message = dict[str, Any]
Emit = Callable[[Message], None]


@click.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mic", is_flag=True, help="Stream the microphone instead of a file (Ctrl-C ends).")
@click.option("--url", help="Server to stream to, e.g. http://127.0.0.1:8080 (default: the embedded engine).")
@click.option("--api-key", envvar="DEEPGRAM_API_KEY", help="Key for --url (default: $DEEPGRAM_API_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print every message as one JSON line.")
@click.option("--turns", is_flag=True, help="Flux (/v2/listen): print the speaker's turns as they end.")
@click.option("--model", help="Deepgram model name (default: nova-3, or flux-general-en with --turns).")
@click.option("--language", help="BCP-47 language, e.g. en.")
@click.option("--interim-results/--no-interim-results", default=True, show_default=True, help="Show hypotheses.")
@click.option("--smart-format/--no-smart-format", default=True, show_default=True, help="Formatted text.")
@click.option("--punctuate/--no-punctuate", default=True, show_default=True, help="Punctuation and capitals.")
@click.option("--endpointing", type=click.IntRange(min=0), metavar="MS", help="Silence that ends an utterance.")
@click.option("--utterance-end-ms", type=click.IntRange(min=0), metavar="MS", help="Send UtteranceEnd after a gap.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Pace multiplier for a file: 2 sends it twice as fast as real time.",
)
def stream(
    file: Path | None,
    mic: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    turns: bool,
    speed: float,
    **params: Any,
) -> None:
    """Transcribe FILE, streamed at real-time pace, or the microphone, printing the text as it is recognized.

    Without --url the embedded engine runs in-process, set up by the OPENLISTEN_* environment variables
    (OPENLISTEN_MODEL, OPENLISTEN_DEVICE, …).
    """
    if (file is None) != mic:
        raise click.UsageError("give a FILE or --mic (not both)")
    params = {k: v for k, v in params.items() if v is not None}
    if turns:  # Flux takes none of v1's transcript options: turns come punctuated
        params = {"model": params.get("model", "flux-general-en")}
    params.setdefault("model", "nova-3")
    params.update(encoding="linear16", sample_rate=_SAMPLE_RATE)
    ws_url = _ws_url(url) if url else None
    chunks = _paced(_read_file(file), speed) if file is not None else _microphone(_open_microphone())
    printer: TerminalPrinter | TurnPrinter = TurnPrinter() if turns else TerminalPrinter()
    emit: Emit = _print_json if as_json else printer
    try:
        if ws_url:
            asyncio.run(_via_server(ws_url, api_key or _NO_KEY, params, chunks, emit, flux=turns))
        else:
            asyncio.run(_in_process(params, chunks, emit, flux=turns))
    finally:
        printer.end_line()


# Output.


class TerminalPrinter:
    """Prints Results on one terminal line: interims overwrite it, finals stay, speech_final ends it.

    Unlike the seed, a final without speech_final is kept on the line (the next interim goes after it
    instead of over it): spec/listen-v1.md §5.6, a final is never revised.
    """

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self._echo = echo or (lambda text: click.echo(text, nl=False))
        self._final = ""  # the finals of the current line
        self._shown = ""  # what the terminal line shows now

    def __call__(self, message: Message) -> None:
        if message.get("type") == "Results":
            self._results(message)
        elif message.get("type") == "UtteranceEnd":
            self.end_line()

    def end_line(self) -> None:
        """Show the finals alone and, if there are any, start a new line."""
        self._show(self._final)
        if self._final:
            self._echo("\n")
        self._final = self._shown = ""

    def _results(self, message: Message) -> None:
        alternatives = (message.get("channel") or {}).get("alternatives") or [{}]
        text = alternatives[0].get("transcript") or ""
        if message.get("is_final"):
            self._final = _join(self._final, text)
            if message.get("speech_final"):
                self.end_line()
            else:
                self._show(self._final)
        elif text:
            self._show(_join(self._final, text))

    def _show(self, text: str) -> None:
        if text != self._shown:
            pad = " " * max(0, len(self._shown) - len(text))  # blanks over the rest of a longer interim
            self._echo(f"\r{text}{pad}")
            self._shown = text


class TurnPrinter:
    """Prints each Flux turn on its own line as it grows, ending the line at its EndOfTurn."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self._echo = echo or (lambda text: click.echo(text, nl=False))
        self._shown = ""

    def __call__(self, message: Message) -> None:
        if message.get("type") != "TurnInfo":
            return
        text = f"[turn {message.get('turn_index')}] {message.get('transcript') or ''}"
        if message.get("event") == "EndOfTurn":
            self._show(f"{text}  ({message.get('trigger')}, {message.get('end_of_turn_confidence', 0):.2f})")
            self.end_line()
        else:
            self._show(text)

    def end_line(self) -> None:
        if self._shown:
            self._echo("\n")
        self._shown = ""

    def _show(self, text: str) -> None:
        if text != self._shown:
            pad = " " * max(0, len(self._shown) - len(text))
            self._echo(f"\r{text}{pad}")
            self._shown = text


def _join(done: str, more: str) -> str:
    return f"{done} {more}" if done and more else done or more


def _print_json(message: Message) -> None:
    click.echo(json.dumps(message))


# Input: 100 ms pieces of 16 kHz linear16.


def _read_file(path: Path) -> npt.NDArray[np.int16]:
    """The whole file, decoded and mixed to mono (any format FFmpeg reads)."""
    from openlisten.audio import decode_audio

    try:
        samples = decode_audio(path.read_bytes()).mixed()
    except OpenListenError as exc:
        raise click.ClickException(f"{path}: {exc.message}") from exc
    return np.asarray(np.clip(samples, -1.0, 1.0) * 32767, dtype="<i2")


async def _paced(samples: npt.NDArray[np.int16], speed: float) -> AsyncIterator[bytes]:
    """The samples in pieces, each when its audio would have been captured (at `speed` times real time)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for offset in range(0, len(samples), _CHUNK_SAMPLES):
        yield samples[offset : offset + _CHUNK_SAMPLES].tobytes()
        due = start + min(offset + _CHUNK_SAMPLES, len(samples)) / _SAMPLE_RATE / speed
        await asyncio.sleep(max(0.0, due - loop.time()))


def _open_microphone() -> Any:
    """The ``sounddevice`` module, or a clean error where there is no microphone support."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the package is there but the PortAudio library is not
        raise click.ClickException(
            f"no microphone support on this machine ({exc}); "
            "install the sounddevice package and the PortAudio library (Debian: libportaudio2)"
        ) from exc
    try:
        sounddevice.check_input_settings(channels=1, samplerate=_SAMPLE_RATE, dtype="int16")
    except Exception as exc:  # sounddevice raises PortAudioError or ValueError for a missing device
        raise click.ClickException(f"no microphone found: {exc}") from exc
    return sounddevice


async def _microphone(sounddevice: Any) -> AsyncIterator[bytes]:
    """Microphone pieces until Ctrl-C (which then ends the stream cleanly, so the last finals arrive)."""
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[bytes | None] = asyncio.Queue()
    loop.add_signal_handler(signal.SIGINT, pieces.put_nowait, None)

    def captured(data: Any, frames: int, time: Any, status: Any) -> None:
        loop.call_soon_threadsafe(pieces.put_nowait, bytes(data))

    with sounddevice.RawInputStream(
        samplerate=_SAMPLE_RATE, channels=1, dtype="int16", blocksize=_CHUNK_SAMPLES, callback=captured
    ):
        while (piece := await pieces.get()) is not None:
            yield piece
    loop.remove_signal_handler(signal.SIGINT)


# Transports: where the pieces go and where the messages come from.


def _ws_url(url: str) -> str:
    """The WebSocket base for a server URL: http → ws, https → wss, no trailing slash (spec §1.1)."""
    scheme, sep, rest = url.rstrip("/").partition("://")
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if not sep or scheme.lower() not in schemes:
        raise click.BadParameter(f"expected http://HOST:PORT or https://…, got {url!r}", param_hint="--url")
    return f"{schemes[scheme.lower()]}://{rest}"


async def _via_server(
    ws_url: str, api_key: str, params: Message, chunks: AsyncIterator[bytes], emit: Emit, *, flux: bool = False
) -> None:
    """Stream through the official SDK, as any Deepgram client would (``listen.v2`` for Flux)."""
    from deepgram import AsyncDeepgramClient
    from deepgram.core.api_error import ApiError
    from deepgram.environment import DeepgramClientEnvironment
    from websockets.exceptions import ConnectionClosedError

    http_url = "http" + ws_url[len("ws") :]
    environment = DeepgramClientEnvironment(base=http_url, production=ws_url, agent=ws_url, agent_rest=http_url)
    client = AsyncDeepgramClient(api_key=api_key, environment=environment)
    try:
        listen = client.listen.v2 if flux else client.listen.v1
        async with listen.connect(**params) as connection:

            async def send() -> None:
                async for piece in chunks:
                    await connection.send_media(piece)
                await connection.send_close_stream()

            async with _alongside(send()):
                async for message in connection:
                    if message is not None and not isinstance(message, bytes):
                        emit(message.dict())
    except ApiError as exc:
        raise click.ClickException(f"the server refused the stream (HTTP {exc.status_code}): {_refusal(exc)}") from exc
    except ConnectionClosedError as exc:
        code, reason = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "the connection was lost")
        raise click.ClickException(f"the server closed the stream: {code} {reason}") from exc
    except OSError as exc:
        raise click.ClickException(f"could not connect to {http_url}: {exc}") from exc


def _refusal(exc: Any) -> str:
    """Why the handshake was refused: the server's ``dg-error`` header (spec §5.1), else the SDK's text."""
    refused = exc.__context__  # the websockets exception the SDK replaced with its own
    headers = getattr(refused, "headers", None) or getattr(getattr(refused, "response", None), "headers", None)
    return (headers.get("dg-error") if headers else None) or str(exc.body)


async def _in_process(params: Message, chunks: AsyncIterator[bytes], emit: Emit, *, flux: bool = False) -> None:
    """Drive a live session in this process (`openlisten.stream`, or `openlisten.stream_turns` for Flux): what
    WebSocket ``/v1/listen`` (``/v2/listen``) does."""
    from openlisten.embedded import stream, stream_turns

    try:
        async for message in (stream_turns if flux else stream)(chunks, **params):
            emit(message.model_dump(mode="json", exclude_none=True))
    except OpenListenError as exc:
        raise click.ClickException(exc.message) from exc


@contextlib.asynccontextmanager
async def _alongside(sending: Any) -> AsyncIterator[None]:
    """Run the sender while the body reads messages; its error, if any, is raised when the body ends."""
    task = asyncio.ensure_future(sending)
    try:
        yield
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
