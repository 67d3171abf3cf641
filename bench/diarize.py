"""Speaker counts on real voices: conversations of 2, 3 and 4 speakers built from eval-public's recordings.

The six real speakers of ``pub_read`` (JFK, LJSpeech's reader, LibriSpeech 2412, the Deepgram preamble
reader, the missile voice-over, the Harvard-sentences reader) are cut at word boundaries into turns of
unequal length: one-word back-channels (0.3-0.8 s), medium turns (1.5-4 s) and long ones (4-9 s), with
pauses of 0.25-0.8 s between them. Each conversation goes through the embedded API with ``diarize=true``;
the bench prints the number of speakers found against the number of voices, and the share of words given
the right speaker (under the best one-to-one mapping). It then clusters the same turns again at other
distance thresholds, to show where `SPEAKER_DISTANCE` sits on this data.

    .venv/bin/python bench/diarize.py [--conversations 6]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openlisten import transcribe  # noqa: E402
from openlisten.audio.decode import decode_audio  # noqa: E402
from openlisten.embedded import default_engine  # noqa: E402
from openlisten.features.diarize import SPEAKER_DISTANCE, diarize  # noqa: E402
from openlisten.transcript import TranscriptWord  # noqa: E402

MANIFEST = REPO.parent / "shared" / "eval-public" / "manifests" / "pub_read.jsonl"
RATE = 16_000
THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
#: (share of turns, shortest, longest seconds): back-channels, medium turns, long turns.
TURN_KINDS = ((0.25, 0.3, 0.8), (0.45, 1.5, 4.0), (0.30, 4.0, 9.0))


@dataclass
class Voice:
    name: str
    samples: np.ndarray
    words: list[tuple[float, float]]
    cursor: int = 0

    def turn(self, rng: random.Random) -> np.ndarray:
        """The next stretch of this voice, cut at word boundaries, of a randomly chosen kind of turn."""
        _, shortest, longest = rng.choices(TURN_KINDS, weights=[k[0] for k in TURN_KINDS])[0]
        target = rng.uniform(shortest, longest)
        for _ in range(len(self.words)):
            first = self.cursor % len(self.words)
            last = first
            while last + 1 < len(self.words) and self.words[last][1] - self.words[first][0] < target:
                last += 1
            span = self.words[last][1] - self.words[first][0]
            self.cursor = last + 1
            if shortest <= span <= longest * 1.3:
                start = max(0, int((self.words[first][0] - 0.05) * RATE))
                return self.samples[start : int((self.words[last][1] + 0.05) * RATE)]
        raise RuntimeError(f"{self.name}: no turn of {shortest}-{longest} s")


def speaker_of(path: str) -> str:
    for key, name in (("LJ", "ljspeech"), ("2412", "librispeech-2412"), ("jfk", "jfk"), ("missile", "missile")):
        if key in path:
            return name
    return Path(path).stem.split("-")[0]


def load_voices() -> list[Voice]:
    clips: dict[str, list[np.ndarray]] = {}
    for line in MANIFEST.read_text().splitlines():
        entry = json.loads(line)
        audio = decode_audio((MANIFEST.parent / entry["audio"]).read_bytes())
        clips.setdefault(speaker_of(entry["audio"]), []).append(audio.mixed())
    voices = []
    gap = np.zeros(int(0.3 * RATE), dtype=np.float32)
    for name, parts in clips.items():
        samples = np.concatenate([np.concatenate([part, gap]) for part in parts])
        response = transcribe(wav_bytes(samples))
        words = [(w.start, w.end) for w in response.results.channels[0].alternatives[0].words]
        voices.append(Voice(name, samples, words))
    return voices


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def conversation(voices: list[Voice], rng: random.Random) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """Turns of `voices` in random order (never one voice twice running); each voice speaks at least twice."""
    turns = rng.randint(4 * len(voices), 5 * len(voices))
    order = list(range(len(voices))) * 2
    rng.shuffle(order)
    while len(order) < turns:
        order.append(rng.choice([v for v in range(len(voices)) if v != order[-1]]))
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float, int]] = []
    at = 0.0
    for index, voice in enumerate(order):
        if index and voice == order[index - 1]:
            continue
        pause = np.zeros(int(rng.uniform(0.25, 0.8) * RATE), dtype=np.float32)
        turn = voices[voice].turn(rng)
        pieces += [pause, turn]
        at += len(pause) / RATE
        spans.append((at, at + len(turn) / RATE, voice))
        at += len(turn) / RATE
    return np.concatenate(pieces), spans


def accuracy(words: list[TranscriptWord], spans: list[tuple[float, float, int]]) -> float:
    """Share of words whose speaker is right, under the best one-to-one mapping of found to true speakers."""
    truth = []
    for word in words:
        middle = (word.start_s + word.end_s) / 2
        truth.append(min(spans, key=lambda s: max(s[0] - middle, middle - s[1], 0.0))[2])
    found = sorted({w.speaker for w in words if w.speaker is not None})
    voices = sorted(set(truth))
    best = 0
    for mapping in itertools.permutations(voices + [-1] * max(0, len(found) - len(voices)), len(found)):
        assigned = dict(zip(found, mapping, strict=True))
        best = max(best, sum(assigned[w.speaker] == t for w, t in zip(words, truth, strict=True)))
    return best / max(1, len(words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=6, help="per number of voices")
    args = parser.parse_args()
    voices = load_voices()
    embedder = default_engine().models.speaker_encoder()
    print(f"voices: {', '.join(v.name for v in voices)}; SPEAKER_DISTANCE = {SPEAKER_DISTANCE}")
    print(
        f"{'voices':>6} {'conv':>4} {'turns':>5} {'seconds':>7} {'found':>5} {'words right':>11}   "
        + " ".join(f"d={t:<4}" for t in THRESHOLDS)
    )
    tally: dict[float, int] = dict.fromkeys(THRESHOLDS, 0)
    right = total = 0
    for count in (2, 3, 4):
        for number in range(args.conversations):
            rng = random.Random(count * 1000 + number)
            chosen = rng.sample(voices, count)
            samples, spans = conversation(chosen, rng)
            response = transcribe(wav_bytes(samples), diarize=True)
            result = response.results.channels[0].alternatives[0].words
            words = [TranscriptWord(w.word, w.word, w.start, w.end, w.confidence, w.speaker) for w in result]
            found = len({w.speaker for w in words})
            right += found == count
            swept = []
            for threshold in THRESHOLDS:
                n = len({w.speaker for w in diarize(words, samples, embedder, distance=threshold)})
                tally[threshold] += n == count
                swept.append(f"{n:<6}")
            total += 1
            print(
                f"{count:>6} {number:>4} {len(spans):>5} {len(samples) / RATE:>7.1f} {found:>5} "
                f"{accuracy(words, spans):>10.1%}   " + " ".join(swept)
            )
    print(
        f"right counts: {right}/{total} at {SPEAKER_DISTANCE}; sweep: "
        + ", ".join(f"{t}: {tally[t]}/{total}" for t in THRESHOLDS)
    )


if __name__ == "__main__":
    main()
