"""Turns transcript records into Deepgram JSON models: the only place that knows both."""

from __future__ import annotations

from openlisten.transcript import (
    ChannelTranscript,
    DiarizeInfo,
    Paragraphs,
    SearchResult,
    Transcript,
    TranscriptWord,
    Utterance,
)
from openlisten.wire.listen import (
    DiarizeInfoBody,
    ListenAlternative,
    ListenChannel,
    ListenMetadata,
    ListenParagraph,
    ListenParagraphs,
    ListenResponse,
    ListenResults,
    ListenSearch,
    ListenSearchHit,
    ListenSentence,
    ListenUtterance,
    ListenWord,
    ModelInfoBody,
)

__all__ = ["diarize_info_body", "render_response"]


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
        diarize_info=diarize_info_body(transcript.diarize_info),
    )
    channels = [_channel(result) for result in transcript.results]
    utterances = None if transcript.utterances is None else [_utterance(u) for u in transcript.utterances]
    return ListenResponse(metadata=metadata, results=ListenResults(channels=channels, utterances=utterances))


def _channel(result: ChannelTranscript) -> ListenChannel:
    alternative = ListenAlternative(
        transcript=result.transcript,
        confidence=result.confidence,
        words=[_word(w) for w in result.words],
        paragraphs=None if result.paragraphs is None else _paragraphs(result.paragraphs),
    )
    return ListenChannel(
        search=None if result.search is None else [_search(r) for r in result.search],
        alternatives=[alternative],
        detected_language=result.detected_language,
        language_confidence=result.language_confidence,
    )


def _search(result: SearchResult) -> ListenSearch:
    hits = [
        ListenSearchHit(confidence=hit.confidence, start=_s(hit.start_s), end=_s(hit.end_s), snippet=hit.snippet)
        for hit in result.hits
    ]
    return ListenSearch(query=result.query, hits=hits)


def diarize_info_body(info: DiarizeInfo | None) -> DiarizeInfoBody | None:
    """``metadata.diarize_info``, when a diarizer ran."""
    return None if info is None else DiarizeInfoBody(model_uuid=info.model_uuid, arch=info.arch)


def _word(word: TranscriptWord) -> ListenWord:
    return ListenWord(
        word=word.word,
        start=_s(word.start_s),
        end=_s(word.end_s),
        confidence=round(word.confidence, 4),
        punctuated_word=word.punctuated_word,
        speaker=word.speaker,
        speaker_confidence=word.speaker_confidence,
    )


def _paragraphs(paragraphs: Paragraphs) -> ListenParagraphs:
    return ListenParagraphs(
        transcript=paragraphs.transcript,
        paragraphs=[
            ListenParagraph(
                sentences=[ListenSentence(text=s.text, start=_s(s.start_s), end=_s(s.end_s)) for s in p.sentences],
                speaker=p.speaker,
                num_words=p.num_words,
                start=_s(p.start_s),
                end=_s(p.end_s),
            )
            for p in paragraphs.paragraphs
        ],
    )


def _utterance(utterance: Utterance) -> ListenUtterance:
    return ListenUtterance(
        start=_s(utterance.start_s),
        end=_s(utterance.end_s),
        confidence=utterance.confidence,
        channel=utterance.channel,
        transcript=utterance.transcript,
        words=[_word(w) for w in utterance.words],
        speaker=utterance.speaker,
        id=utterance.id,
    )


def _s(seconds: float) -> float:
    """Times in milliseconds precision, as Deepgram sends them."""
    return round(seconds, 3)
