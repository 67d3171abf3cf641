"""The query parameters of WebSocket ``/v2/listen`` (spec/listen-v2.md §1), parsed once.

The transcript options become a v1 `LiveOptions` for the transcript pipeline inside a `FluxSession`,
with what Flux always does (interim results, speech events, endpoints at pauses, punctuated text);
the turn options become `TurnThresholds`. A value out of range is `InvalidParameter` (400 at the
handshake).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openlisten.errors import InvalidParameter
from openlisten.live.channel import ENDPOINT_FLOOR_MS
from openlisten.live.options import LiveOptions
from openlisten.live.turns import TurnThresholds, check_thresholds

__all__ = ["FLUX_MODELS", "FluxOptions"]

#: Deepgram's Flux models; each runs the server's default model unless `Settings.model_map` names it.
FLUX_MODELS = ("flux-general-en", "flux-general-multi")
#: Parameters passed on to the transcript pipeline as they are.
_TRANSCRIPT = ("encoding", "sample_rate", "keyterm", "profanity_filter", "numerals", "redact", "tag", "mip_opt_out")
#: What a Flux stream always asks of the pipeline.
_ALWAYS = (
    ("interim_results", "true"),
    ("vad_events", "true"),
    ("endpointing", str(ENDPOINT_FLOOR_MS)),
    ("punctuate", "true"),
)


@dataclass(frozen=True)
class FluxOptions:
    model: str
    live: LiveOptions
    thresholds: TurnThresholds

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
        return cls(model, live, thresholds)


def _number(values: dict[str, list[str]], name: str) -> float | None:
    given = values.get(name)
    if not given:
        return None
    try:
        return float(given[-1])
    except ValueError:
        raise InvalidParameter(f"{name} must be a number, got {given[-1]!r}") from None
