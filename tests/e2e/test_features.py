"""Transcript features through the official SDK, the real server and tiny.en, on espeak-ng speech.

Each phrase was chosen so that tiny.en hears espeak-ng's voice reliably; the asserts check what the feature
does to it, not the recognizer's accuracy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.types.listen_v1response import ListenV1Response
from scipy.signal import resample_poly

from tests.conftest import VOICES, espeak_samples, wav_bytes, words_of

pytestmark = pytest.mark.e2e

LINES = (
    "hello my name is john and i work in the sales department",
    "nice to meet you john i am the new project manager",
    "welcome both of you please sit down over here",
    "thank you everyone let us start the meeting now",
)


def alternative(response: ListenV1Response, channel: int = 0) -> object:
    return response.results.channels[channel].alternatives[0]


def transcript_of(response: ListenV1Response) -> str:
    return response.results.channels[0].alternatives[0].transcript


def test_smart_format_dates_times_and_addresses(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    said = {
        "wake me up at seven a m tomorrow, on january fifth, twenty twenty five.": "7 AM tomorrow on January 5, 2025",
        "my email is info at google dot com": "info@google.com",
    }
    for text, written in said.items():
        response = client.listen.v1.media.transcribe_file(request=speak(text), model="nova-3", smart_format=True)
        assert written in transcript_of(response), text
        assert all(" " not in w.word for w in alternative(response).words)


def test_smart_format_phone_numbers(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    text = "my number is two one two, four five six, seven eight nine zero."
    response = client.listen.v1.media.transcribe_file(request=speak(text), model="nova-3", smart_format=True)
    assert "My number is (212) 456-7890." in transcript_of(response), text
    assert all(" " not in w.word for w in alternative(response).words)


def test_numerals(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=speak("there are twenty five people here"), model="nova-3", numerals=True
    )
    assert transcript_of(response) == "there are 25 people here"


def test_filler_words(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("hmm, so, umm, let me think about it, uh, yes.")
    kept = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", filler_words=True)
    dropped = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
    assert {"um", "uh"} <= set(words_of(transcript_of(kept)))
    assert not {"um", "uh", "umm"} & set(words_of(transcript_of(dropped)))
    assert "let me think about it" in transcript_of(dropped)


def test_dictation(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("i am fine period how are you question mark")
    plain = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", punctuate=True)
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", punctuate=True, dictation=True)
    assert "period" in transcript_of(plain).lower()
    assert transcript_of(response) == "I am fine. How are you?"


def test_measurements(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("i ate thirty three grams of pasta and drank fifty five milliliters of water")
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", measurements=True)
    # (tiny.en hears "of" as "and" or "on" on some CPUs: the units are what this test checks.)
    assert "33 g " in transcript_of(response) and "55 ml " in transcript_of(response)


def test_profanity_filter(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("this is fucking bullshit you stupid asshole")
    raw = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", profanity_filter=True)
    assert "bullshit" in transcript_of(raw)
    assert transcript_of(response) == "this is ******* ******** you stupid *******"
    assert [w.word for w in alternative(response).words][2] == "*******"


def test_replace(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=speak("instagram was founded by kevin systrom and mike krieger"),
        model="nova-3",
        punctuate=True,
        replace=["instagram:Meta's app", "mike"],
    )
    text = transcript_of(response)
    assert text.startswith("Meta's app was founded by Kevin") and "Mike" not in text and "Krieger" in text
    assert [w.word for w in alternative(response).words][:2] == ["Meta's", "app"]


def test_keywords_and_keyterm_bias_recognition(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    systrom = speak("instagram was founded by kevin systrom and mike krieger")
    quetzalcoatl = speak("the ancient god quetzalcoatl was worshipped in mexico")
    assert "systrom" not in words_of(
        transcript_of(client.listen.v1.media.transcribe_file(request=systrom, model="nova-2"))
    )
    boosted = client.listen.v1.media.transcribe_file(request=systrom, model="nova-2", keywords="Systrom:2")
    assert "systrom" in words_of(transcript_of(boosted))
    plain = client.listen.v1.media.transcribe_file(request=quetzalcoatl, model="nova-3")
    assert "quetzalcoatl" not in words_of(transcript_of(plain))
    prompted = client.listen.v1.media.transcribe_file(request=quetzalcoatl, model="nova-3", keyterm=["Quetzalcoatl"])
    assert "quetzalcoatl" in words_of(transcript_of(prompted))


def test_search(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=speak("instagram was founded by kevin systrom and mike krieger"),
        model="nova-3",
        search=["systrom", "mike krieger", "banana"],
    )
    assert "systrom" not in transcript_of(response)  # tiny.en writes "sistram"; search hears it anyway
    systrom, krieger, banana = response.results.channels[0].search
    assert [systrom.query, krieger.query, banana.query] == ["systrom", "mike krieger", "banana"]
    assert systrom.hits[0].confidence >= 0.75 and systrom.hits[0].snippet == "sistram"
    assert krieger.hits[0].snippet == "mike krieger" and krieger.hits[0].confidence == 1.0
    assert 0 < krieger.hits[0].start < krieger.hits[0].end
    assert banana.hits == []


def test_redact(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    ssn = speak("my social security number is one two three, four five, six seven eight nine.")
    card = speak("my card number is four five three two, one two three four, five six seven eight, nine zero one two.")
    response = client.listen.v1.media.transcribe_file(
        request=ssn, model="nova-3", redact="ssn", utterances=True, paragraphs=True, search=["six seven eight nine"]
    )
    assert transcript_of(response).rstrip(".") == "My social security number is [SSN_1]"
    assert alternative(response).words[-1].word == "[SSN_1]"
    assert response.results.utterances[0].transcript == transcript_of(response)
    assert "[SSN_1]" in alternative(response).paragraphs.transcript
    assert not any("seven" in hit.snippet for hit in response.results.channels[0].search[0].hits)
    card_response = client.listen.v1.media.transcribe_file(
        request=card, model="nova-3", smart_format=True, redact=["pci", "numbers"]
    )
    assert transcript_of(card_response).rstrip(".") == "My card number is [CREDIT_CARD_1]"


def test_redact_pii_names_places_and_addresses(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("hello, my name is john smith. i live at twelve oak street, springfield. i was born in boston.")
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", redact="pii")
    transcript = transcript_of(response)  # lower case: the entities are found in the recognizer's own capitals
    assert "my name is [NAME_1]" in transcript and "live at [LOCATION_ADDRESS_1]" in transcript, transcript
    assert "born in [LOCATION_CITY_1]" in transcript, transcript
    assert not {"john", "smith", "oak", "springfield", "boston"} & set(words_of(transcript))
    formatted = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", smart_format=True, redact="name")
    assert "my name is [NAME_1]" in transcript_of(formatted) and "12 Oak Street" in transcript_of(formatted)


def test_redact_numbers(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("there are twenty five people. my account number is seven seven seven eight eight.")
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", redact="numbers")
    assert transcript_of(response).startswith("there are twenty five people")  # two digits stay
    assert transcript_of(response).endswith("number is [NUMBER_1]")
    aggressive = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", redact="aggressive_numbers")
    assert transcript_of(aggressive).startswith("there are [NUMBER_1] people")


def conversation(voices: tuple[tuple[str, int], ...]) -> bytes:
    """Each voice says a line, then the first voice again; half a second of silence between turns."""
    rate = 16_000
    chunks = []
    for voice, line in [*zip(voices, LINES, strict=False), (voices[0], "i will present the numbers first")]:
        samples, voice_rate = espeak_samples(line, *voice)
        chunks += [resample_poly(samples.astype(np.float32), rate, voice_rate), np.zeros(rate // 2)]
    return wav_bytes(np.concatenate(chunks).astype(np.int16), rate)


@pytest.mark.parametrize("speakers", [2, 3])
def test_diarize(client: DeepgramClient, speakers: int) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=conversation(VOICES[:speakers]), model="nova-3", diarize=True, utterances=True, paragraphs=True
    )
    utterances = response.results.utterances
    assert [u.speaker for u in utterances] == [*range(speakers), 0]
    words = alternative(response).words
    assert all(w.speaker is not None and 0 <= w.speaker_confidence <= 1 for w in words)
    assert {w.speaker for w in words} == set(range(speakers))
    paragraphs = alternative(response).paragraphs
    assert paragraphs.transcript.startswith("\nSpeaker 0: ")
    assert "\n\nSpeaker 1: Nice to meet you" in paragraphs.transcript
    assert [p.speaker for p in paragraphs.paragraphs] == [*range(speakers), 0]
    assert response.metadata.diarize_info.model_uuid and response.metadata.diarize_info.arch


def test_diarize_model_switches_diarization_on(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(request=speak(LINES[0]), model="nova-3", diarize_model="latest")
    assert {w.speaker for w in alternative(response).words} == {0}
    assert response.metadata.diarize_info is not None


def test_a_language_the_model_cannot_do_is_refused(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    with pytest.raises(ApiError) as refused:
        client.listen.v1.media.transcribe_file(request=speak(LINES[0]), model="nova-3", language="fr")
    assert refused.value.status_code == 400 and "language 'fr' is not available" in str(refused.value.body)


def test_detect_language_reports_english_on_tiny_en(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(request=speak(LINES[0]), model="nova-3", detect_language=True)
    channel = response.results.channels[0]
    assert channel.detected_language == "en" and channel.language_confidence == 1.0


@pytest.mark.parametrize("feature", ["summarize", "topics", "intents", "sentiment", "detect_entities"])
def test_unimplemented_features_are_refused(client: DeepgramClient, speak: Callable[..., bytes], feature: str) -> None:
    value: object = "v2" if feature == "summarize" else True
    with pytest.raises(ApiError) as error:
        client.listen.v1.media.transcribe_file(request=speak("hello"), model="nova-3", **{feature: value})
    assert error.value.status_code == 400
    assert "not supported by this server" in error.value.body["err_msg"]
