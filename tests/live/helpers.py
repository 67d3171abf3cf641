"""Scripted live sessions: synthetic audio, a recognizer that knows the words' true times, and a driver
that feeds a session step by step and collects what it says (no model, no socket, no clock)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.types import Word
from openlisten.engine.vad import EnergyDetector
from openlisten.live.events import CancelRequest, Control, DecodeRequest, EmbedRequest, Event, Expedite
from openlisten.live.options import LiveOptions
from openlisten.live.session import LiveSession

RATE = 16000


def tone(seconds: float, frequency: float = 440.0) -> np.ndarray:
    """A loud sine: speech, as far as `EnergyDetector` can tell."""
    t = np.arange(int(round(seconds * RATE))) / RATE
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), dtype=np.float32)


def pcm16(*pieces: np.ndarray) -> bytes:
    """Mono linear16 bytes of the pieces one after another."""
    return (np.concatenate(pieces) * 32767).astype("<i2").tobytes()


def options(query: str = "") -> LiveOptions:
    """Live options for raw 16 kHz linear16, plus `query` (``interim_results=true&…``)."""
    from urllib.parse import parse_qsl

    base = [("encoding", "linear16"), ("sample_rate", "16000")]
    return LiveOptions.from_query(base + parse_qsl(query, keep_blank_values=True))


@dataclass
class Timeline:
    """A perfect recognizer: it knows each word's true stream time and hears a word when all of it is in
    the decoded audio. Words are one per `word_s` over each (start, end) speech span."""

    spans: Sequence[tuple[float, float]]
    word_s: float = 0.3
    words: list[tuple[str, float, float]] = field(init=False)

    def __post_init__(self) -> None:
        self.words = []
        for start, end in self.spans:
            t = start
            while t + self.word_s <= end + 1e-9:
                self.words.append((f"w{len(self.words)}", round(t, 3), round(t + self.word_s, 3)))
                t += self.word_s

    def answer(self, request: DecodeRequest) -> DecodeResult:
        start = request.start_s
        end = start + request.item.duration_s
        said = set(request.item.prefix.split())
        heard = [w for w in self.words if w[1] >= start - 1e-6 and w[2] <= end + 1e-6]
        after_prefix = [w for w in heard if w[0] not in said]
        return DecodeResult(tuple(Word(t, round(a - start, 3), round(b - start, 3), 0.9) for t, a, b in after_prefix))


def pitch_embedding(samples: np.ndarray) -> np.ndarray:
    """A voice embedding for `tone` speech: one-hot on the loudest frequency, in 100 Hz bins."""
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = int(np.argmax(spectrum)) * RATE / len(samples)
    embedding = np.zeros(32, dtype=np.float32)
    embedding[min(31, int(peak_hz // 100))] = 1.0
    return embedding


class Script:
    """Feeds a session and answers its model requests when told to; `events` is what it said."""

    def __init__(self, session: LiveSession, recognizer: Timeline) -> None:
        self.session = session
        self.recognizer = recognizer
        self.events: list[Event] = []
        self.requests: list[DecodeRequest] = []
        self.outstanding: dict[int, DecodeRequest | EmbedRequest] = {}
        self.expedited: list[int] = []
        session.advance(0.0)

    def feed(self, data: bytes, piece_bytes: int | None = None) -> Script:
        """Audio, whole or in pieces of `piece_bytes`."""
        step = piece_bytes or max(len(data), 1)
        for offset in range(0, max(len(data), 1), step):
            self.session.feed_audio(data[offset : offset + step])
            self._collect()
        return self

    def control(self, control: Control) -> Script:
        self.session.feed_control(control)
        self._collect()
        return self

    def answer(self) -> Script:
        """Deliver every outstanding request (and those the answers cause), oldest first."""
        while self.outstanding:
            request = self.outstanding.pop(min(self.outstanding))
            if isinstance(request, EmbedRequest):
                embeddings = np.stack([pitch_embedding(clip) for clip in request.turns.clips])
                self.session.deliver(request.request_id, embeddings)
            else:
                self.session.deliver(request.request_id, self.recognizer.answer(request))
            self._collect()
        return self

    def invalid(self, text: str, description: str) -> Script:
        """A text frame that is no message."""
        self.session.feed_invalid(text, description)
        self._collect()
        return self

    def at(self, now: float) -> Script:
        self.session.advance(now)
        self._collect()
        return self

    def said(self) -> list[Event]:
        return list(self.events)

    def _collect(self) -> None:
        for event in self.session.events():
            if isinstance(event, DecodeRequest):
                self.requests.append(event)
                self.outstanding[event.request_id] = event
            elif isinstance(event, EmbedRequest):
                self.outstanding[event.request_id] = event
            elif isinstance(event, CancelRequest):
                self.outstanding.pop(event.request_id, None)
            elif isinstance(event, Expedite):
                self.expedited.append(event.request_id)
            else:
                self.events.append(event)


def session(query: str = "", **kwargs: object) -> LiveSession:
    return LiveSession(options(query), detector_factory=EnergyDetector, **kwargs)  # type: ignore[arg-type]


def run(
    query: str,
    audio: bytes,
    spans: Iterable[tuple[float, float]],
    *,
    piece_bytes: int | None = None,
    answer_every: int | None = None,
) -> list[Event]:
    """Feed `audio` (answering after every `answer_every` bytes, or at the end), close, answer, return events."""
    script = Script(session(query), Timeline(list(spans)))
    step = answer_every or len(audio)
    for offset in range(0, len(audio), step):
        script.feed(audio[offset : offset + step], piece_bytes).answer()
    from openlisten.live.events import CloseStream

    return script.control(CloseStream()).answer().said()
