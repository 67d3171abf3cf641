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
from openlisten.engine.packed_decoder import Decoder, PackedDecoder
from openlisten.engine.recognizer import ChunkedRecognizer
from openlisten.engine.scheduler import Scheduler

__all__ = ["DECODE_WINDOWS", "Engine"]

#: Windows per decoding round of recordings' chunks when `Settings.decode_windows` is not set. On 2 CPU cores,
#: 2 minutes of speech took 6.4 s in rounds of 1 window, 5.5 s of 2, 4.8 s of 4, 4.7 s of 8, while a live
#: final arriving during a round waits for it (about 0.75 s per window there); a GPU gains from more.
DECODE_WINDOWS = {"cpu": 4, "cuda": 16}


class Engine:
    """The models, the scheduler and the decoders, shared by recordings and live streams.

    `decoder_for` replaces the real decoder of a model: tests of the plumbing use `FakePackedDecoder`, and
    recordings and live streams go through it as through the real one.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        decoder_for: Callable[[ModelSpec], Decoder] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.models = ModelManager(self.settings)
        # A stand-in decoder (tests of the plumbing) runs its rounds one at a time, in a predictable order.
        self.scheduler = Scheduler(workers=1 if decoder_for is not None else self.settings.decode_workers)
        self._decoder_for = decoder_for or self._packed_decoder
        self._stand_in = decoder_for is not None
        self._decoders: dict[str, Decoder] = {}
        self._decoders_lock = threading.Lock()

    def decoder(self, spec: ModelSpec) -> Decoder:
        """The one decoder of `spec`'s model (it loads the model on first use, on a scheduler worker)."""
        with self._decoders_lock:
            decoder = self._decoders.get(spec.source)
            if decoder is None:
                decoder = self._decoders[spec.source] = self._decoder_for(spec)
            return decoder

    def recognizer(self, spec: ModelSpec) -> ChunkedRecognizer:
        """What recognizes a recording with `spec`'s model: its chunks go to the model's decoder."""
        return ChunkedRecognizer(self.decoder(spec), self.scheduler)

    def load(self, spec: ModelSpec) -> None:
        """Load `spec`'s model now, rather than on its first decode (a server's start-up: ``/readyz`` waits
        for it); nothing to load when a stand-in replaces the decoder."""
        if not self._stand_in:
            self.models.load(spec)

    def _packed_decoder(self, spec: ModelSpec) -> PackedDecoder:
        return PackedDecoder(
            lambda: self.models.load(spec),
            beam_size=self.settings.live_beam_size,
            windows=self.settings.decode_windows or DECODE_WINDOWS[self.models.device],
        )
