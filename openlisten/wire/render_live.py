"""Turns live session events into Deepgram's WebSocket messages (spec/listen-v1.md §5.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from openlisten.live.events import (
    ConfigureFailure,
    ConfigureSuccess,
    Event,
    InvalidMessage,
    Metadata,
    Results,
    SpeechStarted,
    UtteranceEnd,
)
from openlisten.transcript import DiarizeInfo, ModelInfo, SearchResult, TranscriptWord
from openlisten.wire.listen import ListenSearch, ListenSearchHit
from openlisten.wire.live import (
    ListenV1Alternative,
    ListenV1ConfigureFailure,
    ListenV1ConfigureSuccess,
    ListenV1Error,
    ListenV1Metadata,
    ListenV1Results,
    ListenV1ResultsChannel,
    ListenV1ResultsMetadata,
    ListenV1SpeechStarted,
    ListenV1UtteranceEnd,
    ListenV1Word,
    ModelInfoBody,
    ServerMessage,
)
from openlisten.wire.render import diarize_info_body

__all__ = ["LiveContext", "render_live_event"]


@dataclass(frozen=True)
class LiveContext:
    """What every message of one connection shares."""

    request_id: str
    #: RFC 3339 time the connection opened.
    created: str
    model: ModelInfo
    extra: Mapping[str, str] = field(default_factory=dict)
    #: The diarizer, when the stream is diarized.
    diarize_info: DiarizeInfo | None = None

    def model_info(self) -> ModelInfoBody:
        return ModelInfoBody(name=self.model.name, version=self.model.version, arch=self.model.arch)


def render_live_event(event: Event, context: LiveContext) -> ServerMessage | None:
    """The message for `event`; None for events the client is not sent (model work, Close)."""
    if isinstance(event, Results):
        return _results(event, context)
    if isinstance(event, SpeechStarted):
        return ListenV1SpeechStarted(channel=[event.channel, event.channels], timestamp=event.timestamp_s)
    if isinstance(event, UtteranceEnd):
        return ListenV1UtteranceEnd(channel=[event.channel, event.channels], last_word_end=event.last_word_end_s)
    if isinstance(event, Metadata):
        return _metadata(event, context)
    if isinstance(event, InvalidMessage):
        return ListenV1Error(variant="SchemaError", description=event.description, message=event.message)
    if isinstance(event, ConfigureSuccess):
        return ListenV1ConfigureSuccess(request_id=context.request_id, keyterms=list(event.keyterms))
    if isinstance(event, ConfigureFailure):
        return ListenV1ConfigureFailure(request_id=context.request_id, code=event.code, description=event.description)
    return None


def _results(event: Results, context: LiveContext) -> ListenV1Results:
    alternative = ListenV1Alternative(
        transcript=event.transcript, confidence=event.confidence, words=[_word(w) for w in event.words]
    )
    metadata = ListenV1ResultsMetadata(
        request_id=context.request_id,
        model_info=context.model_info(),
        model_uuid=context.model.uuid,
        diarize_info=diarize_info_body(context.diarize_info),
        extra=dict(context.extra) or None,
    )
    return ListenV1Results(
        channel_index=[event.channel, event.channels],
        duration=event.duration_s,
        start=event.start_s,
        is_final=event.is_final,
        speech_final=event.speech_final,
        channel=ListenV1ResultsChannel(
            alternatives=[alternative], search=None if event.search is None else [_search(r) for r in event.search]
        ),
        metadata=metadata,
        from_finalize=event.from_finalize,
    )


def _metadata(event: Metadata, context: LiveContext) -> ListenV1Metadata:
    return ListenV1Metadata(
        request_id=context.request_id,
        sha256=event.sha256,
        created=context.created,
        duration=event.duration_s,
        channels=event.channels,
        models=[context.model.uuid],
        model_info={context.model.uuid: context.model_info()},
        extra=dict(context.extra) or None,
    )


def _search(result: SearchResult) -> ListenSearch:
    hits = [
        ListenSearchHit(
            confidence=hit.confidence, start=round(hit.start_s, 3), end=round(hit.end_s, 3), snippet=hit.snippet
        )
        for hit in result.hits
    ]
    return ListenSearch(query=result.query, hits=hits)


def _word(word: TranscriptWord) -> ListenV1Word:
    return ListenV1Word(
        word=word.word,
        start=round(word.start_s, 3),
        end=round(word.end_s, 3),
        confidence=round(word.confidence, 4),
        punctuated_word=word.punctuated_word,
        speaker=word.speaker,
    )
