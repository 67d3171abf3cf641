"""Flux benchmark: how fast and how rightly ``/v2/listen`` ends turns, N streams at once, against a silence timer.

The server runs in its own process. Each stream is a conversation's user side, built from the clips of an
eval-public set: every clip is one turn (its quiet edges trimmed), turns are `TURN_GAP_S` apart (the agent
speaking), and every turn of one sentence and 3 s or more has a `HESITATION_S` pause inserted inside it, at
its quietest moment near the middle (between two words): the speaker pauses but has not finished. Streams go
through the official SDK at real-time pace, 80 ms per message, with ``eager_eot_threshold`` set, then
CloseStream.

Measured on each true end of a turn (the end of its last word):

- end of speech → ``EndOfTurn``: arrival of the EndOfTurn whose last word is the turn's last minus the
  moment that audio was sent; → ``EagerEndOfTurn`` likewise; and → ``EndOfTurn`` at the turns that end a
  sentence (their clip's text ends in ".", "?" or "!"): many clips of read speech stop mid-sentence ("…in
  the Exhibition"), where a listener, and a turn model, rightly waits longer;
- hesitation ends: turns ended at an inserted hesitation (the speaker was only thinking), per hesitation;
- inner ends: turns ended inside a clip at its own pauses, per turn (in read speech these are often the
  ends of sentences, where ending the turn is no mistake: both are shown, for both detectors);
- missed ends: turns that no EndOfTurn ended (merged with the next);
- resumed: TurnResumed per EagerEndOfTurn;
- WER of the EndOfTurn transcripts against the clips' texts.

The baseline, on the same audio in the same run: a 700 ms silence timer on the same voice detector
(Silero), which ends a turn 700 ms into any pause: its latency and its false ends.

    .venv/bin/python bench/flux.py [--sessions 1,4,8] [--turns 12] [--set pub_read]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from deepgram import AsyncDeepgramClient
from deepgram.core.events import EventType
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v2.types import ListenV2TurnInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.live import KEY, errors, free_port, load_clips, percentile, start_server, trimmed  # noqa: E402
from openlisten.audio import SAMPLE_RATE  # noqa: E402
from openlisten.engine.vad import FRAME_SAMPLES, SileroDetector  # noqa: E402

#: Silence between two turns: the agent's reply.
TURN_GAP_S = 3.0
#: A pause inside a turn: the speaker thinking, not finished.
HESITATION_S = 1.0
#: The baseline's silence timer.
TIMER_S = 0.7
#: Audio per message (Deepgram recommends about 80 ms for Flux).
FRAME_S = 0.08
EAGER = 0.5


@dataclass
class Turn:
    start_s: float
    end_s: float
    text: str
    hesitation: tuple[float, float] | None = None

    @property
    def ends_sentence(self) -> bool:
        return self.text.rstrip().endswith((".", "?", "!"))


@dataclass
class Conversation:
    samples: np.ndarray
    turns: list[Turn]

    @property
    def pcm(self) -> bytes:
        return (np.clip(self.samples, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class Record:
    conversation: Conversation
    #: (seconds of audio sent when it arrived, message)
    received: list[tuple[float, ListenV2TurnInfo]] = field(default_factory=list)
    error: str | None = None


def quietest_cut(samples: np.ndarray) -> int:
    """A cut between two words near the middle: the quietest 20 ms of the middle 40 %."""
    step = SAMPLE_RATE // 50
    low, high = int(len(samples) * 0.3), int(len(samples) * 0.7)
    energies = [(float(np.abs(samples[i : i + step]).mean()), i) for i in range(low, max(low + 1, high - step), step)]
    return min(energies)[1] + step // 2


def conversation(clips: list[tuple[np.ndarray, str]], first: int, count: int) -> Conversation:
    pieces: list[np.ndarray] = [np.zeros(int(SAMPLE_RATE * 1.0), dtype=np.float32)]
    position = 1.0
    turns = []
    for k in range(count):
        samples, text = clips[(first + k) % len(clips)]
        samples = trimmed(samples)
        start = position
        hesitation = None
        one_sentence = not any(mark in text.rstrip(".!?") for mark in ".!?")  # a pause inside is no sentence end
        if one_sentence and len(samples) > 3 * SAMPLE_RATE:
            cut = quietest_cut(samples)
            gap = np.zeros(int(HESITATION_S * SAMPLE_RATE), dtype=np.float32)
            hesitation = (start + cut / SAMPLE_RATE, start + cut / SAMPLE_RATE + HESITATION_S)
            samples = np.concatenate([samples[:cut], gap, samples[cut:]])
        position += len(samples) / SAMPLE_RATE
        turns.append(Turn(start, position, text, hesitation))
        pieces += [samples, np.zeros(int(TURN_GAP_S * SAMPLE_RATE), dtype=np.float32)]
        position += TURN_GAP_S
    return Conversation(np.concatenate(pieces).astype(np.float32), turns)


async def stream(client: AsyncDeepgramClient, record: Record, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    pcm = record.conversation.pcm
    step = int(SAMPLE_RATE * FRAME_S) * 2
    try:
        params: dict[str, Any] = {"model": "flux-general-en", "encoding": "linear16", "sample_rate": "16000"}
        async with client.listen.v2.connect(**params, eager_eot_threshold=str(EAGER)) as connection:
            started = time.monotonic()

            def on_message(message: Any) -> None:
                if isinstance(message, ListenV2TurnInfo):
                    record.received.append((time.monotonic() - started, message))

            connection.on(EventType.MESSAGE, on_message)
            listener = asyncio.create_task(connection.start_listening())
            for k, offset in enumerate(range(0, len(pcm), step)):
                await asyncio.sleep(max(0.0, started + k * FRAME_S - time.monotonic()))
                await connection.send_media(pcm[offset : offset + step])
            await connection.send_close_stream()
            await asyncio.wait_for(listener, 60)
    except Exception as exc:  # a benchmark reports failures, it does not stop on them
        record.error = f"{type(exc).__name__}: {exc}"


@dataclass
class Outcome:
    eot: list[float] = field(default_factory=list)
    #: The same, at the turns that end a sentence.
    eot_sentence: list[float] = field(default_factory=list)
    eager: list[float] = field(default_factory=list)
    #: Turns ended at an inserted hesitation (the speaker was only thinking), and hesitations in all.
    hesitation_ends: int = 0
    hesitations: int = 0
    #: Turns ended inside a clip elsewhere: at the clip's own pauses (in read speech, often a sentence end).
    inner_ends: int = 0
    missed: int = 0
    turns: int = 0
    eagers: int = 0
    resumed: int = 0
    wers: list[float] = field(default_factory=list)


#: How far a turn's last word may be from the true end of its speech and still be its end (word times
#: are the recognizer's, a little off the true ones).
TOLERANCE_S = 0.5


def attribute(turns: list[Turn], last_word_s: float) -> tuple[int, bool] | None:
    """Which turn an end whose last word ends at `last_word_s` belongs to, and whether it is the turn's true
    end (else the turn was cut while its speaker only paused)."""
    for index, turn in enumerate(turns):
        if turn.start_s - TOLERANCE_S <= last_word_s <= turn.end_s + TOLERANCE_S:
            return index, last_word_s >= turn.end_s - TOLERANCE_S
    return None


def tally(outcome: Outcome, turns: list[Turn], ends: list[tuple[float, float]]) -> None:
    """Add to `outcome` the ends (arrival, last word's end) of one stream."""
    ended: set[int] = set()
    for arrival, last_word_s in ends:
        found = attribute(turns, last_word_s)
        if found is None:
            continue
        index, true_end = found
        hesitation = turns[index].hesitation
        if not true_end:
            at_hesitation = hesitation is not None and abs(last_word_s - hesitation[0]) <= TOLERANCE_S
            if at_hesitation:
                outcome.hesitation_ends += 1
            else:
                outcome.inner_ends += 1
        elif index not in ended:
            ended.add(index)
            outcome.eot.append(arrival - turns[index].end_s)
            if turns[index].ends_sentence:
                outcome.eot_sentence.append(arrival - turns[index].end_s)
    outcome.turns += len(turns)
    outcome.hesitations += sum(1 for turn in turns if turn.hesitation)
    outcome.missed += len(turns) - len(ended)


def ends_of(record: Record, event: str) -> list[tuple[float, float]]:
    """(arrival, end of the last word) of each `event` a stream received."""
    return [(at, m.words[-1].end or 0.0) for at, m in record.received if m.event == event and m.words]


def judge(records: list[Record]) -> Outcome:
    outcome = Outcome()
    for record in records:
        turns = record.conversation.turns

        tally(outcome, turns, ends_of(record, "EndOfTurn"))
        for arrival, last_word_s in ends_of(record, "EagerEndOfTurn"):
            found = attribute(turns, last_word_s)
            if found is not None and found[1]:
                outcome.eager.append(arrival - turns[found[0]].end_s)
        outcome.eagers += len(ends_of(record, "EagerEndOfTurn"))
        outcome.resumed += sum(1 for _, m in record.received if m.event == "TurnResumed")
        reference = " ".join(turn.text for turn in turns)
        spoken = " ".join(m.transcript for _, m in record.received if m.event == "EndOfTurn")
        outcome.wers.append(errors(reference, spoken).wer)
    return outcome


def silence_timer(conversation: Conversation) -> Outcome:
    """A 700 ms silence timer on Silero's frames: where it would end turns, judged like the server."""
    detector = SileroDetector()
    samples = conversation.samples
    count = len(samples) // FRAME_SAMPLES
    probabilities = detector.probabilities(samples[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES))
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    ends, silent, speaking = [], 0.0, False
    for index, probability in enumerate(probabilities):
        if probability >= 0.5:
            speaking, silent = True, 0.0
        elif speaking:
            silent += frame_s
            if silent >= TIMER_S:
                fired = (index + 1) * frame_s
                ends.append((fired, fired - TIMER_S))  # it fires 700 ms after the last speech it heard
                speaking = False
    outcome = Outcome()
    tally(outcome, conversation.turns, ends)
    return outcome


def row(outcome: Outcome, resumed: str = "-", wer: str = "-") -> str:
    eot = f"{percentile(outcome.eot, 50):.2f}/{percentile(outcome.eot, 95):.2f}"
    sentence = f"{percentile(outcome.eot_sentence, 50):.2f}/{percentile(outcome.eot_sentence, 95):.2f}"
    eager = f"{percentile(outcome.eager, 50):.2f}/{percentile(outcome.eager, 95):.2f}" if outcome.eager else "-"
    hesitations = f"{outcome.hesitation_ends}/{outcome.hesitations}"
    return (
        f"{eot:>22} {sentence:>18} {eager:>18} {hesitations:>15} {outcome.inner_ends / outcome.turns:>15.2f}"
        f" {outcome.missed / outcome.turns:>7.2f} {resumed:>13} {wer:>15}"
    )


async def run_level(url: str, conversations: list[Conversation], count: int) -> list[Record]:
    environment = DeepgramClientEnvironment(base=url, production="ws" + url[4:], agent="ws" + url[4:], agent_rest=url)
    client = AsyncDeepgramClient(api_key=KEY, environment=environment)
    records = [Record(conversations[i]) for i in range(count)]
    rng = random.Random(count)
    await asyncio.gather(*(stream(client, r, rng.uniform(0, 1.0)) for r in records))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,4,8", help="comma-separated stream counts")
    parser.add_argument("--turns", type=int, default=12, help="turns per stream")
    parser.add_argument("--set", default="pub_read", help="eval-public manifest of the clips")
    parser.add_argument("--url", help="a running server (key bench-key) instead of starting one")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]
    clips = load_clips(args.set)
    conversations = [conversation(clips, 3 * i, args.turns) for i in range(max(levels))]
    seconds = len(conversations[0].samples) / SAMPLE_RATE
    hesitations = sum(1 for turn in conversations[0].turns if turn.hesitation)
    print(f"{args.turns} turns ({hesitations} with a {HESITATION_S:.1f} s hesitation) in {seconds:.0f} s per stream")

    baseline = Outcome()
    for conv in conversations[: max(levels)]:
        timed = silence_timer(conv)
        baseline.eot += timed.eot
        baseline.eot_sentence += timed.eot_sentence
        baseline.hesitation_ends += timed.hesitation_ends
        baseline.hesitations += timed.hesitations
        baseline.inner_ends += timed.inner_ends
        baseline.missed += timed.missed
        baseline.turns += timed.turns
    process = None
    url = args.url
    if url is None:
        port = free_port()
        process = start_server(port, max(levels))
        url = f"http://127.0.0.1:{port}"
    print(
        f"{'N':>12} {'eos→EndOfTurn p50/p95':>22} {'at sentence ends':>18} {'eos→Eager p50/p95':>18}"
        f" {'hesitation ends':>15} {'inner ends/turn':>15} {'missed':>7} {'resumed/eager':>13} {'WER mean/worst':>15}",
        flush=True,
    )
    print(f"{'700 ms timer':>12} {row(baseline)}   (baseline, the same audio)", flush=True)
    try:
        warm_up = conversation(clips, 0, 1)
        asyncio.run(run_level(url, [warm_up], 1))  # loads the recognizer, the voice detector and the turn model
        for count in levels:
            records = asyncio.run(run_level(url, conversations, count))
            failures = [r.error for r in records if r.error]
            outcome = judge(records)
            resumed = f"{outcome.resumed}/{outcome.eagers}"
            wer = f"{np.mean(outcome.wers):.2f}/{max(outcome.wers):.2f}"
            print(
                f"{count:>12} {row(outcome, resumed, wer)}{'  errors: ' + '; '.join(failures[:2]) if failures else ''}",
                flush=True,
            )
            ratio = percentile(outcome.eot, 50) / percentile(baseline.eot, 50)
            print(f"{'':>12} p50 latency ×{ratio:.2f} the timer's", flush=True)
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
