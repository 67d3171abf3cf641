"""`Engine`: what every request shares — the models, the scheduler, and one packed decoder per model.

Built once (by `create_app`, the embedded API or the CLI) and handed to the recording path (`Transcriber`)
and the live path (`LiveService`), so a recording's chunks, concurrent requests' chunks and live streams'
pieces share encoder windows and decoder batches, in the scheduler's order of priority.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from openlisten.config import Settings
from openlisten.engine.models import ModelManager, ModelSpec
from openlisten.engine.packed_decoder import DecodeItem, DecodeResult, PackedDecoder
from openlisten.engine.recognizer import ChunkedRecognizer, Recognizer
from openlisten.engine.scheduler import BatchRunner, Scheduler

__all__ = ["DECODE_WINDOWS", "Decoder", "Engine"]

#: Windows per decoding round of recordings' chunks when `Settings.decode_windows` is not set. On 2 CPU cores,
#: 2 minutes of speech took 6.4 s in rounds of 1 window, 5.5 s of 2, 4.8 s of 4, 4.7 s of 8, while a live
#: final arriving during a round waits for it (about 0.75 s per window there); a GPU gains from more.
DECODE_WINDOWS = {"cpu": 4, "cuda": 16}

Decoder = BatchRunner[DecodeItem, DecodeResult]


class Engine:
    """The models, the scheduler and the decoders, shared by recordings and live streams.

    `decoder_for` and `recognizer_for` replace the real decoder and recognizer of a model (tests use
    `FakePackedDecoder` and scripted recognizers for plumbing).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        decoder_for: Callable[[ModelSpec], Decoder] | None = None,
        recognizer_for: Callable[[ModelSpec], Recognizer] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.models = ModelManager(self.settings)
        self.scheduler = Scheduler()
        self._decoder_for = decoder_for or self._packed_decoder
        self._recognizer_for = recognizer_for or self._chunked_recognizer
        self._stand_ins = decoder_for is not None or recognizer_for is not None
        self._decoders: dict[str, Decoder] = {}
        self._decoders_lock = threading.Lock()

    def decoder(self, spec: ModelSpec) -> Decoder:
        """The one decoder of `spec`'s model (it loads the model on first use, on the scheduler's worker)."""
        with self._decoders_lock:
            decoder = self._decoders.get(spec.source)
            if decoder is None:
                decoder = self._decoders[spec.source] = self._decoder_for(spec)
            return decoder

    def recognizer(self, spec: ModelSpec) -> Recognizer:
        """What recognizes a recording with `spec`'s model: its chunks go to the model's decoder."""
        return self._recognizer_for(spec)

    def load(self, spec: ModelSpec) -> None:
        """Load `spec`'s model now, rather than on its first decode (a server's start-up: ``/readyz`` waits
        for it); nothing to load when stand-ins replace the decoder or the recognizer."""
        if not self._stand_ins:
            self.models.load(spec)

    def _packed_decoder(self, spec: ModelSpec) -> PackedDecoder:
        return PackedDecoder(
            lambda: self.models.load(spec),
            beam_size=self.settings.live_beam_size,
            windows=self.settings.decode_windows or DECODE_WINDOWS[self.models.device],
        )

    def _chunked_recognizer(self, spec: ModelSpec) -> Recognizer:
        return ChunkedRecognizer(self.decoder(spec), self.scheduler, lambda: self.models.load(spec))
