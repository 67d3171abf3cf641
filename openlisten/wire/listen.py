"""Pydantic models for every wire shape, fields named exactly as Deepgram names them (spec/listen-v1.md §4, §6, §7).

Responses are dumped with ``exclude_none=True``: a field that does not apply is left out, as Deepgram does.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from openlisten.wire.base import ModelInfoBody, WireModel

__all__ = [
    "DiarizeInfoBody",
    "ErrorBody",
    "GrantRequest",
    "GrantResponse",
    "ListModelsResponse",
    "ListenAcceptedResponse",
    "ListenAlternative",
    "ListenChannel",
    "ListenMetadata",
    "ListenParagraph",
    "ListenParagraphs",
    "ListenResponse",
    "ListenResults",
    "ListenSearch",
    "ListenSearchHit",
    "ListenSentence",
    "ListenUtterance",
    "ListenWord",
    "ModelInfoBody",
    "SttModel",
    "UrlSource",
]


class ListenWord(WireModel):
    word: str
    start: float
    end: float
    confidence: float
    punctuated_word: str
    speaker: int | None = None
    speaker_confidence: float | None = None


class ListenSentence(WireModel):
    text: str
    start: float
    end: float


class ListenParagraph(WireModel):
    sentences: list[ListenSentence]
    speaker: int | None = None
    num_words: int
    start: float
    end: float


class ListenParagraphs(WireModel):
    transcript: str
    paragraphs: list[ListenParagraph]


class ListenAlternative(WireModel):
    transcript: str
    confidence: float
    words: list[ListenWord]
    paragraphs: ListenParagraphs | None = None


class ListenUtterance(WireModel):
    start: float
    end: float
    confidence: float
    channel: int
    transcript: str
    words: list[ListenWord]
    speaker: int | None = None
    id: str


class ListenSearchHit(WireModel):
    confidence: float
    start: float
    end: float
    snippet: str


class ListenSearch(WireModel):
    query: str
    hits: list[ListenSearchHit]


class ListenChannel(WireModel):
    search: list[ListenSearch] | None = None
    alternatives: list[ListenAlternative]
    detected_language: str | None = None
    language_confidence: float | None = None


class ListenResults(WireModel):
    channels: list[ListenChannel]
    utterances: list[ListenUtterance] | None = None


class DiarizeInfoBody(WireModel):
    model_uuid: str
    arch: str


class ListenMetadata(WireModel):
    transaction_key: str = "deprecated"
    request_id: str
    sha256: str
    created: str
    duration: float
    channels: int
    models: list[str]
    model_info: dict[str, ModelInfoBody]
    diarize_info: DiarizeInfoBody | None = None
    tags: list[str] | None = None
    extra: dict[str, str] | None = None


class ListenResponse(WireModel):
    """The complete prerecorded transcript (``ListenV1Response`` in the SDK)."""

    metadata: ListenMetadata
    results: ListenResults


class ListenAcceptedResponse(WireModel):
    """The immediate answer to a request with ``callback`` (``ListenV1AcceptedResponse``, spec §3.3)."""

    request_id: str


class UrlSource(BaseModel):
    """The JSON body of ``transcribe_url``."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(min_length=1, max_length=8192)


class ErrorBody(WireModel):
    """Deepgram's legacy error shape (spec §7.1)."""

    err_code: str
    err_msg: str
    request_id: str


class GrantRequest(BaseModel):
    """``POST /v1/auth/grant`` body."""

    ttl_seconds: float | None = Field(None, gt=0, le=3600)


class GrantResponse(WireModel):
    access_token: str
    expires_in: float


class SttModel(WireModel):
    name: str
    canonical_name: str
    architecture: str
    languages: list[str]
    version: str
    uuid: str
    batch: bool
    streaming: bool
    formatted_output: bool


class ListModelsResponse(WireModel):
    stt: list[SttModel]
    tts: list[dict[str, object]] = []
