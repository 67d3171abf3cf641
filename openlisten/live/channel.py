"""One channel of a live stream: speech detection → endpointing → decode requests → stabilization → Results.

Everything here runs in stream time, counted in samples at 16 kHz, and advances one 32 ms VAD frame at a
time, so the same audio gives the same requests however it is cut into pieces.

An utterance opens at a speech onset (with `PRE_ROLL_S` of audio before it) and closes at an endpoint:
`endpointing` ms of silence, never less than `ENDPOINT_FLOOR_MS`. One final decode of the utterance (beam
search) gives its words, with ``speech_final``: asked for ahead `AHEAD_TAIL_S` into a pause (`AheadDecode`,
cancelled if speech comes back), or at the endpoint when the pause was not decoded ahead.
Meanwhile an interim decode is requested every `INTERIM_INTERVAL_S` of audio (`STABILIZE_INTERVAL_S`
without ``interim_results``), greedy and coalesced under load; once the speech not yet final passes
`CONFIRM_AFTER_S`, the words two successive hypotheses agree on, and the words one hypothesis heard well
before its end, become finals while the speaker talks (`stabilizer`), and the utterance goes on after them
(they are the context of its later decodes, which stay short: under load more of them share a window). An
utterance that reaches `MAX_DECODE_S` with nothing confirmed is cut at its quietest moment of the last
`CUT_SEARCH_S`, and the rest goes on as a new one.

**Finals tile the stream, and each recognised word is in exactly one final.** Finals are a queue of slots
(each `FinalState.WAITING` for its decode, `DECODING`, `EMBEDDING` its speakers, `READY`, by the moves of
`MOVES`): each starts where the previous one ended, whatever ends them (an endpoint, confirmed words, a cut,
``Finalize``, the end of the stream), and they go out in order. Which words a final holds is decided by text,
never by time: a decode of audio after earlier finals starts with the last seconds of their speech
(`CONTEXT_S`), their words there forced as the decoder's prefix (`FinalsContext`), so what the decoder says
after the prefix is exactly the words not yet final, wherever its word times fall. A final whose earlier
finals are still being decoded therefore waits for them before its own decode is asked for; an interim decoded
meanwhile (without that prefix) is shown, never confirmed. Under load, decodes come back late, interims are
dropped and beams narrow: finals then come later, with the same words. Whisper sometimes ends its text early,
at a sentence end with speech left: a final whose speech goes on `UNHEARD_S` after its last word is decoded on
from there, with its words so far as prefix (`MAX_CONTINUATIONS`); one whose decode skipped the start of its
speech, or heard none of it, is decoded once more (`RETRY_SPEECH_S`; alone, with no prefix, when it heard
none); a decode that says the earlier finals' last words again before its own speech has that replay dropped
(`without_replay`). Each ``Finalize`` is answered by one final with ``from_finalize``: the one it closes,
or, with no audio since the last final, an empty one after the finals in line (Finalizes with no audio
between them, one answer: a client sending nothing else piles up nothing).

While finals wait, interims go on for the audio after them, so a client that sends ``Finalize`` at every
pause still sees text grow. With ``diarize`` a final also waits for its speakers: once its words are
known, the voice of each turn is embedded (an `EmbedRequest`, model work like a decode), and the session's
`SpeakerTracker` numbers them as the final goes out.

The channel drives parts that each keep one kind of state, with their own tests: `Endpointer` (speech or
silence, frame by frame), `InterimDecodes` (in flight and due), `AheadDecode`, `Stabilizer` (the words
successive interims agree on), the queue of `FinalSlot`s, `FinalsContext` (the known words later decodes
start from) and `ResultsWriter` (words into Results); `live.words` places and trims what a decode said.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.packed_decoder import DecodeItem, DecodeResult
from openlisten.engine.types import Word
from openlisten.engine.vad import FRAME_SAMPLES, SpeechDetector
from openlisten.features.live import LiveFeatures
from openlisten.live.ahead import AHEAD_TAIL_S, Ahead, AheadDecode
from openlisten.live.buffer import SampleBuffer
from openlisten.live.context import FinalsContext
from openlisten.live.endpointer import MIN_SPEECH_MS, SILENCE_THRESHOLD, Endpointer, Offset, Onset, SpeechState
from openlisten.live.events import (
    CancelRequest,
    DecodeRequest,
    EmbedRequest,
    Event,
    Expedite,
    SpeechStarted,
    UtteranceEnd,
)
from openlisten.live.finals import KNOWN, FinalSlot, FinalState, Utterance
from openlisten.live.interims import Interim, InterimDecodes
from openlisten.live.results import ResultsWriter
from openlisten.live.stabilizer import Stabilizer, heard_whole
from openlisten.live.words import (
    MAX_ECHO_WORDS,
    after_prefix,
    cut_between,
    not_before,
    seconds,
    shifted,
    text_of,
    without_replay,
)

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
#: Longest audio decoded at once, context included: past it, an utterance's confirmed words become context,
#: or with none confirmed it is cut, and the context before an utterance shrinks. This bounds the work per
#: decode (a longer one also leaves room for fewer others in the window) and keeps each piece well inside
#: one 30-second window (`engine.batch.WINDOW_S`).
MAX_DECODE_S = 20.0
#: How far back from `MAX_DECODE_S` an utterance with nothing confirmed may be cut: at its quietest frame
#: there, most likely between two words (Whisper often drops a word cut in two, and the next decode may
#: not say it either).
CUT_SEARCH_S = 3.0
#: Silence after which the silent span so far is sent as an empty final, so finals keep tiling the stream.
SILENCE_COMMIT_S = 5.0
#: The last seconds of speech of the finals before an utterance, decoded again with it (with the pause
#: between), their words forced as the decoder's prefix: a word cut in two by a final's end is heard whole
#: and said once, and Whisper hears the utterance's first words after others (alone, it drops a first word
#: at times: "Not! What your country…"; after a lone last word and a pause it stops, or reads on as if a
#: list went on: "9", then "6, 5, 4, 3, 2, 1" for "my social security number is 987…"). Each forced token
#: costs a decoding step: an 18 s piece with 10 s of context took 1.06 s to decode, against 0.59 s with 2 s.
CONTEXT_S = 2.0
#: Speech in a final's audio after its last decoded word that has the final decoded on from there, with its
#: words so far as prefix: Whisper sometimes ends its text early (at a sentence end, or skipping ahead), and
#: the words after would be lost. (A word's own tail and the VAD's hangover are shorter; at 0.5 s, 16 streams
#: on 2 cores spent so much on decoding on that finals came 6–8 s late at p95.)
UNHEARD_S = 1.0
#: Most times one final is decoded on.
MAX_CONTINUATIONS = 2
#: Speech in a final that has it decoded once more when its decode heard no word of it: Whisper, packed
#: with other streams under load, at times says nothing, or skips the start of its audio and stretches
#: its first word over it (seen at 16 streams: "Eight. The Press Yard." lost so; its interim had it).
RETRY_SPEECH_S = 1.0
#: The frame at which a pause's final is decoded ahead, counted from the pause's start.
_AHEAD_TAIL_SAMPLES = round(AHEAD_TAIL_S * SAMPLE_RATE / FRAME_SAMPLES) * FRAME_SAMPLES
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
        self._writer = ResultsWriter(config.index, config.total, features)
        self._detector = detector
        self._next_id = next_id
        self._emit = emit
        silence = config.endpointing_ms if config.endpointing_ms is not None else SEGMENT_SILENCE_MS
        self._endpointer = Endpointer(max(silence, ENDPOINT_FLOOR_MS))
        self._stabilizer = Stabilizer()
        self._audio = SampleBuffer()
        self._framed = 0  # samples given to the VAD: whole frames
        self._committed = 0  # where the last final (sent or in line) ends
        self._utterance: Utterance | None = None
        self._slots: deque[FinalSlot] = deque()
        self._interims = InterimDecodes()
        self._version = 0
        self._utterance_end_sent = False
        self._context = FinalsContext(
            max_decode=round(MAX_DECODE_S * SAMPLE_RATE), pre_roll=round(PRE_ROLL_S * SAMPLE_RATE)
        )
        self._speech_end = 0  # where the last speech frame ends
        self._ahead = AheadDecode()
        #: The speech probability of the last frames, with their first sample: where to cut a long utterance.
        self._recent: deque[tuple[float, int]] = deque(maxlen=round(CUT_SEARCH_S * SAMPLE_RATE / FRAME_SAMPLES))

    @property
    def samples(self) -> int:
        """Samples received."""
        return self._audio.end

    @property
    def finals_in_line(self) -> int:
        """Finals not sent yet (what a client sending Finalize after every few samples piles up)."""
        return len(self._slots)

    @property
    def _finals_known(self) -> bool:
        """Whether the words of every final in line are known: the prefix of a decode after them is."""
        return all(slot.state in KNOWN for slot in self._slots)

    @property
    def backlog_samples(self) -> int:
        """Samples held for decodes still to come: what a client sending faster than real time piles up."""
        return self._audio.end - max(self._audio.start, self._keep_from())

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
        """The first sample a later decode may need: the context before the first speech not yet asked for."""
        pending = [slot.utterance for slot in self._slots if slot.utterance is not None]
        first = pending[0] if pending else self._utterance
        anchor = first.start if first is not None else self._framed - _KEEP_SAMPLES
        return anchor - int(max(CONTEXT_S + PRE_ROLL_S, MAX_DECODE_S) * SAMPLE_RATE)  # no decode reaches further

    def flush(self, *, from_finalize: bool, closing: bool = False) -> None:
        """Finalize everything received so far (Finalize, or the end of the stream)."""
        end = self._audio.end
        if from_finalize and end == self._committed and self._slots and self._slots[-1].from_finalize:
            return  # no audio since the last Finalize, whose answer is still in line: it answers this one too
        utterance = self._utterance
        if utterance is not None:
            self._close_utterance(utterance, end, speech_final=False, from_finalize=from_finalize)
            if not closing and self._endpointer.state is SpeechState.SPEECH:
                self._open(end, announce=False)  # the speaker goes on: a new utterance starts here
        elif end > self._committed or from_finalize:
            # The silence since the last final; with nothing since, a Finalize still has its answer (empty, as
            # Deepgram's when the words went out before it: Pipecat waits for one), after the finals in line.
            self._add_empty(FinalSlot(self._committed, end, speech_final=False, from_finalize=from_finalize))
        if from_finalize:
            self._expedite()
        self._send_ready_finals()

    def configure(self, config: ChannelConfig, features: LiveFeatures) -> None:
        """New keyterms or formatting for what comes next."""
        self.config = config
        self._writer.features = features

    @property
    def features(self) -> LiveFeatures:
        """The word features of what comes next."""
        return self._writer.features

    def deliver(self, request_id: int, result: DecodeResult | npt.NDArray[np.float32]) -> None:
        """The result of one of this channel's requests: a decode, or the voice embeddings of a final's turns."""
        if isinstance(result, DecodeResult):
            slot = next((slot for slot in self._slots if slot.request_id == request_id), None)
            if slot is None and self._ahead.deliver(request_id, result.words):
                return
            if slot is None:
                self._apply_interim(request_id, result)
                return
            assert slot.prefix is not None
            echoes_before = slot.start if slot.heard is None else round(slot.heard[-1].end_s * SAMPLE_RATE)
            if self._words_back(slot, after_prefix(shifted(result.words, slot.origin), slot.prefix, echoes_before)):
                self._request_next_final()
        else:
            slot = next((slot for slot in self._slots if slot.embed_id == request_id), None)
            if slot is None:
                return
            slot.embeddings = result
            slot.move(FinalState.READY)
        self._send_ready_finals()

    def cancelled(self, request_id: int) -> None:
        """A decode request that will not run (coalesced into a newer one)."""
        self._interims.cancelled(request_id)
        self._ahead.cancelled(request_id)

    # Frames.

    def _frame(self, probability: float, sample: int) -> None:
        self._recent.append((probability, sample))
        speech = probability >= SILENCE_THRESHOLD
        if speech:
            self._speech_end = sample + FRAME_SAMPLES
            self._cancel(self._ahead.drop())  # the speaker went on: the utterance did not end at that pause
        event = self._endpointer.push(probability, sample)
        if isinstance(event, Onset) and self._utterance is None:
            self._open(event.sample, announce=True)
        elif isinstance(event, Offset) and self._utterance is not None:
            speech_final = self.config.endpointing_ms is not None
            # An utterance opened at a Finalize after the speech had in fact ended holds only silence: its last
            # speech frame ended before it. (One that ends inside it may hold the end of a word.)
            silent = event.speech_end <= self._utterance.start
            self._close_utterance(
                self._utterance, event.sample, speech_final=speech_final, from_finalize=False, silent=silent
            )
        now = sample + FRAME_SAMPLES
        self._bound_utterance(now)
        # No interim during a pause: an endpoint may be coming, and its final is decoded ahead instead.
        if self._utterance is not None and speech:
            self._maybe_request_interim(now)
        elif self._utterance is not None and now - self._speech_end == _AHEAD_TAIL_SAMPLES:
            self._maybe_decode_ahead(self._utterance, now)
        self._commit_silence(now)
        self._check_utterance_end(now)

    def _open(self, onset: int, *, announce: bool) -> None:
        start = max(self._committed, onset - int(PRE_ROLL_S * SAMPLE_RATE), self._audio.start)
        self._utterance = Utterance(start, onset)
        self._interims.restart(onset)
        self._stabilizer.reset()
        if announce and self.config.vad_events:
            self._emit(SpeechStarted(self.config.index, self.config.total, seconds(onset)))

    def _close_utterance(
        self, utterance: Utterance, end: int, *, speech_final: bool, from_finalize: bool, silent: bool = False
    ) -> None:
        self._utterance = None
        self._cancel(*self._interims.cancel())
        self._stabilizer.reset()
        self._request_final(utterance, end, speech_final=speech_final, from_finalize=from_finalize, silent=silent)
        self._cancel(self._ahead.drop(utterance))  # its final did not take it up

    def _bound_utterance(self, now: int) -> None:
        """Keep the open utterance's own audio within `MAX_DECODE_S`: its confirmed words become context, or,
        with none confirmed, it is cut at its quietest frame of the last `CUT_SEARCH_S` (the next decode has
        this one's words as prefix, so a word cut in two is said once)."""
        utterance = self._utterance
        if utterance is None or now - utterance.start <= MAX_DECODE_S * SAMPLE_RATE:
            return
        if self._committed > utterance.start:
            self._utterance = utterance = Utterance(self._committed, utterance.onset)
            self._new_prefix()
        if now - utterance.start > MAX_DECODE_S * SAMPLE_RATE:
            quietest = min(self._recent)[1] + FRAME_SAMPLES // 2 if self._recent else now  # the earliest if tied
            cut = max(quietest, utterance.start + 1)
            self._close_utterance(utterance, cut, speech_final=False, from_finalize=False)
            self._open(cut, announce=False)

    def _commit_silence(self, now: int) -> None:
        end = now - _KEEP_SAMPLES  # never into the pre-roll of speech that may be starting
        if self._utterance is None and not self._slots and end - self._committed >= SILENCE_COMMIT_S * SAMPLE_RATE:
            self._add_empty(FinalSlot(self._committed, end, speech_final=False, from_finalize=False))
            self._send_ready_finals()

    def _check_utterance_end(self, now: int) -> None:
        gap_ms = self.config.utterance_end_ms
        last_word_end = self._writer.last_word_end
        if gap_ms is None or last_word_end is None or self._utterance_end_sent or self._slots:
            return
        due = last_word_end + gap_ms / 1000
        if seconds(now) < due:
            return
        if self._utterance is not None and seconds(self._utterance.onset) < due:
            return  # speech resumed within the gap: its final will say whether it brought words
        self._utterance_end_sent = True
        self._emit(UtteranceEnd(self.config.index, self.config.total, last_word_end))

    # Requests.

    def _request_final(
        self, utterance: Utterance, end: int, *, speech_final: bool, from_finalize: bool, silent: bool = False
    ) -> None:
        """A final up to `end`; its words are decoded, unless it holds no speech (`silent`, or no audio)."""
        slot = FinalSlot(self._committed, end, speech_final, from_finalize, urgent=from_finalize)
        slot.speech_end = min(self._speech_end, end)
        slot.speech_start = max(slot.start, utterance.onset)
        if silent or end <= utterance.start:
            self._add_empty(slot)
            self._send_ready_finals()
            return
        self._committed = end
        self._slots.append(slot)
        slot.utterance = utterance
        self._request_next_final()
        self._send_ready_finals()  # its words may be known already (decoded ahead)

    def _add_empty(self, slot: FinalSlot) -> None:
        """A final with no speech to decode (silence): its words, none, are known at once."""
        self._slots.append(slot)
        self._committed = slot.end
        self._decoded(slot, [], None)

    def _request_next_final(self) -> None:
        """Ask for the decode of the first final not yet asked for, once every final before it is known."""
        for slot in self._slots:
            if slot.state in KNOWN:
                continue
            if slot.state is FinalState.DECODING:
                return  # the finals after it wait for its words
            assert slot.utterance is not None
            ahead, stale = self._ahead.take(slot.utterance, self._version, self._speech_end)
            self._cancel(stale)
            if ahead is not None:
                slot.utterance, slot.origin, slot.samples, slot.prefix = None, ahead.origin, ahead.samples, ahead.prefix
                slot.request_id = ahead.request_id
                if ahead.words is None:
                    slot.move(FinalState.DECODING)
                    self._emit(Expedite(ahead.request_id, urgent=slot.urgent))
                    return
                if not self._words_back(slot, after_prefix(ahead.words, ahead.prefix, slot.start)):
                    return
                continue
            origin, prefix, item = self._item(slot.utterance, slot.end, final=True, context=True)
            slot.utterance, slot.origin, slot.samples, slot.prefix = None, origin, item.samples, prefix
            slot.request_id = self._next_id()
            slot.move(FinalState.DECODING)
            request = DecodeRequest(slot.request_id, self.config.index, seconds(origin), item, urgent=slot.urgent)
            self._emit(request)
            return

    def _maybe_decode_ahead(self, utterance: Utterance, end: int) -> None:
        """`AHEAD_TAIL_S` into a pause (at `end`), ask for the utterance's final decode ahead: if this pause is
        its end, its final is known sooner (a ``Finalize`` sent in the pause waits less)."""
        if not self._ahead.due(utterance, end) or not self._finals_known:
            return  # too soon after the last one, or its prefix is not known yet
        origin, prefix, item = self._item(utterance, end, final=True, context=True)
        request_id = self._next_id()
        self._ahead.asked(Ahead(request_id, utterance, self._version, origin, end, item.samples, prefix))
        self._emit(DecodeRequest(request_id, self.config.index, seconds(origin), item, ahead=True))

    def _cancel(self, *request_ids: int | None) -> None:
        for request_id in request_ids:
            if request_id is not None:
                self._emit(CancelRequest(request_id))

    def _expedite(self) -> None:
        """A ``Finalize`` waits for every final in line: their decodes go first."""
        for slot in self._slots:
            if slot.state not in KNOWN and not slot.urgent:
                slot.urgent = True
                if slot.request_id is not None:
                    self._emit(Expedite(slot.request_id))

    def _maybe_request_interim(self, now: int) -> None:
        interval = INTERIM_INTERVAL_S if self.config.interim_results else STABILIZE_INTERVAL_S
        if not self._interims.due(now, interval):
            return
        utterance = self._utterance
        assert utterance is not None
        # While a final is being decoded its words are unknown: this interim is only shown.
        confirmable = self._finals_known
        if not confirmable and not self.config.interim_results:
            return
        origin, prefix, item = self._item(utterance, now, final=False, context=confirmable)
        request_id = self._next_id()
        self._interims.asked(request_id, Interim(self._version, origin, now, item.samples, prefix, confirmable))
        self._emit(DecodeRequest(request_id, self.config.index, seconds(origin), item))

    def _item(
        self, utterance: Utterance, end: int, *, final: bool, context: bool
    ) -> tuple[int, list[Word], DecodeItem]:
        """Where the decoded audio starts, its prefix, and the item: the utterance, with the speech before it.

        With the words of the finals before it forced as the prefix, Whisper says only the words after them.
        So with `context` (every earlier final known) the decode starts with the last `CONTEXT_S` of their
        speech before the utterance (and the pause between).
        """
        start = utterance.start
        origin, prefix = self._context.around(start, end, CONTEXT_S, self._audio.start) if context else (start, [])
        return origin, prefix, self._decode_item(self._audio.slice(origin, end), prefix, final=final)

    def _decode_item(self, samples: npt.NDArray[np.float32], prefix: Sequence[Word], *, final: bool) -> DecodeItem:
        return DecodeItem(
            samples=samples,
            prefix=text_of(prefix),
            hotwords=self.config.hotwords,
            language=self.config.language,
            final=final,
        )

    def _new_prefix(self) -> None:
        """The prefix changed: hypotheses in flight are stale; ask again at the next frame."""
        self._version += 1
        self._stabilizer.reset()
        self._cancel(*self._interims.stale())

    # Results.

    def _apply_interim(self, request_id: int, result: DecodeResult) -> None:
        interim = self._interims.result(request_id, self._version)
        utterance = self._utterance
        if interim is None or utterance is None:
            return
        words = after_prefix(shifted(result.words, interim.origin), interim.prefix, self._committed)
        speech_start = seconds(max(self._committed, utterance.onset))
        words = self._without_replay(words, speech_start)
        agreed = 0
        if interim.confirmable and self._finals_known:
            # Words become final before the endpoint only in a long stretch of speech: a shorter one is soon
            # decoded whole, once, with beam search and all its audio (better words, and fewer finals).
            if interim.end - self._committed >= CONFIRM_AFTER_S * SAMPLE_RATE:
                agreed = self._stabilizer.update(words, seconds(interim.end), speech_start)
            else:
                self._stabilizer.hear(words, seconds(interim.end))
        if agreed:
            cut = cut_between(words, agreed, self._committed, interim.end)
            slot = FinalSlot(self._committed, cut, speech_final=False, from_finalize=False, origin=interim.origin)
            self._slots.append(slot)
            self._decoded(slot, words[:agreed], interim.samples)
            self._committed = cut
            self._utterance = Utterance(cut, utterance.onset)
            self._new_prefix()
            self._stabilizer.remember(words[agreed:])  # the rest is the last hypothesis
            self._send_ready_finals()
        if self.config.interim_results and words[agreed:]:
            self._emit(self._writer.write(self._committed, interim.end, words[agreed:], is_final=False))

    def _words_back(self, slot: FinalSlot, words: list[Word]) -> bool:
        """A final's decode came back with `words` (after its prefix): True when the final's words are known;
        False when they skipped its speech (it is decoded once more, `RETRY_SPEECH_S`), or when its speech
        goes on `UNHEARD_S` or more after the last of them, and the rest is decoded on, with every word so
        far forced as the prefix."""
        assert slot.samples is not None and slot.prefix is not None
        if slot.heard is None:  # the decode of the final's start
            words = self._without_replay(words, slot.speech_start / SAMPLE_RATE)
            if not slot.retried and self._skipped(slot, words):
                slot.retried = True
                if not words:
                    self._without_context(slot)
                self._decode_again(slot)
                return False
        heard = [*(slot.heard or []), *words]
        unheard = bool(heard) and slot.speech_end - heard[-1].end_s * SAMPLE_RATE >= UNHEARD_S * SAMPLE_RATE
        if not (words and unheard and slot.continuations < MAX_CONTINUATIONS):
            self._decoded(slot, heard, slot.samples)
            return True
        slot.heard, slot.prefix = heard, [*slot.prefix, *words]
        slot.continuations += 1
        self._decode_again(slot)
        return False

    def _without_replay(self, words: list[Word], speech_start_s: float) -> list[Word]:
        """`words` less a replay of the finals before them (`without_replay`)."""
        return without_replay(words, self._context.last_words(len(words) + MAX_ECHO_WORDS), speech_start_s)

    @staticmethod
    def _skipped(slot: FinalSlot, words: list[Word]) -> bool:
        """Whether a final's decode missed speech it holds: no word for `RETRY_SPEECH_S` of speech or more,
        or words that do not follow one another from its speech's start (a stretch skipped)."""
        if not words:
            return slot.speech_end - slot.speech_start >= RETRY_SPEECH_S * SAMPLE_RATE
        return not heard_whole(words, slot.speech_start / SAMPLE_RATE)

    @staticmethod
    def _without_context(slot: FinalSlot) -> None:
        """Decode a final's own audio alone from now on: after a forced prefix that ends a sentence, Whisper
        may end its text at once, and under load (a narrow beam) again on the retry (seen with diarize at 4×
        real time: two lines came back empty, and a later final said them, their times clamped to its
        start)."""
        assert slot.samples is not None
        own = max(slot.start, slot.origin)
        slot.samples, slot.origin, slot.prefix = slot.samples[own - slot.origin :], own, []

    def _decode_again(self, slot: FinalSlot) -> None:
        """Ask for a final's decode once more, with its prefix as it now is."""
        assert slot.samples is not None and slot.prefix is not None
        slot.request_id = self._next_id()
        slot.move(FinalState.DECODING)
        item = self._decode_item(slot.samples, slot.prefix, final=True)
        self._emit(DecodeRequest(slot.request_id, self.config.index, seconds(slot.origin), item, urgent=slot.urgent))

    def _decoded(self, slot: FinalSlot, words: list[Word], samples: npt.NDArray[np.float32] | None) -> None:
        """A final's words (in stream time) are known: they are context from now on, and with ``diarize``
        their speakers' voices are to be embedded."""
        # The alignment stretches a first word back over the silence before its speech.
        slot.words = words = not_before(words, slot.speech_start, slot.speech_start / SAMPLE_RATE - PRE_ROLL_S)
        slot.samples = slot.prefix = None
        if samples is not None:
            slot.turns = self.features.speaker_turns(words, samples, slot.origin / SAMPLE_RATE)
        slot.move(FinalState.READY if slot.turns is None else FinalState.EMBEDDING)
        self._record_known()
        if words:
            self._version += 1  # every later decode has a longer prefix
        if slot.turns is not None:
            slot.embed_id = self._next_id()
            self._emit(EmbedRequest(slot.embed_id, self.config.index, slot.turns))

    def _record_known(self) -> None:
        """The finals in line whose words are known, and every final's before them, join the context of later
        decodes, in order (a final of silence may be known before a final ahead of it is decoded)."""
        for slot in self._slots:
            if slot.state not in KNOWN:
                break
            assert slot.words is not None
            if not slot.recorded:
                slot.recorded = True
                self._context.add(slot.start, slot.end, slot.words)
        self._context.forget_before(self._audio.start)

    def _send_ready_finals(self) -> None:
        while self._slots and self._slots[0].state is FinalState.READY:
            slot = self._slots.popleft()
            assert slot.words is not None
            self._send_final(slot)
        if not self._slots:
            self._check_utterance_end(self._framed)

    def _send_final(self, slot: FinalSlot) -> None:
        assert slot.words is not None
        results = self._writer.write(
            slot.start,
            slot.end,
            slot.words,
            is_final=True,
            speech_final=slot.speech_final,
            from_finalize=slot.from_finalize,
            speakers=slot.speakers,
        )
        if results.words:
            self._utterance_end_sent = False
        self._emit(results)
