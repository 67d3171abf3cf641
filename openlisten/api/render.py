"""Turns transcript records into Deepgram JSON models: the only place that knows both."""

from __future__ import annotations

from openlisten.api.schemas import (
    ListenAlternative,
    ListenChannel,
    ListenMetadata,
    ListenResponse,
    ListenResults,
    ListenWord,
    ModelInfoBody,
)
from openlisten.transcript import ChannelTranscript, Transcript, TranscriptWord

__all__ = ["render_response"]


def render_response(transcript: Transcript) -> ListenResponse:
    """The ``ListenV1Response`` of a finished transcription (spec/listen-v1.md §4)."""
    model = transcript.model
    metadata = ListenMetadata(
        request_id=transcript.request_id,
        sha256=transcript.sha256,
        created=transcript.created,
        duration=transcript.duration_s,
        channels=transcript.channels,
        models=[model.uuid],
        model_info={model.uuid: ModelInfoBody(name=model.name, version=model.version, arch=model.arch)},
        tags=list(transcript.tags) or None,
        extra=transcript.extra or None,
    )
    channels = [_channel(result) for result in transcript.results]
    return ListenResponse(metadata=metadata, results=ListenResults(channels=channels))


def _channel(result: ChannelTranscript) -> ListenChannel:
    alternative = ListenAlternative(
        transcript=result.transcript,
        confidence=result.confidence,
        words=[_word(w) for w in result.words],
    )
    return ListenChannel(
        alternatives=[alternative],
        detected_language=result.detected_language,
        language_confidence=result.language_confidence,
    )


def _word(word: TranscriptWord) -> ListenWord:
    return ListenWord(
        word=word.word,
        start=round(word.start_s, 3),
        end=round(word.end_s, 3),
        confidence=round(word.confidence, 4),
        punctuated_word=word.punctuated_word,
        speaker=word.speaker,
        speaker_confidence=word.speaker_confidence,
    )
