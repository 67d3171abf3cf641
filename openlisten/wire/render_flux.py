"""`FluxRenderer`: a Flux session's events as the JSON messages of ``/v2/listen`` (``wire/flux.py``)."""

from __future__ import annotations

from openlisten.live.events import ConfigureFailure
from openlisten.live.flux import FatalError, FluxConfigureSuccess, FluxWarning
from openlisten.live.turns import TurnEvent
from openlisten.wire.base import WireModel
from openlisten.wire.flux import (
    ListenV2ConfigureFailure,
    ListenV2ConfigureSuccess,
    ListenV2Connected,
    ListenV2FatalError,
    ListenV2Thresholds,
    ListenV2TurnInfo,
    ListenV2Warning,
    ListenV2Word,
)

__all__ = ["FluxRenderer"]


class FluxRenderer:
    """Flux's events as the messages of one stream, numbered 0, 1, 2, … across all types."""

    def __init__(self, request_id: str) -> None:
        self._request_id = request_id
        self._next = 0

    def connected(self) -> ListenV2Connected:
        """The first message."""
        return ListenV2Connected(request_id=self._request_id, sequence_id=self.next())

    def next(self) -> int:
        self._next += 1
        return self._next - 1

    def render(self, event: object) -> WireModel | None:
        if isinstance(event, TurnEvent):
            words = [
                ListenV2Word(word=w.punctuated_word, confidence=w.confidence, start=w.start_s, end=w.end_s)
                for w in event.words
            ]
            return ListenV2TurnInfo(
                request_id=self._request_id,
                sequence_id=self.next(),
                event=event.event,
                turn_index=event.turn_index,
                audio_window_start=event.audio_window_start,
                audio_window_end=event.audio_window_end,
                transcript=event.transcript,
                words=words,
                end_of_turn_confidence=event.end_of_turn_confidence,
                trigger=event.trigger,
                languages=_listed(event.languages),
                languages_hinted=_listed(event.languages_hinted),
            )
        if isinstance(event, FluxConfigureSuccess):
            thresholds = event.thresholds
            return ListenV2ConfigureSuccess(
                request_id=self._request_id,
                sequence_id=self.next(),
                thresholds=ListenV2Thresholds(
                    eot_threshold=thresholds.eot_threshold,
                    eager_eot_threshold=thresholds.eager_eot_threshold,
                    eot_timeout_ms=thresholds.eot_timeout_ms,
                ),
                keyterms=list(event.keyterms),
                numerals=event.numerals,
                language_hints=_listed(event.language_hints),
            )
        if isinstance(event, ConfigureFailure):
            return ListenV2ConfigureFailure(
                request_id=self._request_id, sequence_id=self.next(), code=event.code, description=event.description
            )
        if isinstance(event, FluxWarning):
            return ListenV2Warning(
                request_id=self._request_id, sequence_id=self.next(), code=event.code, description=event.description
            )
        if isinstance(event, FatalError):
            return ListenV2FatalError(sequence_id=self.next(), code=event.code, description=event.description)
        return None


def _listed(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)
