"""Pydantic models for every wire shape, fields named exactly as Deepgram names them (spec/listen-v1.md §4, §6, §7).

Responses are dumped with ``exclude_none=True``: a field that does not apply is left out, as Deepgram does.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True)


class ListenWord(_Wire):
    word: str
    start: float
    end: float
    confidence: float
    punctuated_word: str
    speaker: int | None = None
    speaker_confidence: float | None = None


class ListenSentence(_Wire):
    text: str
    start: float
    end: float


class ListenParagraph(_Wire):
    sentences: list[ListenSentence]
    speaker: int | None = None
    num_words: int
    start: float
    end: float


class ListenParagraphs(_Wire):
    transcript: str
    paragraphs: list[ListenParagraph]


class ListenAlternative(_Wire):
    transcript: str
    confidence: float
    words: list[ListenWord]
    paragraphs: ListenParagraphs | None = None


class ListenUtterance(_Wire):
    start: float
    end: float
    confidence: float
    channel: int
    transcript: str
    words: list[ListenWord]
    speaker: int | None = None
    id: str


class ListenSearchHit(_Wire):
    confidence: float
    start: float
    end: float
    snippet: str


class ListenSearch(_Wire):
    query: str
    hits: list[ListenSearchHit]


class ListenChannel(_Wire):
    search: list[ListenSearch] | None = None
    alternatives: list[ListenAlternative]
    detected_language: str | None = None
    language_confidence: float | None = None


class ListenResults(_Wire):
    channels: list[ListenChannel]
    utterances: list[ListenUtterance] | None = None


class ModelInfoBody(_Wire):
    name: str
    version: str
    arch: str


class DiarizeInfoBody(_Wire):
    model_uuid: str
    arch: str


class ListenMetadata(_Wire):
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


class ListenResponse(_Wire):
    """The complete prerecorded transcript (``ListenV1Response`` in the SDK)."""

    metadata: ListenMetadata
    results: ListenResults


class ListenAcceptedResponse(_Wire):
    """The immediate answer to a request with ``callback`` (``ListenV1AcceptedResponse``, spec §3.3)."""

    request_id: str


class UrlSource(BaseModel):
    """The JSON body of ``transcribe_url``."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(min_length=1, max_length=8192)


class ErrorBody(_Wire):
    """Deepgram's legacy error shape (spec §7.1)."""

    err_code: str
    err_msg: str
    request_id: str


class GrantRequest(BaseModel):
    """``POST /v1/auth/grant`` body."""

    ttl_seconds: float | None = Field(None, gt=0, le=3600)


class GrantResponse(_Wire):
    access_token: str
    expires_in: float


class SttModel(_Wire):
    name: str
    canonical_name: str
    architecture: str
    languages: list[str]
    version: str
    uuid: str
    batch: bool
    streaming: bool
    formatted_output: bool


class ListModelsResponse(_Wire):
    stt: list[SttModel]
    tts: list[dict[str, object]] = []
