"""Live benchmark: N concurrent sessions stream real speech at real-time pace through the official SDK.

The server runs in its own process (as in production; the clients would otherwise share its GIL). Each
session streams a different rotation of the clips of an eval-public set (16 kHz linear16, 100 ms frames,
on a fixed real-time schedule) with ``interim_results`` and ``punctuate``, then CloseStream. Two kinds of
audio, each its own table:

- ``paused``: the clips with `GAP_S` of silence between them, and a ``Finalize`` sent at the start of
  each pause, or ``--finalize-delay`` seconds into it, as a voice agent (Pipecat) does when its own VAD has
  heard silence for its ``stop_secs`` (0.2-0.8 s);
- ``continuous``: the clips with their leading and trailing silence trimmed and joined with
  `JOIN_S` between them, no pause longer than a comma: every final is confirmed while the speaker talks.

Measured as Deepgram defines it:

- transcript latency: seconds of audio sent when a Results arrives minus that Results' start+duration
  (Results with words);
- end of speech → speech_final: arrival of a ``speech_final`` Results minus the moment the audio of its
  last word's end was sent (includes the endpointing silence);
- final latency: the transcript latency of finals only (is the final transcript keeping up?);
- interims per minute of audio (interims thin out under load);
- WER of the concatenated finals of each stream against the reference texts, with its insertions and
  deletions apart (a word repeated in two finals is an insertion, a word in none a deletion), next to
  the prerecorded WER of the same audio (same server code and model, in this process);
- Finalize answer: arrival of the ``from_finalize`` Results minus the moment its Finalize was sent.

Sessions are real-time when the speakers get their finals in time: the p95 of end of speech →
speech_final stays under ``--realtime-limit``.

    .venv/bin/python bench/live.py [--sessions 1,2,4,8,16] [--seconds 60] [--set pub_read] [--audio both]
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
from openlisten.options import ListenOptions  # noqa: E402
from openlisten.transcriber import Transcriber  # noqa: E402
from tests.conftest import EVAL, words_of  # noqa: E402

KEY = "bench-key"
#: Audio per message: 100 ms, as the SDK examples send.
FRAME_S = 0.1
#: Silence between two clips of a session's audio (``paused``).
GAP_S = 0.8
#: Silence between two clips of ``continuous`` audio: a comma's pause, shorter than any endpoint.
JOIN_S = 0.1
#: A clip's edges quieter than this (peak amplitude over 20 ms) are trimmed for ``continuous`` audio.
TRIM_LEVEL = 0.02


@dataclass
class SessionAudio:
    samples: np.ndarray
    reference: str
    prerecorded: str = ""
    #: Seconds into the audio where a Finalize is sent (the start of each pause).
    finalize_at: list[float] = field(default_factory=list)

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
    #: When each Finalize was sent (monotonic).
    finalized: list[float] = field(default_factory=list)
    error: str | None = None


def load_clips(name: str) -> list[tuple[np.ndarray, str]]:
    path = EVAL / "manifests" / f"{name}.jsonl"
    clips = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        audio = decode_audio((path.parent / entry["audio"]).read_bytes())
        clips.append((audio.mixed(), entry["text"]))
    return clips


def trimmed(samples: np.ndarray) -> np.ndarray:
    """`samples` without their quiet head and tail."""
    step = SAMPLE_RATE // 50
    loud = [i for i in range(0, len(samples), step) if np.abs(samples[i : i + step]).max() >= TRIM_LEVEL]
    return samples[loud[0] : loud[-1] + step] if loud else samples


def session_audio(
    clips: list[tuple[np.ndarray, str]], index: int, seconds: float, kind: str, finalize_delay_s: float = 0.0
) -> SessionAudio:
    """Whole clips, starting at clip `index`, until `seconds` are reached, paused or continuous."""
    continuous = kind == "continuous"
    gap = np.zeros(int((JOIN_S if continuous else GAP_S) * SAMPLE_RATE), dtype=np.float32)
    pieces, texts, finalize_at, total = [], [], [], 0.0
    k = index
    while total < seconds:
        samples, text = clips[k % len(clips)]
        samples = trimmed(samples) if continuous else samples
        pieces += [samples, gap]
        texts.append(text)
        total += len(samples) / SAMPLE_RATE
        if not continuous:
            finalize_at.append(total + finalize_delay_s)
        total += len(gap) / SAMPLE_RATE
        k += 1
    return SessionAudio(np.concatenate(pieces).astype(np.float32), " ".join(texts), finalize_at=finalize_at)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
                finalize_at = list(record.audio.finalize_at)
                for k, offset in enumerate(range(0, len(pcm), step)):
                    await asyncio.sleep(max(0.0, record.started + k * FRAME_S - time.monotonic()))
                    await conn.send_media(pcm[offset : offset + step])
                    record.sent_s = min(len(pcm), offset + step) / 2 / SAMPLE_RATE
                    if finalize_at and record.sent_s >= finalize_at[0]:
                        finalize_at.pop(0)
                        record.finalized.append(time.monotonic())
                        await conn.send_finalize()
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


def finalize_answers(records: list[SessionRecord]) -> list[float]:
    """Seconds from each Finalize to the first ``from_finalize`` Results after it."""
    answers = []
    for record in records:
        arrivals = [arrival for arrival, _, message in record.received if message.from_finalize]
        for sent in record.finalized:
            later = [arrival for arrival in arrivals if arrival >= sent]
            if later:
                answers.append(later[0] - sent)
                arrivals.remove(later[0])
    return answers


def interims_per_minute(records: list[SessionRecord]) -> float:
    """Interim Results per minute of audio, over every session."""
    interims = sum(1 for record in records for _, _, message in record.received if not message.is_final)
    seconds = sum(len(record.audio.samples) / SAMPLE_RATE for record in records)
    return 60 * interims / seconds


def finals_text(record: SessionRecord) -> str:
    return " ".join(m.channel.alternatives[0].transcript for _, _, m in record.received if m.is_final)


@dataclass
class Errors:
    """Word errors of one stream against its reference, in % of the reference's words."""

    wer: float
    insertions: float
    deletions: float


def errors(reference: str, hypothesis: str) -> Errors:
    measured = jiwer.process_words(" ".join(words_of(reference)), " ".join(words_of(hypothesis)) or "<none>")
    count = max(1, measured.hits + measured.substitutions + measured.deletions)
    return Errors(100 * measured.wer, 100 * measured.insertions / count, 100 * measured.deletions / count)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_level(url: str, audios: list[SessionAudio], count: int) -> list[SessionRecord]:
    environment = DeepgramClientEnvironment(base=url, production="ws" + url[4:], agent="ws" + url[4:], agent_rest=url)
    client = AsyncDeepgramClient(api_key=KEY, environment=environment)
    records = [SessionRecord(audios[i]) for i in range(count)]
    rng = random.Random(count)
    await asyncio.gather(*(stream(client, r, rng.uniform(0, 1.0)) for r in records))
    return records


def run_table(url: str, kind: str, audios: list[SessionAudio], levels: list[int], args: argparse.Namespace) -> int:
    """One table: every level on `audios`; the largest N whose finals stay real-time."""
    seconds = min(len(audio.samples) for audio in audios) / SAMPLE_RATE
    print(f"\n{kind}: {seconds:.0f} s or more of {args.set} per session", flush=True)
    print(
        f"{'N':>3} {'transcript p50/p95':>18} {'final p50/p95':>14} {'eos→speech_final':>17} {'interims/min':>12}"
        f" {'Finalize p50/p95':>16} {'WER live mean/worst':>19} {'ins/del':>9} {'pre':>5} realtime",
        flush=True,
    )
    realtime_max = 0
    for count in levels:
        records = asyncio.run(run_level(url, audios, count))
        failures = [r.error for r in records if r.error]
        m = measure(records)
        live = [finals_text(r) for r in records]
        per_stream = [errors(r.audio.reference, text) for r, text in zip(records, live, strict=True)]
        answers = finalize_answers(records)
        if args.dump:
            dump = [[{"at": a - r.started, "sent": s, **m.dict()} for a, s, m in r.received] for r in records]
            args.dump.with_suffix(f".{kind}.{count}.json").write_text(json.dumps(dump, default=str))
        if args.show:
            for record, text in zip(records, live, strict=True):
                print(f"  live: {text}\n  pre:  {record.audio.prerecorded}")
        realtime = not failures and percentile(m["eos"], 95) <= args.realtime_limit
        if realtime:
            realtime_max = max(realtime_max, count)
        finalize = f"{percentile(answers, 50):.2f}/{percentile(answers, 95):.2f}" if answers else "-"
        pre = float(np.mean([errors(r.audio.reference, r.audio.prerecorded).wer for r in records]))
        print(
            f"{count:>3} {percentile(m['transcript'], 50):>8.2f}/{percentile(m['transcript'], 95):<5.2f}    "
            f"{percentile(m['final'], 50):>6.2f}/{percentile(m['final'], 95):<5.2f}  "
            f"{percentile(m['eos'], 50):>8.2f}/{percentile(m['eos'], 95):<5.2f}   "
            f"{interims_per_minute(records):>9.1f}    {finalize:>13}    "
            f"{np.mean([e.wer for e in per_stream]):>8.2f}/{max(e.wer for e in per_stream):<6.2f}   "
            f"{np.mean([e.insertions for e in per_stream]):>4.1f}/{np.mean([e.deletions for e in per_stream]):<4.1f} "
            f"{pre:>5.2f} {'yes' if realtime else 'NO'}{'  errors: ' + '; '.join(failures[:2]) if failures else ''}",
            flush=True,
        )
    return realtime_max


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,2,4,8,16", help="comma-separated session counts")
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per session")
    parser.add_argument("--set", default="pub_read", help="eval-public manifest of the clips")
    parser.add_argument("--audio", default="both", choices=["both", "paused", "continuous"], help="which audio")
    parser.add_argument(
        "--realtime-limit", type=float, default=2.0, help="p95 end of speech → speech_final that counts as real-time"
    )
    parser.add_argument(
        "--finalize-delay", type=float, default=0.0, help=f"seconds into each pause (< {GAP_S}) to send Finalize"
    )
    parser.add_argument("--url", help="a running server (key bench-key) instead of starting one")
    parser.add_argument("--show", action="store_true", help="print each session's live and prerecorded text")
    parser.add_argument("--dump", type=Path, help="write every Results received to JSON files named after this one")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]
    kinds = ["paused", "continuous"] if args.audio == "both" else [args.audio]

    clips = load_clips(args.set)
    audios = {
        kind: [session_audio(clips, i, args.seconds, kind, args.finalize_delay) for i in range(max(levels))]
        for kind in kinds
    }
    transcriber = Transcriber()
    for audio in (audio for per_kind in audios.values() for audio in per_kind):
        audio.prerecorded = transcriber.transcribe(audio.wav, ListenOptions(punctuate=True)).results[0].transcript
    del transcriber

    process = None
    url = args.url
    if url is None:
        port = free_port()
        process = start_server(port, max(levels))
        url = f"http://127.0.0.1:{port}"
    print(f"cpu count {os.cpu_count()}; WER in % of the reference's words, per stream; pre: prerecorded", flush=True)
    try:
        warm_up = SessionAudio(audios[kinds[0]][0].samples[: 5 * SAMPLE_RATE], "")
        asyncio.run(run_level(url, [warm_up], 1))  # loads the model and the VAD
        realtime = {kind: run_table(url, kind, audios[kind], levels, args) for kind in kinds}
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
    limit = args.realtime_limit
    for kind, count in realtime.items():
        print(f"{kind}: largest N whose finals stay real-time (p95 end of speech → speech_final <= {limit} s): {count}")


if __name__ == "__main__":
    main()
