"""Pydantic models for every WebSocket ``/v1/listen`` message (spec/listen-v1.md §5.3, §5.4).

Class names are the SDK's (``ListenV1Results``…), field names Deepgram's. Server messages are dumped
with ``exclude_none=True``. Client text messages are one union discriminated on ``type`` and parsed by
one `TypeAdapter`, `CLIENT_MESSAGE`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from openlisten.wire.base import ModelInfoBody, WireModel
from openlisten.wire.listen import DiarizeInfoBody, ListenSearch

__all__ = [
    "CLIENT_MESSAGE",
    "ClientMessage",
    "ListenV1Alternative",
    "ListenV1CloseStream",
    "ListenV1Configure",
    "ListenV1ConfigureFailure",
    "ListenV1ConfigureSuccess",
    "ListenV1Error",
    "ListenV1Finalize",
    "ListenV1KeepAlive",
    "ListenV1Metadata",
    "ListenV1Results",
    "ListenV1ResultsChannel",
    "ListenV1ResultsMetadata",
    "ListenV1SpeechStarted",
    "ListenV1UtteranceEnd",
    "ListenV1Word",
    "ModelInfoBody",
    "ServerMessage",
]


# Server → client.


class ListenV1Word(WireModel):
    word: str
    start: float
    end: float
    confidence: float
    punctuated_word: str
    #: With ``diarize``, on finals.
    speaker: int | None = None


class ListenV1Alternative(WireModel):
    transcript: str
    confidence: float
    words: list[ListenV1Word]


class ListenV1ResultsChannel(WireModel):
    alternatives: list[ListenV1Alternative]
    #: ``search`` hits on finals (the older SDK schema's ``channel.search``; spec §5.4).
    search: list[ListenSearch] | None = None


class ListenV1ResultsMetadata(WireModel):
    request_id: str
    model_info: ModelInfoBody
    model_uuid: str
    #: The diarizer, when the stream is diarized.
    diarize_info: DiarizeInfoBody | None = None
    #: ``extra=key:value`` pairs, echoed as the older SDK schema expects (spec §5.4).
    extra: dict[str, str] | None = None


class ListenV1Results(WireModel):
    """A transcript of a span of the stream: interim (``is_final=false``) or final."""

    type: Literal["Results"] = "Results"
    #: ``[channel, total channels]``.
    channel_index: list[int]
    duration: float
    start: float
    is_final: bool
    speech_final: bool
    channel: ListenV1ResultsChannel
    metadata: ListenV1ResultsMetadata
    from_finalize: bool


class ListenV1Metadata(WireModel):
    """Sent once as the stream ends, before the close."""

    type: Literal["Metadata"] = "Metadata"
    transaction_key: str = "deprecated"
    request_id: str
    sha256: str
    created: str
    duration: float
    channels: int
    models: list[str]
    model_info: dict[str, ModelInfoBody]
    extra: dict[str, str] | None = None


class ListenV1SpeechStarted(WireModel):
    type: Literal["SpeechStarted"] = "SpeechStarted"
    channel: list[int]
    timestamp: float


class ListenV1UtteranceEnd(WireModel):
    type: Literal["UtteranceEnd"] = "UtteranceEnd"
    channel: list[int]
    last_word_end: float


class ListenV1Error(WireModel):
    """A client text message could not be used (``variant`` ``SchemaError``); the stream stays open."""

    type: Literal["Error"] = "Error"
    variant: str
    description: str
    message: str | None = None


class ListenV1ConfigureSuccess(WireModel):
    type: Literal["ConfigureSuccess"] = "ConfigureSuccess"
    request_id: str
    keyterms: list[str] | None = None


class ListenV1ConfigureFailure(WireModel):
    type: Literal["ConfigureFailure"] = "ConfigureFailure"
    request_id: str
    code: str
    description: str


ServerMessage = (
    ListenV1Results
    | ListenV1Metadata
    | ListenV1SpeechStarted
    | ListenV1UtteranceEnd
    | ListenV1Error
    | ListenV1ConfigureSuccess
    | ListenV1ConfigureFailure
)


# Client → server (the SDK sends them with json.dumps; extra fields are allowed, as the SDK's models allow).


class _ClientWire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class ListenV1KeepAlive(_ClientWire):
    type: Literal["KeepAlive"]


class ListenV1Finalize(_ClientWire):
    type: Literal["Finalize"]
    #: Only this channel; absent: every channel.
    channel: int | None = Field(None, ge=0)


class ListenV1CloseStream(_ClientWire):
    type: Literal["CloseStream"]


class ListenV1Configure(_ClientWire):
    type: Literal["Configure"]
    keyterms: list[str] | None = None
    features: dict[str, bool] | None = None


ClientMessage = Annotated[
    ListenV1KeepAlive | ListenV1Finalize | ListenV1CloseStream | ListenV1Configure, Field(discriminator="type")
]

#: Parses one client text frame (``CLIENT_MESSAGE.validate_json(text)``).
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
