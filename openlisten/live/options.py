"""`LiveOptions`: the query parameters of WebSocket ``/v1/listen``, parsed once (spec/listen-v1.md §5.2).

The parameters live and prerecorded share (model, language, encoding, formatting, keyterms, redaction,
search, tag, extra…) are parsed by `ListenOptions` and checked for a live stream (`ListenOptions.check_live`);
this module adds the live ones: ``interim_results``, ``endpointing``, ``utterance_end_ms`` and ``vad_events``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from openlisten.audio import RawFormat
from openlisten.errors import InvalidParameter
from openlisten.features.vocabulary import hotwords
from openlisten.options import ListenOptions

__all__ = ["DEFAULT_ENDPOINTING_MS", "LiveOptions"]

#: Deepgram's default ``endpointing``: 10 ms of silence ends an utterance (spec §5.2).
DEFAULT_ENDPOINTING_MS = 10
#: Longest ``endpointing`` or ``utterance_end_ms`` accepted: a minute of silence.
_MAX_SILENCE_MS = 60_000
#: Raw encodings that carry no sample rate of their own, so ``sample_rate`` must come with them.
_RATE_REQUIRED = frozenset({"linear16", "linear32", "mulaw", "alaw"})
#: Live parameters accepted and ignored: they change nothing on this server.
_IGNORED = ("no_delay", "version", "mip_opt_out")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass(frozen=True)
class LiveOptions:
    """What a live ``/v1/listen`` connection asks for."""

    #: The parameters live and prerecorded share.
    listen: ListenOptions = field(default_factory=ListenOptions)
    #: Send ``is_final=false`` hypotheses as they change.
    interim_results: bool = False
    #: Silence, in ms, after speech that sets ``speech_final=true``; None when endpointing is off.
    endpointing_ms: int | None = DEFAULT_ENDPOINTING_MS
    #: Send UtteranceEnd once this many ms pass after the last finalized word with no new word; None: never.
    utterance_end_ms: int | None = None
    #: Send SpeechStarted when speech begins.
    vad_events: bool = False

    @classmethod
    def from_query(cls, items: Iterable[tuple[str, str]]) -> LiveOptions:
        """Parse query parameters given as (key, value) pairs, keys possibly repeated."""
        shared: list[tuple[str, str]] = []
        live: dict[str, list[str]] = {}
        for key, value in items:
            if key in ("interim_results", "endpointing", "utterance_end_ms", "vad_events"):
                live.setdefault(key, []).append(value)
            elif key not in _IGNORED:
                shared.append((key, value))
        options = cls(
            listen=ListenOptions.from_query(shared).check_live(),  # REST-only options are refused (spec §5.2)
            interim_results=_bool("interim_results", live.get("interim_results"), False),
            endpointing_ms=_endpointing(live.get("endpointing")),
            utterance_end_ms=_milliseconds("utterance_end_ms", live.get("utterance_end_ms")),
            vad_events=_bool("vad_events", live.get("vad_events"), False),
        )
        options.raw_format()  # a declared raw format must be complete and valid
        return options

    @property
    def keyterms(self) -> tuple[str, ...]:
        """The ``keyterm`` terms (a Configure message may replace them)."""
        return self.listen.keyterm

    def hotwords(self, keyterms: tuple[str, ...] | None = None) -> str:
        """The decoder's bias terms: `keyterms` (default: the query's) and the boosted ``keywords``."""
        return hotwords(self.keyterms if keyterms is None else keyterms, self.listen.keywords) or ""

    def raw_format(self) -> RawFormat | None:
        """The declared raw encoding, or None for a containerized stream (WAV, Ogg, WebM…)."""
        listen = self.listen
        if listen.encoding is None:
            return None
        if listen.sample_rate is None and listen.encoding in _RATE_REQUIRED:
            raise InvalidParameter(f"sample_rate is required with encoding={listen.encoding}")
        # Codec streams (opus, flac…) carry their own rate; RawFormat ignores it for them.
        return RawFormat(listen.encoding, listen.sample_rate or 16000, listen.channels)


def _last(values: list[str] | None) -> str | None:
    return values[-1] if values else None


def _bool(name: str, values: list[str] | None, default: bool) -> bool:
    value = _last(values)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidParameter(f"{name} must be true or false, got {value!r}")


def _milliseconds(name: str, values: list[str] | None) -> int | None:
    value = _last(values)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or not 0 <= number <= _MAX_SILENCE_MS:
        raise InvalidParameter(f"{name} must be a whole number of milliseconds (0 to {_MAX_SILENCE_MS}), got {value!r}")
    return int(number)


def _endpointing(values: list[str] | None) -> int | None:
    """``endpointing``: milliseconds, or ``false`` to turn it off (``true`` keeps the default)."""
    value = _last(values)
    if value is None or value.lower() in _TRUE:
        return DEFAULT_ENDPOINTING_MS
    if value.lower() == "false":
        return None
    return _milliseconds("endpointing", values)
