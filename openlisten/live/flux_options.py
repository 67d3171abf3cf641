"""The query parameters of WebSocket ``/v2/listen`` (spec/listen-v2.md §1), parsed once.

The transcript options become a v1 `LiveOptions` for the transcript pipeline inside a `FluxSession`,
with what Flux always does (interim results, speech events, endpoints at pauses, punctuated text);
the turn options become `TurnThresholds`, and ``language_hint``s the `LanguageHints`. A value out of range
is `InvalidParameter` (400 at the handshake).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from openlisten.engine.models import language_problem
from openlisten.errors import InvalidParameter
from openlisten.live.channel import ENDPOINT_FLOOR_MS
from openlisten.live.options import LiveOptions
from openlisten.live.turns import TurnThresholds, check_thresholds

__all__ = ["FLUX_MODELS", "FluxOptions", "LanguageHints"]

#: Deepgram's Flux models; each runs the server's default model unless `Settings.model_map` names it.
FLUX_MODELS = ("flux-general-en", "flux-general-multi")
#: Parameters passed on to the transcript pipeline as they are.
_TRANSCRIPT = ("encoding", "sample_rate", "keyterm", "profanity_filter", "numerals", "redact", "tag", "mip_opt_out")
#: Most ``language_hint``s one stream takes (Whisper knows about a hundred languages).
MAX_LANGUAGE_HINTS = 100
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
#: What a Flux stream always asks of the pipeline.
_ALWAYS = (
    ("interim_results", "true"),
    ("vad_events", "true"),
    ("endpointing", str(ENDPOINT_FLOOR_MS)),
    ("punctuate", "true"),
)


@dataclass(frozen=True)
class LanguageHints:
    """The languages a Flux stream was told to expect (``language_hint``, or a Configure's ``language_hints``).

    Whisper decodes a live stream in one language, which it does not detect: the first hint's, or without
    hints `default` (English). ``flux-general-multi`` streams say so in every TurnInfo (``languages``), and
    echo the hints (``languages_hinted``); `english_only` models take English hints only.
    """

    hints: tuple[str, ...] = ()
    default: str = "en"
    english_only: bool = True
    #: TurnInfo and ConfigureSuccess carry the languages (``flux-general-multi``).
    multi: bool = False

    @property
    def decoded(self) -> str:
        """The language Whisper decodes in."""
        return self.hints[0].split("-")[0] if self.hints else self.default

    def checked(self, raw: Iterable[str]) -> tuple[str, ...]:
        """`raw` as language codes, when the stream can decode them all; else
        `InvalidParameter` says why."""
        hints = _parse_language_hints(raw)
        foreign = [hint for hint in hints if hint.split("-")[0] != "en"]
        if foreign and not self.multi:
            raise InvalidParameter(
                f"language hints are for flux-general-multi; this stream transcribes English (got {foreign[0]!r})"
            )
        for hint in foreign:
            problem = language_problem(hint, english_only=self.english_only)
            if problem is not None:
                raise InvalidParameter(f"language hint {hint!r} is not available: {problem}")
        return hints


@dataclass(frozen=True)
class FluxOptions:
    model: str
    live: LiveOptions
    thresholds: TurnThresholds
    language_hints: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, items: Iterable[tuple[str, str]]) -> FluxOptions:
        pairs = list(items)
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        model = (values.get("model") or [""])[-1]
        if not model:
            raise InvalidParameter("model is required, e.g. model=flux-general-en")
        transcript = [(key, value) for key, value in pairs if key in _TRANSCRIPT]
        live = LiveOptions.from_query([("model", model), *_ALWAYS, *transcript])
        eot, timeout = _number(values, "eot_threshold"), _number(values, "eot_timeout_ms")
        thresholds = TurnThresholds(
            eot_threshold=TurnThresholds.eot_threshold if eot is None else eot,
            eager_eot_threshold=_number(values, "eager_eot_threshold"),
            eot_timeout_ms=TurnThresholds.eot_timeout_ms if timeout is None else int(timeout),
        )
        problem = check_thresholds(thresholds)
        if problem is not None:
            raise InvalidParameter(problem)
        # Which languages the server's model decodes is checked when the stream opens (`LiveService`).
        model_languages = LanguageHints(english_only=False, multi=model != "flux-general-en")
        hints = model_languages.checked(values.get("language_hint", []))
        return cls(model, live, thresholds, hints)


def _parse_language_hints(raw: Iterable[str]) -> tuple[str, ...]:
    """Language codes (``en``, ``es``, ``pt-BR``), lowercased, each once, in order."""
    hints = tuple(dict.fromkeys(value.strip().lower() for value in raw if value.strip()))
    for hint in hints:
        if not _LANGUAGE_CODE.fullmatch(hint):
            raise InvalidParameter(f"language_hint must be a language code such as en or es, got {hint[:20]!r}")
    if len(hints) > MAX_LANGUAGE_HINTS:
        raise InvalidParameter(f"at most {MAX_LANGUAGE_HINTS} language hints, got {len(hints)}")
    return hints


def _number(values: dict[str, list[str]], name: str) -> float | None:
    given = values.get(name)
    if not given:
        return None
    try:
        return float(given[-1])
    except ValueError:
        raise InvalidParameter(f"{name} must be a number, got {given[-1]!r}") from None
