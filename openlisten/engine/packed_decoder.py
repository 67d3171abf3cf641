"""Packed decoding: short pieces of audio from many live streams share one Whisper encoder pass.

The Whisper encoder always costs a whole 30-second window, and on the CPU batching windows does not make
it cheaper (../shared/DESIGN.md). A live stream, though, rarely has more than a few seconds to decode at
a time. So the pieces waiting to be decoded (from every stream, finals and interims alike) are laid out
one after another in one 30-second window, half a second of silence apart, and the window is encoded
once. Each piece is then decoded on its own copy of the encoder output in which the frames of every
other piece are replaced by the frames of an encoded silent window: the decoder sees that piece alone,
at its place in the window, with silence around it (a piece never reads another stream's words), and
the copies decode as one batch, which makes decoding cheaper per piece. (Whisper needs all 1500 encoder
frames: on a shorter slice around the piece the decoder loops, as it does on fewer than 3000 mel frames.)
Finals decode with the decoder's beam width (`Settings.live_beam_size`), narrowed when several finals share
a decode; interims always greedily.

Recordings (``POST /v1/listen``) are cut at pauses into chunks of up to a window each and decoded by the
same decoder, as items marked `DecodeItem.prerecorded`: with their own beam, never narrowed, and a chunk
whose text loops (it compresses too well, typically a run of repeated digits) is decoded once more with a
repetition penalty, still deterministically. A round that starts with a recording's chunk may encode up to
`windows` windows at once and decode all their pieces as one batch: one decoder pass for several chunks is
what makes a recording faster than faster-whisper's window-by-window ``transcribe``. A round that starts
with live work keeps to one window, so a live final never waits for more than one window's encoding.

A piece may start with context: a little speech before it whose words are already final, forced as the
decoder's prefix, so Whisper continues after them (LocalAgreement-style). Word times come from Whisper's
cross-attention alignment, as in faster-whisper's own ``word_timestamps``, computed on each piece's own
frames.

What comes back is cleaned of Whisper's usual inventions: words of a piece it thinks holds no speech and
barely believes in, words aligned past the end of the audio, and loops (`drop_repeats`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from statistics import fmean
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine import whisper_internals
from openlisten.engine.scheduler import BatchRunner
from openlisten.engine.types import Word, word_key

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = ["DecodeItem", "DecodeResult", "Decoder", "PackedDecoder", "WINDOW_S", "drop_repeats"]

logger = logging.getLogger(__name__)

#: Whisper's window: the encoder always takes 30 seconds (3000 mel frames, 1500 encoder frames).
WINDOW_S = 30.0
WINDOW_SAMPLES = int(WINDOW_S * SAMPLE_RATE)
#: Encoder output frames per second of audio.
FRAMES_PER_S = 50
#: Silence between two pieces in a window: enough that the encoder's attention barely carries one piece
#: into the next, little enough that a window holds many pieces.
GAP_S = 0.5
#: Encoder frames kept around a piece (and blanked around the others): the attention smears a piece a
#: little beyond its samples.
MARGIN_FRAMES = 10
#: Most pieces decoded as one batch: more grows the decode time past the encoder's.
MAX_ITEMS = 12
#: Most interims decoded in one window.
MAX_INTERIMS = 6
#: Fewest encoder frames aligned at once (2 s); also keeps CTranslate2 from taking them for mel frames.
MIN_ALIGN_FRAMES = 100
#: Tokens a piece may generate per second of audio (fast speech is about 5); stops a looping decode.
MAX_TOKENS_PER_S = 8
#: faster-whisper's test for a decode that heard no speech (``no_speech_threshold``, ``log_prob_threshold``).
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
#: Below this mean word probability, words of a piece Whisper thinks holds no speech are dropped.
MIN_CONFIDENCE = 0.5
#: The same for a piece placed after another in its window. Whisper's no-speech probability is read at the
#: window's start, and silence there makes it high whatever follows ("Still working." packed 2 to 7 s in:
#: 0.78 to 0.88, with mean word probabilities of 0.38 to 0.49), while the words it invents on silence or hum
#: stay far below ("you": 0.01).
MIN_CONFIDENCE_AFTER_START = 0.2
#: Shortest run of words that, said twice in a row, is taken for a decoder loop.
MIN_REPEAT_WORDS = 3
#: Longest run looked for (a loop repeats a sentence at most; this bounds the search).
MAX_REPEAT_WORDS = 40
#: A word aligned to start this close to the end of its piece's audio, or later, was not heard there.
ALIGN_SLACK_S = 0.02
#: Whisper's first timestamp of a recording's chunk is at most this (1 s, faster-whisper's default).
MAX_INITIAL_TIMESTAMP_INDEX = 50
#: Words of a live piece less probable than this are noise the decoder made up ...
MIN_WORD_PROBABILITY = 0.05
#: ... except its first word when the words after it are this probable on average (`BELIEVED_AFTER` of them):
#: after another piece's audio in the window Whisper doubts a piece's first word ("printing" at 0.006 before
#: "in the only" at 0.27, 0.99, 0.99), yet heard it. A doubtful word elsewhere is not kept: at a speaker
#: change it is often half of the other voice's word.
BELIEVED_PROBABILITY = 0.5
BELIEVED_AFTER = 2
#: A word after a pause is at most this many median word durations long (faster-whisper's 2), with the median
#: taken as at most `MEDIAN_WORD_CAP_S` (its 0.7 s); `SENTENCE_ENDS` end the words a pause may follow.
LONG_WORD_MEDIANS = 2.0
MEDIAN_WORD_CAP_S = 0.7
SENTENCE_ENDS = (".", "?", "!", "。", "！", "？")
#: A chunk whose text compresses better than this is a decoder loop (faster-whisper's own test).
LOOP_COMPRESSION_RATIO = 2.4
#: The repetition penalty of a loop's second decode: enough to stop "1 1 1 1 …" running on, mild enough to
#: keep a card number's real repeats most of the time.
LOOP_REPETITION_PENALTY = 1.3
#: faster-whisper's defaults for attaching punctuation to the word before or after it.
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


@dataclass(frozen=True, eq=False)
class DecodeItem:
    """One piece of audio to decode."""

    #: Mono float32 samples at `SAMPLE_RATE`, at most `WINDOW_S` - `GAP_S` long.
    samples: npt.NDArray[np.float32]
    #: Words already confirmed for this audio, forced as the decoder's prefix; only later words come back.
    prefix: str = ""
    #: Terms to bias the decoder toward (faster-whisper's ``hotwords``).
    hotwords: str = ""
    #: Whisper language code; None is not supported here (live streams know their language).
    language: str = "en"
    #: Finals are urgent and decode with the beam; interims greedily.
    final: bool = False
    #: A chunk of a recording: decoded with `beam_size` in full, in rounds of several windows, and again
    #: with a repetition penalty when it loops.
    prerecorded: bool = False
    #: The beam of a prerecorded chunk (live items use the decoder's).
    beam_size: int = 5

    @property
    def duration_s(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class DecodeResult:
    """The words decoded after an item's prefix, timed from the start of its samples."""

    words: tuple[Word, ...]
    #: Whisper's probability that the piece holds no speech.
    no_speech_prob: float = 0.0
    #: Mean log-probability of the generated tokens.
    avg_logprob: float = 0.0


class Decoder(BatchRunner[DecodeItem, DecodeResult], Protocol):
    """What recordings and live streams decode with: the `PackedDecoder`, or a stand-in in tests."""

    def language_probabilities(self, samples: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        """(language code, probability) for every language the model knows, for mono 16 kHz `samples`."""
        ...


class PackedDecoder:
    """Decodes `DecodeItem`s with a faster-whisper model, many per encoder window (a `BatchRunner`).

    Use it from the scheduler's workers: each decodes its own round on its own replica of the model
    (CTranslate2's ``inter_threads``), and what the decoder keeps (tokenizers, the encoded silent window) is
    the same whichever thread makes it first.
    """

    def __init__(
        self, model: WhisperModel | Callable[[], WhisperModel], *, beam_size: int = 5, windows: int = 1
    ) -> None:
        self._model_or_loader = model
        self._loaded: WhisperModel | None = None
        self._beam_size = beam_size
        #: Most windows a round that starts with a recording's chunk encodes.
        self._windows = windows
        self._silence: npt.NDArray[Any] | None = None
        self._tokenizers: dict[str, Tokenizer] = {}

    @property
    def _model(self) -> WhisperModel:
        """The model, loaded on first use (on a scheduler worker, so nothing else waits for it)."""
        if self._loaded is None:
            loaded = self._model_or_loader
            self._loaded = loaded() if callable(loaded) else loaded
        return self._loaded

    @property
    def _max_length(self) -> int:
        """Most tokens Whisper's decoder takes, prompt included (448)."""
        return whisper_internals.max_length(self._model)

    def language_probabilities(self, samples: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        """The languages spoken in `samples`, as faster-whisper's ``transcribe`` detects them: on the speech
        only, up to 3 windows of 30 s."""
        _, _, found = self._model.detect_language(samples, vad_filter=True, language_detection_segments=3)
        return [(code, float(p)) for code, p in found]

    def plan(self, items: Sequence[DecodeItem]) -> list[int]:
        """The items (most urgent first) that fit one round; the first always goes.

        A round is one window, or up to `windows` when every item waiting is a recording's chunk. At most
        `MAX_ITEMS` in all and `MAX_INTERIMS` interims: a round's decode time grows with its items, and a
        final arriving meanwhile waits for the round to end. An interim never passes an older one that did
        not fit: otherwise a long utterance's interims, the ones its words are confirmed from, would wait
        behind shorter ones round after round, and grow longer still.
        """
        windows = self._round_windows(items)
        chosen: list[int] = []
        pieces: list[DecodeItem] = []
        interims = 0
        for index, item in enumerate(items):
            fits = not chosen or _pack([*pieces, item], windows) is not None
            if not item.final and (not fits or interims == MAX_INTERIMS):
                break
            if fits:
                chosen.append(index)
                pieces.append(item)
                interims += not item.final
            if len(chosen) == MAX_ITEMS:
                break
        return chosen

    def run(self, items: Sequence[DecodeItem]) -> Iterator[tuple[int, DecodeResult]]:
        """Encode the items' windows once; decode the live finals, then the recordings' chunks, then the
        interims, yielding as each group ends."""
        started = time.perf_counter()
        places = _placed(items, self._windows)
        encoded = self._encode(_layout(items, places))
        silence = self._silence_frames()
        encoded_at = time.perf_counter()
        # CTranslate2 decodes prompts together only with their <|startoftranscript|> at one place: the same
        # language, and hotwords of one length in tokens.
        shapes = [self._prompt_shape(item) for item in items]
        for kind in ((True, False), (True, True), (False, False)):
            group = [i for i, item in enumerate(items) if (item.final, item.prerecorded) == kind]
            for shape in sorted({shapes[i] for i in group}):
                same = [i for i in group if shapes[i] == shape]
                yield from self._decode_group(same, items, encoded, silence, places)
        logger.debug(
            "packed %d item(s) (%d final, %.1f s of audio) in %d window(s): encode %.2f s, decode %.2f s",
            len(items),
            sum(item.final for item in items),
            sum(item.duration_s for item in items),
            len(encoded),
            encoded_at - started,
            time.perf_counter() - encoded_at,
        )

    def _round_windows(self, items: Sequence[DecodeItem]) -> int:
        """Several windows only while no live work waits: a live final arriving meanwhile waits for the
        whole round."""
        return self._windows if all(item.prerecorded for item in items) else 1

    # Steps.

    def _decode_group(
        self,
        members: list[int],
        items: Sequence[DecodeItem],
        encoded: npt.NDArray[Any],
        silence: npt.NDArray[Any],
        places: list[tuple[int, int]],
    ) -> Iterator[tuple[int, DecodeResult]]:
        composites = np.stack([_composite(encoded, silence, places, items, i) for i in members])
        results = self._decode([items[i] for i in members], composites, [places[i][1] for i in members])
        for index, result in zip(members, results, strict=True):
            yield index, _shifted(result, items[index])

    def _encode(self, windows: npt.NDArray[np.float32]) -> npt.NDArray[Any]:
        """Encoder output of each window, shape (windows, 1500, d_model), on the CPU."""
        features = np.stack([whisper_internals.log_mel(self._model, window, int(WINDOW_S * 100)) for window in windows])
        encoded = whisper_internals.ctranslate2_model(self._model).encode(
            _storage(features.astype(np.float32)), to_cpu=True
        )
        frames: npt.NDArray[Any] = np.asarray(encoded)
        return frames

    def _silence_frames(self) -> npt.NDArray[Any]:
        if self._silence is None:
            self._silence = self._encode(np.zeros((1, WINDOW_SAMPLES), dtype=np.float32))[0]
        return self._silence

    def _decode(self, items: list[DecodeItem], composites: npt.NDArray[Any], offsets: list[int]) -> list[DecodeResult]:
        tokenizer = self._tokenizer(items[0].language)
        prompts = [self._prompt(tokenizer, item) for item in items]
        prefixes = [_prefix_tokens(tokenizer, item.prefix) for item in items]
        max_new = max(int(item.duration_s * MAX_TOKENS_PER_S) + 16 for item in items)
        max_length = min(self._max_length, max(len(p) + len(q) for p, q in zip(prompts, prefixes, strict=True)))
        settings: dict[str, Any] = {
            "beam_size": self._beam_width(items),
            "max_length": min(self._max_length, max_length + max_new),
            "return_scores": True,
            "return_no_speech_prob": True,
            "suppress_blank": True,
            "suppress_tokens": whisper_internals.suppressed_tokens(tokenizer),
        }
        if items[0].prerecorded:
            settings["max_initial_timestamp_index"] = MAX_INITIAL_TIMESTAMP_INDEX
        starts = [
            [*p, *_start_timestamp(tokenizer, item, offset), *q]
            for p, q, item, offset in zip(prompts, prefixes, items, offsets, strict=True)
        ]
        whisper = whisper_internals.ctranslate2_model(self._model)
        generated = list(whisper.generate(_storage(composites), starts, **settings))
        loops = [i for i, item in enumerate(items) if item.prerecorded and _loops(tokenizer, generated[i])]
        if loops:
            again = whisper.generate(
                _storage(composites[loops]),
                [starts[i] for i in loops],
                repetition_penalty=LOOP_REPETITION_PENALTY,
                **settings,
            )
            for i, result in zip(loops, again, strict=True):
                generated[i] = result
        # CTranslate2 returns the forced prefix followed by the generated tokens.
        texts = [[t for t in g.sequences_ids[0] if t < tokenizer.eot] for g in generated]
        heard = [
            len(text) > len(prefix) and not _heard_nothing(g)
            for text, prefix, g in zip(texts, prefixes, generated, strict=True)
        ]
        rows = [i for i, ok in enumerate(heard) if ok]
        # Aligned from the piece's first frame: DTW squeezes the first word into whatever frames lie before it.
        spans = [slice(offsets[i] * FRAMES_PER_S // SAMPLE_RATE, _frames(offsets[i], items[i]).stop) for i in rows]
        aligned = iter(self._align(tokenizer, composites[rows], [texts[i] for i in rows], spans))
        results = []
        for item, offset, prefix, g, ok in zip(items, offsets, prefixes, generated, heard, strict=True):
            words: tuple[Word, ...] = ()
            if ok:
                alignment, start_s = next(aligned)
                offset_s = offset / SAMPLE_RATE - start_s
                if item.prerecorded:  # its loops were decoded again; what is left is what Whisper heard
                    words = _words_after_prefix(alignment, len(prefix), offset_s, item.duration_s, 0.0)
                else:
                    words = _words_after_prefix(alignment, len(prefix), offset_s, item.duration_s)
                    words = drop_repeats(item.prefix.split(), words)
            least = MIN_CONFIDENCE if offset == 0 else MIN_CONFIDENCE_AFTER_START
            if g.no_speech_prob > NO_SPEECH_PROB and words and fmean(w.confidence for w in words) < least:
                words = ()  # Whisper's "you" on silence: it doubted there was speech and is unsure of the words
            results.append(DecodeResult(words, float(g.no_speech_prob), _avg_logprob(g)))
        return results

    def _beam_width(self, items: list[DecodeItem]) -> int:
        """Interims decode greedily; live finals with the configured beam, narrowed when several share a
        decode; a recording's chunks with their own beam.

        A beam's cost grows with the sequences decoded at once: when finals pile up (a busy server) each gets
        a narrower beam, and the round that holds them ends sooner, so the finals queued behind it wait less.
        """
        if items[0].prerecorded:
            return items[0].beam_size
        if not items[0].final:
            return 1
        return max(1, self._beam_size // len(items))

    def _align(
        self, tokenizer: Tokenizer, composites: npt.NDArray[Any], texts: list[list[int]], spans: list[slice]
    ) -> list[tuple[list[dict[str, Any]], float]]:
        """Word timings of each text against its row of `composites`, and where (in seconds) they count from.

        Alignment is teacher-forced (no generation), so it can run on the frames of each piece alone: as
        cheap as the piece is short. The rows are cut to one common length to run as one batch.
        """
        if not texts:
            return []
        frames = composites.shape[1]
        length = min(frames, max(MIN_ALIGN_FRAMES, *(span.stop - span.start for span in spans)))
        starts = [max(0, min(span.start, frames - length)) for span in spans]
        rows = np.stack([row[start : start + length] for row, start in zip(composites, starts, strict=True)])
        # CTranslate2 counts the encoder's input frames, two per output frame.
        alignments = whisper_internals.align(self._model, tokenizer, texts, _storage(rows), 2 * length)
        return [(alignment, start / FRAMES_PER_S) for alignment, start in zip(alignments, starts, strict=True)]

    def _tokenizer(self, language: str) -> Tokenizer:
        tokenizer = self._tokenizers.get(language)
        if tokenizer is None:
            tokenizer = whisper_internals.tokenizer(self._model, language)
            self._tokenizers[language] = tokenizer
        return tokenizer

    def _prompt_shape(self, item: DecodeItem) -> tuple[str, int]:
        """The language of an item's prompt, and where its <|startoftranscript|> is."""
        prompt = self._prompt(self._tokenizer(item.language), item)
        return item.language, prompt.index(self._tokenizer(item.language).sot)

    def _prompt(self, tokenizer: Tokenizer, item: DecodeItem) -> list[int]:
        """[<|startofprev|> hotwords] <|startoftranscript|> lang task [<|notimestamps|>].

        A recording's chunk decodes with timestamp tokens, as faster-whisper's ``transcribe`` does: on
        spoken digits Whisper writes them more faithfully so ("789-0" rather than "780"). The timestamps
        are dropped; word times come from the alignment.
        """
        half = self._max_length // 2 - 1
        context = tokenizer.encode(" " + item.hotwords.strip()) if item.hotwords.strip() else []
        head = [tokenizer.sot_prev, *context[-half:]] if context else []
        return [*head, *tokenizer.sot_sequence, *([] if item.prerecorded else [tokenizer.no_timestamps])]


def _storage(array: npt.NDArray[Any]) -> Any:
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(array))


def _shifted(result: DecodeResult, item: DecodeItem) -> DecodeResult:
    """`result`, timed from the start of `item` rather than from the part of it that fit a window."""
    shift = (len(item.samples) - _placed_samples(item)) / SAMPLE_RATE
    if not shift:
        return result
    words = tuple(
        replace(w, start_s=round(w.start_s + shift, 3), end_s=round(w.end_s + shift, 3)) for w in result.words
    )
    return replace(result, words=words)


def _placed_samples(item: DecodeItem) -> int:
    return min(len(item.samples), WINDOW_SAMPLES - int(GAP_S * SAMPLE_RATE))


def _placed(items: Sequence[DecodeItem], windows: int) -> list[tuple[int, int]]:
    """Where each item is decoded: in the fewest windows (up to `windows`) that hold them."""
    for count in range(1, windows + 1):
        places = _pack(items, count)
        if places is not None:
            return places
    raise ValueError("items do not fit a round's windows; plan() chooses items that do")


def _pack(items: Sequence[DecodeItem], windows: int) -> list[tuple[int, int]] | None:
    """(window, sample offset) of each item, each in the first window with room; None if they do not fit."""
    used = [0] * windows
    places = []
    for item in items:
        need = _placed_samples(item) + int(GAP_S * SAMPLE_RATE)
        window = next((w for w in range(windows) if used[w] + need <= WINDOW_SAMPLES), None)
        if window is None:
            return None
        places.append((window, used[window]))
        used[window] += need
    return places


def _layout(items: Sequence[DecodeItem], places: list[tuple[int, int]]) -> npt.NDArray[np.float32]:
    """The windows the items are placed in, shape (windows used, `WINDOW_SAMPLES`)."""
    windows = np.zeros((max(window for window, _ in places) + 1, WINDOW_SAMPLES), dtype=np.float32)
    for item, (window, offset) in zip(items, places, strict=True):
        count = _placed_samples(item)
        windows[window, offset : offset + count] = item.samples[-count:]
    return windows


def _frames(offset: int, item: DecodeItem) -> slice:
    """The encoder frames that hold an item, with a margin."""
    first = offset * FRAMES_PER_S // SAMPLE_RATE - MARGIN_FRAMES
    last = -(-(offset + _placed_samples(item)) * FRAMES_PER_S // SAMPLE_RATE) + MARGIN_FRAMES
    return slice(max(0, first), min(int(WINDOW_S * FRAMES_PER_S), last))


def _composite(
    encoded: npt.NDArray[Any],
    silence: npt.NDArray[Any],
    places: list[tuple[int, int]],
    items: Sequence[DecodeItem],
    index: int,
) -> npt.NDArray[Any]:
    """The encoder output of item `index`'s window with every other item in it replaced by encoded silence."""
    window, offset = places[index]
    composite: npt.NDArray[Any] = encoded[window].copy()
    for other, ((other_window, other_offset), item) in enumerate(zip(places, items, strict=True)):
        if other != index and other_window == window:
            frames = _frames(other_offset, item)
            composite[frames] = silence[frames]
    own = _frames(offset, items[index])
    composite[own] = encoded[window][own]
    return composite


def _start_timestamp(tokenizer: Tokenizer, item: DecodeItem, offset: int) -> list[int]:
    """A recording's chunk starts where it lies in its window: its first timestamp token, forced."""
    if not item.prerecorded:
        return []
    return [tokenizer.timestamp_begin + round(offset * FRAMES_PER_S / SAMPLE_RATE)]


def _prefix_tokens(tokenizer: Tokenizer, prefix: str) -> list[int]:
    return tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []


def _avg_logprob(result: Any) -> float:
    """faster-whisper's ``avg_logprob``: CTranslate2's length-normalized score over the tokens and EOT."""
    length = len(result.sequences_ids[0])
    return float(result.scores[0]) * length / (length + 1)


def _loops(tokenizer: Tokenizer, generated: Any) -> bool:
    """Whether a decode's text compresses as well as a loop's (faster-whisper's test)."""
    text = tokenizer.decode([t for t in generated.sequences_ids[0] if t < tokenizer.eot])
    return bool(text.strip()) and whisper_internals.compression_ratio(text) > LOOP_COMPRESSION_RATIO


def _heard_nothing(generated: Any) -> bool:
    """faster-whisper's no-speech test. (A decode that loops is not thrown away whole, as faster-whisper
    does before it decodes again: `drop_repeats` keeps the words before the loop.)"""
    return bool(generated.no_speech_prob > NO_SPEECH_PROB and _avg_logprob(generated) < LOW_LOGPROB)


def drop_repeats(prefix: Sequence[str], words: Sequence[Word]) -> tuple[Word, ...]:
    """`words` without Whisper's loops: a run of `MIN_REPEAT_WORDS` or more words said again at once,
    whether both copies are in `words`, the first in the forced `prefix` ("…perfect union" + "order to form a
    more perfect union, establish…"), or the first ends in the prefix and the second begins there or after
    it ("…in order to form a more perfect union" + "establish justice, order to form a more perfect union,
    establish justice"). The second copy's words in `words` are dropped. (People do repeat themselves, but
    rarely three words or more at once; Whisper, decoding past the end of what it heard, often does.)"""
    keys = [_key(w) for w in words]
    tail = [_key(w) for w in prefix[-(len(keys) + MAX_REPEAT_WORDS) :]] if keys else []
    for size in range(min(len(tail), len(keys)), MAX_REPEAT_WORDS, -1):  # a long stretch of the prefix said again
        if keys[:size] == tail[-size:]:
            return drop_repeats(prefix, words[size:])
    said = [*tail, *keys]
    before = len(tail)
    for second in range(MIN_REPEAT_WORDS, len(said)):
        for size in range(min(MAX_REPEAT_WORDS, second, len(said) - second), MIN_REPEAT_WORDS - 1, -1):
            end = second + size
            if end > before and said[end - 1] == said[second - 1] and said[second - size : second] == said[second:end]:
                first_new = max(second, before) - before
                return drop_repeats(prefix, (*words[:first_new], *words[end - before :]))
    return tuple(words)


def _key(word: Word | str) -> str:
    return word_key(word.text if isinstance(word, Word) else word)


def _words_after_prefix(
    alignment: list[dict[str, Any]],
    prefix_tokens: int,
    offset_s: float,
    duration_s: float,
    min_probability: float = MIN_WORD_PROBABILITY,
) -> tuple[Word, ...]:
    """The aligned words whose first token comes after the prefix, timed from the item's start.

    Words the alignment puts after the item's audio, or that Whisper barely believes in, are
    hallucinations (typically a repeat of the text before them, decoded from the trailing silence of a
    live piece), except a doubtful first word before words it believes (`BELIEVED_PROBABILITY`). A
    recording's chunk keeps every word that lies in its audio, as faster-whisper does: a beam search's word
    may be right at a low probability ("I live at", "live" at 0.006).
    """
    first = 0
    for word in alignment:
        word["first_token"] = first
        first += len(word["tokens"])
    whisper_internals.merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
    said = [w for w in alignment if w["word"].strip() and w["first_token"] >= prefix_tokens]
    words = []
    for index, word in enumerate(said):
        start, end = float(word["start"]) - offset_s, float(word["end"]) - offset_s
        if start >= duration_s - ALIGN_SLACK_S:
            continue  # a word aligned before the audio is still one Whisper heard in it: it is kept at its start
        if word["probability"] < min_probability and not (index == 0 and _believed(said[1 : 1 + BELIEVED_AFTER])):
            continue
        start = min(max(start, 0.0), duration_s)
        end = min(max(end, start), duration_s)
        words.append(Word(word["word"].strip(), round(start, 3), round(end, 3), float(word["probability"])))
    return _without_stretched_starts(words)


def _without_stretched_starts(words: list[Word]) -> tuple[Word, ...]:
    """`words` with the first word, and each word after a sentence's end, cut to `LONG_WORD_MEDIANS` median
    word durations, as faster-whisper's ``add_word_timestamps`` does.

    The alignment stretches a word that follows silence back over it ("nice" from 6.40 s to 8.74 s, said at
    8.1 s): its start would be wrong by the length of the pause.
    """
    durations = [w.end_s - w.start_s for w in words if w.end_s > w.start_s]
    if not durations:
        return tuple(words)
    longest = LONG_WORD_MEDIANS * min(MEDIAN_WORD_CAP_S, float(np.median(durations)))
    for i, word in enumerate(words):
        after_pause = i == 0 or words[i - 1].text.endswith(SENTENCE_ENDS)
        if after_pause and word.end_s - word.start_s > longest:
            words[i] = replace(word, start_s=round(word.end_s - longest, 3))
    return tuple(words)


def _believed(following: list[dict[str, Any]]) -> bool:
    """Whether Whisper believes the words after a doubtful first word (`BELIEVED_AFTER` of them)."""
    return len(following) == BELIEVED_AFTER and fmean(w["probability"] for w in following) >= BELIEVED_PROBABILITY
