"""`ChunkedRecognizer`: recordings recognized on the packed decoder the live path uses.

A recording is cut at its pauses into chunks of up to one Whisper window (`CHUNK_S`), and the chunks are
decoded as `DecodeItem`s of the shared `PackedDecoder`, through the shared scheduler: the chunks of one
recording, of concurrent requests and of live streams share encoder windows and decoder batches, each at
its priority. Chunks without context decode better than faster-whisper's window-by-window ``transcribe``
on long-form speech (bench/prerecorded.py), and several decode in one pass.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.packed_decoder import GAP_S, WINDOW_S, DecodeItem, Decoder, DecodeResult
from openlisten.engine.scheduler import Priority, Scheduler
from openlisten.engine.types import Segment, Word
from openlisten.engine.vad import SpeechRegion, clip_to_speech, speech_pieces, speech_regions

__all__ = ["ChunkedRecognizer", "Recognition", "RecognitionOptions"]


@dataclass(frozen=True)
class RecognitionOptions:
    """How to decode one piece of audio."""

    #: Language code for Whisper (``"en"``); None detects it.
    language: str | None = "en"
    #: Beam width; 1 is greedy.
    beam_size: int = 5
    #: Terms that bias the decoder (faster-whisper's ``hotwords``).
    hotwords: str | None = None


@dataclass(frozen=True)
class Recognition:
    """A recognition in progress: segments arrive lazily, so callers can show progress."""

    segments: Iterator[Segment]
    #: Seconds of audio being recognized.
    duration_s: float
    language: str
    language_probability: float


#: Longest chunk: one window, less the gap the packed decoder keeps after each piece.
CHUNK_S = WINDOW_S - GAP_S
#: Audio kept around each chunk's speech, so no word onset or tail is cut off.
CHUNK_PAD_S = 0.2
#: Seconds of speech after a chunk's last word that are decoded again (a word's tail is shorter).
MIN_UNHEARD_S = 0.5
#: Most times the rest of one chunk is decoded again.
MAX_TAIL_DECODES = 2
#: Chunks submitted ahead of the one being waited for: enough to fill the decoder's rounds, few enough
#: that concurrent requests and live work interleave with a long recording's.
CHUNKS_AHEAD = 16


class ChunkedRecognizer:
    """Recognizes recordings in chunks cut at pauses, decoded by a shared packed decoder (a `BatchRunner`).

    Decoding is deterministic: the same audio gives the same text. faster-whisper's answer to a window that
    loops (typically a run of repeated digits) is to sample it again at rising temperatures, so a card number
    could be redacted in one run and come out differently in the next; here every chunk decodes at
    temperature 0, and one that loops is decoded again with a repetition penalty (`PackedDecoder`).
    """

    def __init__(self, decoder: Decoder, scheduler: Scheduler) -> None:
        self.decoder = decoder
        self.scheduler = scheduler

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        """Recognize mono float32 16 kHz `samples`: called from the request's own thread, never from the
        scheduler's workers (the model work is scheduled here)."""
        regions = self.scheduler.run(Priority.PRERECORDED, lambda: speech_regions(samples, CHUNK_S))
        language, probability = options.language, 1.0
        if language is None:
            language, probability = max(self.language_probabilities(samples), key=lambda pair: pair[1])
        chunks = speech_pieces(regions, len(samples), CHUNK_S, CHUNK_PAD_S)
        items = [
            DecodeItem(
                samples[first:last],
                hotwords=options.hotwords or "",
                language=language,
                final=True,
                prerecorded=True,
                beam_size=options.beam_size,
            )
            for first, last in chunks
        ]
        return Recognition(
            segments=self._segments(items, chunks, regions),
            duration_s=len(samples) / SAMPLE_RATE,
            language=language,
            language_probability=probability,
        )

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        """(language code, probability) for every language the model knows, for mono 16 kHz `samples`."""
        return self.scheduler.run(Priority.PRERECORDED, lambda: self.decoder.language_probabilities(samples))

    def _segments(
        self, items: Sequence[DecodeItem], chunks: Sequence[tuple[int, int]], regions: list[SpeechRegion]
    ) -> Iterator[Segment]:
        """One segment per chunk that holds words, in order, with `CHUNKS_AHEAD` chunks submitted ahead."""
        waiting: deque[Future[DecodeResult]] = deque()
        submitted = 0
        try:
            for index, (first, last) in enumerate(chunks):
                while submitted < min(len(items), index + CHUNKS_AHEAD):
                    waiting.append(self.scheduler.submit_batch(self.decoder, Priority.PRERECORDED, items[submitted]))
                    submitted += 1
                result = waiting.popleft().result()
                for _ in range(MAX_TAIL_DECODES + 1):
                    if not result.words:
                        break
                    yield _segment(result, first / SAMPLE_RATE, last / SAMPLE_RATE, regions)
                    rest = _unheard_tail(result, first, last, regions)
                    if rest is None:
                        break
                    first = rest
                    tail = dataclasses.replace(items[index], samples=items[index].samples[-(last - first) :])
                    result = self.scheduler.submit_batch(self.decoder, Priority.PRERECORDED, tail).result()
        finally:  # a request given up (client gone) leaves no chunk behind to decode
            for future in waiting:
                future.cancel()


def _unheard_tail(result: DecodeResult, first: int, last: int, regions: list[SpeechRegion]) -> int | None:
    """Where the speech left after a chunk's last word starts, when the decode stopped short of it.

    Whisper may end a window's text before the window's end (in timestamp mode it leaves an unfinished
    sentence to the next window, which faster-whisper's ``transcribe`` seeks to); a chunk has no next
    window, so that speech is decoded again on its own. (A live final decodes on over the same audio with
    its words so far as prefix, since its words are tiled by text; on a recording's chunk that did worse:
    bench/live.py's 8 continuous sessions prerecorded, WER 6.1 % against 4.4 %, one of them looping.)
    """
    heard_s = first / SAMPLE_RATE + result.words[-1].end_s
    end_s = last / SAMPLE_RATE
    unheard = sum(max(0.0, min(end, end_s) - max(start, heard_s)) for start, end in regions)
    if unheard < MIN_UNHEARD_S:
        return None
    return int(heard_s * SAMPLE_RATE)


def _segment(result: DecodeResult, start_s: float, end_s: float, regions: list[SpeechRegion]) -> Segment:
    """A chunk's words, in the recording's times and clipped to its speech."""
    words = [
        Word(w.text, round(w.start_s + start_s, 3), round(w.end_s + start_s, 3), w.confidence) for w in result.words
    ]
    return Segment(
        words=tuple(clip_to_speech(words, regions)),
        start_s=start_s,
        end_s=end_s,
        avg_logprob=result.avg_logprob,
        no_speech_prob=result.no_speech_prob,
    )
