"""The JSON of WebSocket ``/v2/listen`` (Flux), as the SDK's ``deepgram/listen/v2/types/`` define it.

Every server message carries ``sequence_id``, 0, 1, 2, … across all types (spec/listen-v2.md §3); client
messages parse through one `TypeAdapter`, `FLUX_CLIENT_MESSAGE`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from openlisten.wire.base import WireModel

__all__ = [
    "FLUX_CLIENT_MESSAGE",
    "FluxClientMessage",
    "ListenV2CloseStream",
    "ListenV2Configure",
    "ListenV2ConfigureFailure",
    "ListenV2ConfigureSuccess",
    "ListenV2Connected",
    "ListenV2FatalError",
    "ListenV2ForceEndTurn",
    "ListenV2KeepAlive",
    "ListenV2Thresholds",
    "ListenV2TurnInfo",
    "ListenV2Warning",
    "ListenV2Word",
]


class ListenV2Connected(WireModel):
    type: Literal["Connected"] = "Connected"
    request_id: str
    sequence_id: int


class ListenV2Word(WireModel):
    #: Punctuated and capitalized.
    word: str
    confidence: float
    start: float
    end: float


class ListenV2TurnInfo(WireModel):
    type: Literal["TurnInfo"] = "TurnInfo"
    request_id: str
    sequence_id: int
    event: Literal["Update", "StartOfTurn", "EagerEndOfTurn", "TurnResumed", "EndOfTurn"]
    turn_index: int
    audio_window_start: float
    audio_window_end: float
    transcript: str
    words: list[ListenV2Word]
    end_of_turn_confidence: float
    #: On EndOfTurn only: ``model``, ``manual`` or ``timeout``.
    trigger: str | None = None
    #: ``flux-general-multi`` only: the languages of the words, most frequent first.
    languages: list[str] | None = None
    #: The language hints in force, when there are any.
    languages_hinted: list[str] | None = None


class ListenV2Thresholds(WireModel):
    eot_threshold: float
    eager_eot_threshold: float | None = None
    eot_timeout_ms: int


class ListenV2ConfigureSuccess(WireModel):
    type: Literal["ConfigureSuccess"] = "ConfigureSuccess"
    request_id: str
    sequence_id: int
    thresholds: ListenV2Thresholds
    keyterms: list[str]
    numerals: bool
    #: ``flux-general-multi`` only: the language hints in force.
    language_hints: list[str] | None = None


class ListenV2ConfigureFailure(WireModel):
    type: Literal["ConfigureFailure"] = "ConfigureFailure"
    request_id: str
    sequence_id: int
    code: str
    description: str


class ListenV2Warning(WireModel):
    type: Literal["Warning"] = "Warning"
    request_id: str
    sequence_id: int
    code: str
    description: str


class ListenV2FatalError(WireModel):
    type: Literal["Error"] = "Error"
    sequence_id: int
    code: str
    description: str


# Client → server.


class _ClientWire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class ListenV2CloseStream(_ClientWire):
    type: Literal["CloseStream"]


class ListenV2ForceEndTurn(_ClientWire):
    type: Literal["ForceEndTurn"]


class ListenV2KeepAlive(_ClientWire):
    type: Literal["KeepAlive"]


class ListenV2ConfigureThresholds(_ClientWire):
    eot_threshold: float | None = None
    eager_eot_threshold: float | None = None
    eot_timeout_ms: int | None = None


class ListenV2Configure(_ClientWire):
    type: Literal["Configure"]
    thresholds: ListenV2ConfigureThresholds | None = None
    keyterms: list[str] | None = None
    language_hints: list[str] | None = None
    numerals: bool | None = None


FluxClientMessage = Annotated[
    ListenV2CloseStream | ListenV2ForceEndTurn | ListenV2KeepAlive | ListenV2Configure, Field(discriminator="type")
]

#: Parses one client text frame of ``/v2/listen``.
FLUX_CLIENT_MESSAGE: TypeAdapter[FluxClientMessage] = TypeAdapter(FluxClientMessage)
