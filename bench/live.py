"""Live benchmark: N concurrent sessions stream real speech at real-time pace through the official SDK.

The server runs in its own process (as in production; the clients would otherwise share its GIL). Each
session streams a different rotation of the clips of an eval-public set (16 kHz linear16, 100 ms frames,
on a fixed real-time schedule) with ``interim_results`` and ``punctuate``, then CloseStream. Measured as
Deepgram defines it:

- transcript latency: seconds of audio sent when a Results arrives minus that Results' start+duration
  (Results with words);
- end of speech → speech_final: arrival of a ``speech_final`` Results minus the moment the audio of its
  last word's end was sent (includes the endpointing silence);
- final latency: the transcript latency of finals only (is the final transcript keeping up?);
- interim cadence: seconds of a session's audio per interim Results it gets (interims thin out under load);
- WER of the concatenated finals against the prerecorded transcript of the same audio (same server
  code and model, in this process) and against the reference texts.

Sessions are real-time when the speakers get their finals in time: the p95 of end of speech →
speech_final stays under ``--realtime-limit``.

    .venv/bin/python bench/live.py [--sessions 1,2,4,8,16] [--seconds 60] [--set pub_read]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jiwer
import numpy as np
from deepgram import AsyncDeepgramClient
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.types import ListenV1Results

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openlisten.audio import SAMPLE_RATE, decode_audio  # noqa: E402
from openlisten.config import Settings  # noqa: E402
from openlisten.options import ListenOptions  # noqa: E402
from openlisten.transcriber import Transcriber  # noqa: E402
from tests.conftest import EVAL, words_of  # noqa: E402

KEY = "bench-key"
#: Audio per message: 100 ms, as the SDK examples send.
FRAME_S = 0.1
#: Silence between two clips of a session's audio.
GAP_S = 0.8


@dataclass
class SessionAudio:
    samples: np.ndarray
    reference: str
    prerecorded: str = ""

    @property
    def pcm(self) -> bytes:
        return (np.clip(self.samples, -1, 1) * 32767).astype("<i2").tobytes()

    @property
    def wav(self) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(SAMPLE_RATE)
            writer.writeframes(self.pcm)
        return buffer.getvalue()


@dataclass
class SessionRecord:
    audio: SessionAudio
    started: float = 0.0
    sent_s: float = 0.0
    #: (arrival time, seconds sent by then, message)
    received: list[tuple[float, float, ListenV1Results]] = field(default_factory=list)
    error: str | None = None


def load_clips(name: str) -> list[tuple[np.ndarray, str]]:
    path = EVAL / "manifests" / f"{name}.jsonl"
    clips = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        audio = decode_audio((path.parent / entry["audio"]).read_bytes())
        clips.append((audio.mixed(), entry["text"]))
    return clips


def session_audio(clips: list[tuple[np.ndarray, str]], index: int, seconds: float) -> SessionAudio:
    """Whole clips, starting at clip `index`, until `seconds` are reached."""
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    pieces, texts, total = [], [], 0.0
    k = index
    while total < seconds:
        samples, text = clips[k % len(clips)]
        pieces += [samples, gap]
        texts.append(text)
        total += len(samples) / SAMPLE_RATE + GAP_S
        k += 1
    return SessionAudio(np.concatenate(pieces).astype(np.float32), " ".join(texts))


def start_server(port: int, sessions: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENLISTEN_MAX_LIVE_SESSIONS": str(max(sessions, 1) * 2)}
    command = [sys.executable, "-c", "from openlisten.cli import main; main()", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--api-key", KEY], env=env, cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the server did not start")


async def stream(client: AsyncDeepgramClient, record: SessionRecord, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    pcm = record.audio.pcm
    step = int(FRAME_S * SAMPLE_RATE) * 2
    try:
        async with client.listen.v1.connect(
            model="nova-3", encoding="linear16", sample_rate=SAMPLE_RATE, interim_results=True, punctuate=True
        ) as conn:

            async def send() -> None:
                record.started = time.monotonic()
                for k, offset in enumerate(range(0, len(pcm), step)):
                    await asyncio.sleep(max(0.0, record.started + k * FRAME_S - time.monotonic()))
                    await conn.send_media(pcm[offset : offset + step])
                    record.sent_s = min(len(pcm), offset + step) / 2 / SAMPLE_RATE
                await conn.send_close_stream()

            sender = asyncio.create_task(send())
            async for message in conn:
                if isinstance(message, ListenV1Results):
                    record.received.append((time.monotonic(), record.sent_s, message))
            await sender
    except Exception as exc:  # a benchmark reports failures rather than dying
        record.error = f"{type(exc).__name__}: {exc}"


def words_in(message: ListenV1Results) -> list[object]:
    return list(message.channel.alternatives[0].words or [])


def measure(records: list[SessionRecord]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"transcript": [], "final": [], "eos": []}
    for record in records:
        for arrival, sent_s, message in record.received:
            words = words_in(message)
            if words:
                lag = sent_s - (message.start + message.duration)
                found["transcript"].append(lag)
                if message.is_final:
                    found["final"].append(lag)
            if message.speech_final and words:
                found["eos"].append(arrival - (record.started + words[-1].end))  # type: ignore[attr-defined]
    return found


def cadence(records: list[SessionRecord], seconds: float) -> float:
    """Seconds of audio per interim, over every session."""
    interims = sum(1 for record in records for _, _, message in record.received if not message.is_final)
    return len(records) * seconds / interims if interims else float("inf")


def finals_text(record: SessionRecord) -> str:
    return " ".join(m.channel.alternatives[0].transcript for _, _, m in record.received if m.is_final)


def wer(references: list[str], hypotheses: list[str]) -> float:
    return 100 * float(
        jiwer.wer([" ".join(words_of(r)) for r in references], [" ".join(words_of(h)) for h in hypotheses])
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_level(url: str, audios: list[SessionAudio], count: int) -> list[SessionRecord]:
    environment = DeepgramClientEnvironment(base=url, production="ws" + url[4:], agent="ws" + url[4:], agent_rest=url)
    client = AsyncDeepgramClient(api_key=KEY, environment=environment)
    records = [SessionRecord(audios[i]) for i in range(count)]
    rng = random.Random(count)
    await asyncio.gather(*(stream(client, r, rng.uniform(0, 1.0)) for r in records))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,2,4,8,16", help="comma-separated session counts")
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per session")
    parser.add_argument("--set", default="pub_read", help="eval-public manifest of the clips")
    parser.add_argument(
        "--realtime-limit", type=float, default=2.0, help="p95 end of speech → speech_final that counts as real-time"
    )
    parser.add_argument("--url", help="a running server (key bench-key) instead of starting one")
    parser.add_argument("--show", action="store_true", help="print each session's live and prerecorded text")
    parser.add_argument("--dump", type=Path, help="write every Results received to this JSON file")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]

    clips = load_clips(args.set)
    audios = [session_audio(clips, i, args.seconds) for i in range(max(levels))]
    transcriber = Transcriber(Settings())
    for audio in audios:
        audio.prerecorded = transcriber.transcribe(audio.wav, ListenOptions(punctuate=True)).results[0].transcript
    del transcriber

    process = None
    url = args.url
    if url is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = start_server(port, max(levels))
        url = f"http://127.0.0.1:{port}"
    print(f"{args.seconds:.0f} s of {args.set} per session; cpu count {os.cpu_count()}", flush=True)
    header = (
        f"{'N':>3} {'transcript p50/p95':>19} {'final p50/p95':>14} {'eos→speech_final':>17} {'interim every':>13}"
        f" {'WER live/pre/ref':>17} {'live-vs-pre':>11} realtime"
    )
    print(header, flush=True)
    realtime_max = 0
    try:
        warm_up = SessionAudio(audios[0].samples[: 5 * SAMPLE_RATE], "")
        asyncio.run(run_level(url, [warm_up], 1))  # loads the model and the VAD
        for count in levels:
            records = asyncio.run(run_level(url, audios, count))
            errors = [r.error for r in records if r.error]
            m = measure(records)
            live = [finals_text(r) for r in records]
            pre = [r.audio.prerecorded for r in records]
            refs = [r.audio.reference for r in records]
            if args.dump:
                dump = [[{"at": a - r.started, "sent": s, **m.dict()} for a, s, m in r.received] for r in records]
                args.dump.write_text(json.dumps(dump, default=str))
            if args.show:
                for record, text in zip(records, live, strict=True):
                    print(f"  live: {text}\n  pre:  {record.audio.prerecorded}")
            realtime = not errors and percentile(m["eos"], 95) <= args.realtime_limit
            if realtime:
                realtime_max = max(realtime_max, count)
            print(
                f"{count:>3} {percentile(m['transcript'], 50):>8.2f}/{percentile(m['transcript'], 95):<5.2f}     "
                f"{percentile(m['final'], 50):>6.2f}/{percentile(m['final'], 95):<5.2f}  "
                f"{percentile(m['eos'], 50):>8.2f}/{percentile(m['eos'], 95):<5.2f}   "
                f"{cadence(records, args.seconds):>8.2f} s    "
                f"{wer(refs, live):>5.2f}/{wer(refs, pre):.2f}/ref  {wer(pre, live):>8.2f}    "
                f"{'yes' if realtime else 'NO'}{'  errors: ' + '; '.join(errors[:2]) if errors else ''}",
                flush=True,
            )
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
    limit = args.realtime_limit
    print(f"largest N whose finals stay real-time (p95 end of speech → speech_final <= {limit} s): {realtime_max}")


if __name__ == "__main__":
    main()
