"""One channel of a live stream: speech detection → endpointing → decode requests → stabilization → Results.

Everything here runs in stream time, counted in samples at 16 kHz, and advances one 32 ms VAD frame at a
time, so the same audio gives the same requests however it is cut into pieces. The channel's finals tile
its stream time: each final starts where the previous one ended.

An utterance opens at a speech onset (with `PRE_ROLL_S` of audio before it) and closes at an endpoint:
`endpointing` ms of silence, never less than `ENDPOINT_FLOOR_MS`. At the endpoint one final decode of the
utterance (beam search) gives its words, with ``speech_final``. Meanwhile an interim decode is requested
every `INTERIM_INTERVAL_S` of audio (`STABILIZE_INTERVAL_S` without ``interim_results``), greedy and
droppable under load; once the speech not yet final passes `CONFIRM_AFTER_S`, the words two successive
hypotheses agree on become finals while the speaker talks (LocalAgreement, `stabilizer`). Every decode
starts up to `CONTEXT_S` before the utterance, with the finalized words there forced as the decoder's
prefix: Whisper hears the utterance in context and continues after what was already sent.

Finals wait in line, in order; while one is waiting, interim hypotheses are neither requested nor used,
so results never go out of order. With ``diarize`` a final also waits for its speakers: once its words are
known, the voice of each turn is embedded (an `EmbedRequest`, model work like a decode), and the session's
`SpeakerTracker` numbers them as the final goes out.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import fmean

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.batch import DecodeItem, DecodeResult
from openlisten.engine.types import Word
from openlisten.features.diarize import SpeakerTurns
from openlisten.features.formatting import join_transcript
from openlisten.features.live import LiveFeatures
from openlisten.live.buffer import SampleBuffer
from openlisten.live.endpointer import MIN_SPEECH_MS, SILENCE_THRESHOLD, Endpointer, Offset, Onset, SpeechState
from openlisten.live.events import (
    CancelRequest,
    DecodeRequest,
    EmbedRequest,
    Event,
    Results,
    SpeechStarted,
    UtteranceEnd,
)
from openlisten.live.stabilizer import Stabilizer
from openlisten.live.vad import FRAME_SAMPLES, SpeechDetector
from openlisten.transcript import TranscriptWord

__all__ = ["Channel", "ChannelConfig"]

#: Audio decoded before a speech onset: Silero flags speech a frame or two after it starts.
PRE_ROLL_S = 0.3
#: Shortest silence that ends an utterance, whatever ``endpointing`` says. Deepgram's default is 10 ms, less
#: than one VAD frame; cutting speech at every brief pause gives Whisper fragments too short to hear well (and
#: more finals to decode), while 300 ms still ends an utterance at a phrase break.
ENDPOINT_FLOOR_MS = 300
#: Silence that ends an utterance when ``endpointing=false`` (finals then never carry ``speech_final``).
SEGMENT_SILENCE_MS = 500
#: Unfinalized speech past which the words interims agree on become finals before the endpoint.
CONFIRM_AFTER_S = 8.0
#: Audio between interim decodes of an utterance (spec §5.6: interims come about once a second).
INTERIM_INTERVAL_S = 1.0
#: Audio between the decodes that confirm words of a long utterance when no interims are sent.
STABILIZE_INTERVAL_S = 2.0
#: Longest audio decoded at once: past it, the confirmed words are cut off and become the prompt, which
#: bounds the work per decode and keeps each piece well inside one 30-second window.
MAX_DECODE_S = 20.0
#: Silence after which the silent span so far is sent as an empty final, so finals keep tiling the stream.
SILENCE_COMMIT_S = 5.0
#: Finalized words this recent before an utterance are decoded again with it, as forced prefix.
CONTEXT_S = 10.0
#: How far before its span a word's middle may be and still belong to it (word times are approximate).
SPAN_SLACK_S = 0.05
#: Older finalized words given to the decoder as its previous-text prompt (0: none; the audio context
#: above helps, a text prompt measured no better and can start Whisper repeating itself).
PROMPT_WORDS = 0
#: Finalized words remembered for context.
HISTORY_WORDS = 200
#: Audio kept while nothing is being decoded: the pre-roll of a speech onset not yet confirmed.
_KEEP_SAMPLES = int(PRE_ROLL_S * SAMPLE_RATE) + math.ceil(MIN_SPEECH_MS * 16 / FRAME_SAMPLES + 1) * FRAME_SAMPLES


@dataclass(frozen=True)
class ChannelConfig:
    """What a channel needs from the connection's options."""

    index: int
    #: Channels in the Results' ``channel_index``.
    total: int
    interim_results: bool = False
    #: Silence that sets ``speech_final``, in ms; None: endpointing off.
    endpointing_ms: int | None = 10
    utterance_end_ms: int | None = None
    vad_events: bool = False
    #: The decoder's bias terms (``keyterm``, ``keywords``).
    hotwords: str = ""
    language: str = "en"


@dataclass
class _Utterance:
    """The speech being decoded."""

    #: First sample of the utterance's own audio (decodes may start earlier, with finalized words as prefix).
    start: int
    #: Where speech started.
    onset: int


@dataclass
class _Slot:
    """A final in line: it goes out once it and every final before it are ready."""

    start: int
    end: int
    #: Stream sample of the decoded audio's first sample (word times count from there).
    origin: int
    speech_final: bool
    from_finalize: bool
    #: The decode request of its words (None: they were known when it was made).
    request_id: int | None = None
    #: The decoded audio, from `origin`, until the words are known (``diarize`` embeds the speakers' voices).
    samples: npt.NDArray[np.float32] | None = None
    #: Its words, in stream time, once decoded.
    words: list[Word] | None = None
    #: With ``diarize``: the speaker turns being embedded, the request, and the embeddings once back.
    turns: SpeakerTurns | None = None
    embed_id: int | None = None
    embeddings: npt.NDArray[np.float32] | None = None

    @property
    def ready(self) -> bool:
        """Whether it can go out: its words, and their speakers' voices when asked for, are known."""
        return self.words is not None and (self.turns is None or self.embeddings is not None)


@dataclass(frozen=True)
class _Interim:
    """An interim decode in flight."""

    #: The prefix version it was asked with; a result for an older one is stale.
    version: int
    origin: int
    end: int
    #: The decoded audio, from `origin`.
    samples: npt.NDArray[np.float32]


class Channel:
    """The live transcription of one channel (or of the mix, without ``multichannel``)."""

    def __init__(
        self,
        config: ChannelConfig,
        features: LiveFeatures,
        detector: SpeechDetector,
        next_id: Callable[[], int],
        emit: Callable[[Event], None],
    ) -> None:
        self.config = config
        self.features = features
        self._detector = detector
        self._next_id = next_id
        self._emit = emit
        silence = config.endpointing_ms if config.endpointing_ms is not None else SEGMENT_SILENCE_MS
        self._endpointer = Endpointer(max(silence, ENDPOINT_FLOOR_MS))
        self._stabilizer = Stabilizer()
        self._audio = SampleBuffer()
        self._framed = 0  # samples given to the VAD: whole frames
        self._committed = 0  # where the last final (sent or in line) ends
        self._utterance: _Utterance | None = None
        self._slots: deque[_Slot] = deque()
        self._interims: dict[int, _Interim] = {}
        self._last_interim = 0
        self._applied = -1
        self._version = 0
        self._last_word_end: float | None = None
        self._utterance_end_sent = False
        self._sentence_open = False
        self._history: list[Word] = []  # finalized words, the context of later decodes

    @property
    def samples(self) -> int:
        """Samples received."""
        return self._audio.end

    @property
    def waiting(self) -> bool:
        """Whether finals are still in line."""
        return bool(self._slots)

    # Input.

    def push(self, samples: npt.NDArray[np.float32]) -> None:
        """Take the next mono samples and process every whole VAD frame they complete."""
        self._audio.append(samples)
        count = (self._audio.end - self._framed) // FRAME_SAMPLES
        if count == 0:
            return
        frames = self._audio.slice(self._framed, self._framed + count * FRAME_SAMPLES).reshape(count, FRAME_SAMPLES)
        for probability in self._detector.probabilities(frames):
            self._frame(float(probability), self._framed)
            self._framed += FRAME_SAMPLES
        self._audio.drop_before(self._keep_from())

    def _keep_from(self) -> int:
        """The first sample a later decode may need: the utterance's, or the context before a coming one."""
        utterance = self._utterance
        anchor = utterance.onset if utterance is not None else self._framed - _KEEP_SAMPLES
        keep = anchor - int((CONTEXT_S + PRE_ROLL_S) * SAMPLE_RATE)
        return keep if utterance is None else min(keep, utterance.start)

    def flush(self, *, from_finalize: bool, closing: bool = False) -> None:
        """Finalize everything received so far (Finalize, or the end of the stream)."""
        end = self._audio.end
        utterance = self._utterance
        if utterance is not None:
            self._close_utterance(utterance, end, speech_final=False, from_finalize=from_finalize)
            if not closing and self._endpointer.state is SpeechState.SPEECH:
                self._open(end, announce=False)  # the speaker goes on: a new utterance starts here
        elif end > self._committed:
            self._slots.append(_Slot(self._committed, end, end, False, from_finalize, words=[]))
            self._committed = end
            self._send_ready_finals()

    def configure(self, config: ChannelConfig, features: LiveFeatures) -> None:
        """New keyterms or formatting for what comes next."""
        self.config = config
        self.features = features

    def deliver(self, request_id: int, result: DecodeResult | npt.NDArray[np.float32]) -> None:
        """The result of one of this channel's requests: a decode, or the voice embeddings of a final's turns."""
        if isinstance(result, DecodeResult):
            slot = next((slot for slot in self._slots if slot.request_id == request_id), None)
            if slot is None:
                self._apply_interim(request_id, result)
                return
            assert slot.samples is not None
            self._decoded(slot, _in_span(_shifted(result.words, slot.origin), slot.start), slot.samples)
        else:
            slot = next((slot for slot in self._slots if slot.embed_id == request_id), None)
            if slot is None:
                return
            slot.embeddings = result
        self._send_ready_finals()

    def cancelled(self, request_id: int) -> None:
        """A decode request that will not run (coalesced into a newer one)."""
        self._interims.pop(request_id, None)

    # Frames.

    def _frame(self, probability: float, sample: int) -> None:
        event = self._endpointer.push(probability, sample)
        if isinstance(event, Onset) and self._utterance is None:
            self._open(event.sample, announce=True)
        elif isinstance(event, Offset) and self._utterance is not None:
            speech_final = self.config.endpointing_ms is not None
            self._close_utterance(self._utterance, event.sample, speech_final=speech_final, from_finalize=False)
        now = sample + FRAME_SAMPLES
        # No interim during a pause: an endpoint may be coming, and its final should not wait for one.
        if self._utterance is not None and not self._slots and probability >= SILENCE_THRESHOLD:
            self._maybe_request_interim(now)
        self._commit_silence(now)
        self._check_utterance_end(now)

    def _open(self, onset: int, *, announce: bool) -> None:
        start = max(self._committed, onset - int(PRE_ROLL_S * SAMPLE_RATE), self._audio.start)
        self._utterance = _Utterance(start, onset)
        self._last_interim = onset
        self._stabilizer.reset()
        if announce and self.config.vad_events:
            self._emit(SpeechStarted(self.config.index, self.config.total, _seconds(onset)))

    def _close_utterance(self, utterance: _Utterance, end: int, *, speech_final: bool, from_finalize: bool) -> None:
        self._utterance = None
        self._cancel_interims()
        self._stabilizer.reset()
        self._request_final(utterance, end, speech_final=speech_final, from_finalize=from_finalize)

    def _commit_silence(self, now: int) -> None:
        end = now - _KEEP_SAMPLES  # never into the pre-roll of speech that may be starting
        if self._utterance is None and not self._slots and end - self._committed >= SILENCE_COMMIT_S * SAMPLE_RATE:
            self._slots.append(_Slot(self._committed, end, end, False, False, words=[]))
            self._committed = end
            self._send_ready_finals()

    def _check_utterance_end(self, now: int) -> None:
        gap_ms = self.config.utterance_end_ms
        if gap_ms is None or self._last_word_end is None or self._utterance_end_sent or self._slots:
            return
        due = self._last_word_end + gap_ms / 1000
        if _seconds(now) < due:
            return
        if self._utterance is not None and _seconds(self._utterance.onset) < due:
            return  # speech resumed within the gap: its final will say whether it brought words
        self._utterance_end_sent = True
        self._emit(UtteranceEnd(self.config.index, self.config.total, self._last_word_end))

    # Requests.

    def _request_final(self, utterance: _Utterance, end: int, *, speech_final: bool, from_finalize: bool) -> None:
        origin, item = self._item(utterance, end, final=True)
        slot = _Slot(self._committed, end, origin, speech_final, from_finalize)
        self._committed = end
        self._slots.append(slot)
        if end <= utterance.start:
            slot.words = []
            self._send_ready_finals()
            return
        slot.request_id = self._next_id()
        slot.samples = item.samples
        self._emit(DecodeRequest(slot.request_id, self.config.index, _seconds(origin), item))

    def _maybe_request_interim(self, now: int) -> None:
        interval = INTERIM_INTERVAL_S if self.config.interim_results else STABILIZE_INTERVAL_S
        if now - self._last_interim < interval * SAMPLE_RATE:
            return
        utterance = self._shortened(now)
        if utterance is None:
            return
        origin, item = self._item(utterance, now, final=False)
        request_id = self._next_id()
        self._interims[request_id] = _Interim(self._version, origin, now, item.samples)
        self._last_interim = now
        self._emit(DecodeRequest(request_id, self.config.index, _seconds(origin), item))

    def _shortened(self, now: int) -> _Utterance | None:
        """The open utterance, its own audio cut to at most `MAX_DECODE_S` (None when that took a final)."""
        utterance = self._utterance
        assert utterance is not None
        if now - utterance.start <= MAX_DECODE_S * SAMPLE_RATE:
            return utterance
        if self._committed > utterance.start:
            # Words were confirmed: decode from the end of them on (`_item` adds what context fits).
            self._utterance = utterance = _Utterance(self._committed, utterance.onset)
            self._new_prefix()
        if now - utterance.start > MAX_DECODE_S * SAMPLE_RATE:
            # Nothing confirmed for a whole decode's length: cut here.
            self._close_utterance(utterance, now, speech_final=False, from_finalize=False)
            self._open(now, announce=False)
            return None
        return utterance

    def _item(self, utterance: _Utterance, end: int, *, final: bool) -> tuple[int, DecodeItem]:
        """Where the decoded audio starts, and the item: the utterance, with the speech just before it.

        Whisper hears an utterance best in context, as a prerecorded decode would. So when every earlier
        final is known, the decode starts up to `CONTEXT_S` before the utterance, with the finalized words
        there forced as the prefix: Whisper continues after them. (The decoder drops that context when its
        window is full; older words may go in the prompt.)
        """
        origin = utterance.start
        if CONTEXT_S and all(slot.words is not None for slot in self._slots):
            horizon = _seconds(utterance.onset) - CONTEXT_S
            known = [w for w in self._history if w.start_s >= horizon]
            if known:
                origin = min(origin, round((known[0].start_s - PRE_ROLL_S) * SAMPLE_RATE))
            if end - origin > MAX_DECODE_S * SAMPLE_RATE:
                origin = utterance.start
        origin = max(origin, self._audio.start, 0)
        origin_s = origin / SAMPLE_RATE
        prefix = [w for w in self._history if w.start_s >= origin_s]
        earlier = [w for w in self._history if w.start_s < origin_s][-PROMPT_WORDS:] if PROMPT_WORDS else []
        own = [w for w in prefix if w.start_s >= utterance.start / SAMPLE_RATE]
        item = DecodeItem(
            samples=self._audio.slice(origin, end),
            prefix=_text(prefix),
            prompt=_text(earlier),
            hotwords=self.config.hotwords,
            language=self.config.language,
            final=final,
            context_samples=max(0, utterance.start - origin),
            bare_prefix=_text(own),
        )
        return origin, item

    def _cancel_interims(self) -> None:
        for request_id in self._interims:
            self._emit(CancelRequest(request_id))
        self._interims.clear()

    def _new_prefix(self) -> None:
        """The prefix changed: hypotheses in flight are stale; ask again at the next frame."""
        self._version += 1
        self._stabilizer.reset()
        if self._interims:
            self._cancel_interims()
            self._last_interim = -(1 << 62)  # due at once

    # Results.

    def _apply_interim(self, request_id: int, result: DecodeResult) -> None:
        interim = self._interims.pop(request_id, None)
        utterance = self._utterance
        if interim is None or utterance is None or interim.version != self._version or self._slots:
            return
        if request_id < self._applied:
            return
        self._applied = request_id
        words = _in_span(_shifted(result.words, interim.origin), self._committed)
        # Words become final before the endpoint only in a long stretch of speech: a shorter one is soon
        # decoded whole, once, with beam search and all its audio (better words, and fewer finals to decode).
        long_enough = interim.end - self._committed >= CONFIRM_AFTER_S * SAMPLE_RATE
        agreed = self._stabilizer.update(words, _seconds(interim.end) if long_enough else 0.0)
        if agreed:
            cut = _cut(words, agreed, self._committed, interim.end)
            slot = _Slot(self._committed, cut, interim.origin, speech_final=False, from_finalize=False)
            self._slots.append(slot)
            self._decoded(slot, words[:agreed], interim.samples)
            self._committed = cut
            self._new_prefix()
            self._stabilizer.update(words[agreed:], _seconds(interim.end))  # the rest is the last hypothesis
            self._send_ready_finals()
        # (An interim never overtakes a final waiting for its speakers.)
        if self.config.interim_results and words[agreed:] and not self._slots:
            self._send(
                self._committed, interim.end, words[agreed:], is_final=False, speech_final=False, from_finalize=False
            )

    def _decoded(self, slot: _Slot, words: list[Word], samples: npt.NDArray[np.float32]) -> None:
        """A final's words (in stream time) are known: they are context from now on, and with ``diarize``
        their speakers' voices are to be embedded."""
        slot.words = words
        slot.samples = None
        if words:
            self._history = sorted([*self._history, *words], key=lambda w: w.start_s)[-HISTORY_WORDS:]
            self._version += 1  # every later decode has a longer prefix
        slot.turns = self.features.speaker_turns(words, samples, slot.origin / SAMPLE_RATE)
        if slot.turns is not None:
            slot.embed_id = self._next_id()
            self._emit(EmbedRequest(slot.embed_id, self.config.index, slot.turns))

    def _send_ready_finals(self) -> None:
        while self._slots and self._slots[0].ready:
            slot = self._slots.popleft()
            assert slot.words is not None
            self._send(
                slot.start,
                slot.end,
                slot.words,
                is_final=True,
                speech_final=slot.speech_final,
                from_finalize=slot.from_finalize,
                speakers=_speakers(slot),
            )
        if not self._slots:
            self._check_utterance_end(self._framed)

    def _send(
        self,
        start: int,
        end: int,
        words: Sequence[Word],
        *,
        is_final: bool,
        speech_final: bool,
        from_finalize: bool,
        speakers: tuple[SpeakerTurns, npt.NDArray[np.float32]] | None = None,
    ) -> None:
        start_s, end_s = _seconds(start), _seconds(end)
        words = [_clamped(w, start_s, end_s) for w in words]
        formatted = self._format(words, final=is_final)
        if speakers is not None:
            formatted = self.features.speakers(formatted, *speakers)
        self._emit(
            Results(
                channel=self.config.index,
                channels=self.config.total,
                start_s=start_s,
                duration_s=round(end_s - start_s, 3),
                is_final=is_final,
                speech_final=speech_final,
                from_finalize=from_finalize,
                words=tuple(formatted),
                transcript=join_transcript(formatted, self.features.format),
                confidence=round(fmean(w.confidence for w in formatted), 4) if formatted else 0.0,
                search=self.features.search(formatted) if is_final else None,
            )
        )
        if is_final and formatted:
            self._last_word_end = formatted[-1].end_s
            self._utterance_end_sent = False
            self._sentence_open = not _ends_sentence(formatted[-1].punctuated_word)

    def _format(self, words: list[Word], *, final: bool) -> list[TranscriptWord]:
        """Transcript words (formatted, replaced, filtered, redacted); the first is not capitalized when it
        continues a sentence of an earlier final."""
        formatted = self.features.words(words, final=final)
        if self._sentence_open and formatted and words and words[0].text[:1].islower():
            first = formatted[0]
            lowered = first.punctuated_word[:1].lower() + first.punctuated_word[1:]
            formatted[0] = replace(first, punctuated_word=lowered)
        return formatted


def _speakers(slot: _Slot) -> tuple[SpeakerTurns, npt.NDArray[np.float32]] | None:
    """A ready final's speaker turns and their voices (``diarize``)."""
    if slot.turns is None:
        return None
    assert slot.embeddings is not None
    return slot.turns, slot.embeddings


def _seconds(sample: int) -> float:
    return round(sample / SAMPLE_RATE, 3)


def _text(words: Sequence[Word]) -> str:
    return " ".join(word.text for word in words)


def _shifted(words: Sequence[Word], origin: int) -> list[Word]:
    """Words timed from `origin` (a stream sample), timed from the start of the stream."""
    offset = origin / SAMPLE_RATE
    return [replace(w, start_s=round(w.start_s + offset, 3), end_s=round(w.end_s + offset, 3)) for w in words]


def _in_span(words: list[Word], start: int) -> list[Word]:
    """The words that belong after `start`: those of the audio before it were decoded as context."""
    start_s = start / SAMPLE_RATE - SPAN_SLACK_S
    return [w for w in words if (w.start_s + w.end_s) / 2 >= start_s]


def _clamped(word: Word, start_s: float, end_s: float) -> Word:
    """A word kept inside its Results' span."""
    start = min(max(word.start_s, start_s), end_s)
    return replace(word, start_s=start, end_s=min(max(word.end_s, start), end_s))


def _cut(words: Sequence[Word], agreed: int, committed: int, end: int) -> int:
    """The sample between the last confirmed word and the next one."""
    last = words[agreed - 1].end_s
    following = words[agreed].start_s if agreed < len(words) else last
    cut_s = (last + following) / 2 if following > last else last
    return min(max(round(cut_s * SAMPLE_RATE), committed), end)


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"')]}»”’").endswith((".", "?", "!"))
