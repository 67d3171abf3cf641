"""`LiveService`: what every live connection of a server shares.

The `Engine`'s scheduler, models and packed decoders (one per model, the same ones recordings are decoded
by), so the work of every session and request on a model packs into the same windows. (The cap on live
sessions, `Settings.max_live_sessions`, is ``api/limits.py``'s.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from openlisten.engine.engine import Engine
from openlisten.engine.models import ModelSpec, whisper_language
from openlisten.engine.vad import SileroDetector, SpeechDetector
from openlisten.errors import InvalidParameter
from openlisten.live.flux import FluxSession
from openlisten.live.flux_options import FLUX_MODELS, FluxOptions, LanguageHints
from openlisten.live.options import LiveOptions
from openlisten.live.session import IDLE_TIMEOUT_S, LiveSession

if TYPE_CHECKING:
    from openlisten.engine.end_of_turn import EndOfTurnModel
    from openlisten.engine.speaker_encoder import SpeakerEncoder

__all__ = ["LiveService"]

logger = logging.getLogger(__name__)


class LiveService:
    """Opens live sessions on the shared `Engine`."""

    def __init__(
        self,
        engine: Engine,
        *,
        detector_factory: Callable[[], SpeechDetector] = SileroDetector,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.engine = engine
        self.detector_factory = detector_factory
        self.idle_timeout_s = idle_timeout_s
        self._end_of_turn: EndOfTurnModel | None = None
        self._end_of_turn_lock = threading.Lock()

    def open(self, options: LiveOptions) -> tuple[LiveSession, ModelSpec]:
        """A new session for `options` and the model it runs; `InvalidParameter` when they cannot be served."""
        spec = self.engine.models.resolve(options.listen.model)
        session = LiveSession(
            options,
            language=_language(options, spec),
            detector_factory=self.detector_factory,
            idle_timeout_s=self.idle_timeout_s,
            limits=self.engine.settings.audio_limits(live=True),
        )
        return session, spec

    def open_flux(self, options: FluxOptions) -> tuple[FluxSession, ModelSpec]:
        """A new Flux (``/v2/listen``) session and the model its words come from."""
        models = self.engine.models
        if options.model not in FLUX_MODELS and options.model not in self.engine.settings.model_map:
            raise InvalidParameter(f"No such Flux model: {options.model!r}; this server runs {', '.join(FLUX_MODELS)}")
        spec = models.resolve(options.model if options.model in self.engine.settings.model_map else "default")
        languages = LanguageHints(
            default=_language(options.live, spec),
            english_only=spec.english_only,
            multi=options.model != "flux-general-en",
        )
        session = FluxSession(
            options.live,
            options.thresholds,
            languages=replace(languages, hints=languages.checked(options.language_hints)),
            detector_factory=self.detector_factory,
            idle_timeout_s=self.idle_timeout_s,
            limits=self.engine.settings.audio_limits(live=True),
        )
        return session, spec

    async def end_of_turn_model(self) -> EndOfTurnModel:
        """The end-of-turn model Flux sessions share (loaded on first use, off the event loop)."""
        return await asyncio.to_thread(self._load_end_of_turn)

    def _load_end_of_turn(self) -> EndOfTurnModel:
        from openlisten.engine.end_of_turn import EndOfTurnModel

        with self._end_of_turn_lock:
            if self._end_of_turn is None:
                self._end_of_turn = EndOfTurnModel(self.engine.settings.turn_model)
            return self._end_of_turn

    async def embedder(self, options: LiveOptions) -> SpeakerEncoder | None:
        """The voice encoder, when the session diarizes (loaded on first use, off the event loop)."""
        if not options.listen.diarization:
            return None
        return await asyncio.to_thread(self.engine.models.speaker_encoder)


def _language(options: LiveOptions, spec: ModelSpec) -> str:
    """The Whisper language code a live stream decodes in (as a recording's, but never detected)."""
    language = whisper_language(options.listen, spec)
    if language is None or options.listen.detect_language:
        raise InvalidParameter("language detection is not available on live streams; set language, e.g. language=en")
    return language
