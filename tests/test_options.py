from __future__ import annotations

import pytest

from openlisten.errors import InvalidParameter, UnsupportedEncoding, UnsupportedFeature
from openlisten.options import ListenOptions


def parse(query: str) -> ListenOptions:
    from urllib.parse import parse_qsl

    return ListenOptions.from_query(parse_qsl(query, keep_blank_values=True))


def test_defaults() -> None:
    options = parse("")
    assert options == ListenOptions()
    assert options.model == "nova-3" and not options.punctuate and options.channels == 1


def test_booleans_numbers_and_lists() -> None:
    options = parse("model=nova-2&punctuate=true&smart_format=false&sample_rate=8000&channels=2&tag=a&tag=b+c")
    assert options.model == "nova-2"
    assert options.punctuate is True and options.smart_format is False
    assert options.sample_rate == 8000 and options.channels == 2
    assert options.tag == ("a", "b c")


def test_float_form_of_an_integer_is_accepted() -> None:
    assert parse("sample_rate=16000.0").sample_rate == 16000


def test_extra_in_both_forms_last_wins() -> None:
    options = parse("extra=team%3Aqa&extra=team%3Asupport&extra%5Bregion%5D=eu")
    assert dict(options.extra) == {"team": "support", "region": "eu"}


def test_unknown_parameters_are_ignored() -> None:
    assert parse("no_such=1&version=latest&mip_opt_out=true") == ListenOptions()


@pytest.mark.parametrize(
    "query",
    [
        "punctuate=yes",
        "sample_rate=fast",
        "sample_rate=8000.5",
        "channels=0",
        "channels=99",
        "extra=novalue",
        "sample_rate=10",
        "model=",
        "tag=" + "x" * 129,
    ],
)
def test_malformed_values_are_invalid(query: str) -> None:
    with pytest.raises(InvalidParameter):
        parse(query)


def test_unknown_encoding() -> None:
    with pytest.raises(UnsupportedEncoding, match="pcm_s24be"):
        parse("encoding=pcm_s24be")
    assert parse("encoding=MULAW").encoding == "mulaw"


@pytest.mark.parametrize(
    "name", ["summarize=v2", "sentiment=true", "topics=true", "intents=true", "detect_entities=true", "redact=phi"]
)
def test_unsupported_features_are_refused(name: str) -> None:
    with pytest.raises(UnsupportedFeature):
        parse(name)


def test_unsupported_feature_switched_off_is_fine() -> None:
    assert parse("diarize=false&sentiment=false") == ListenOptions()


def test_feature_options() -> None:
    options = parse(
        "replace=monika:Monica&replace=um&keywords=Systrom:2&keywords=krieger&keyterm=Big+Bird&search=fox&search=red+dog"
        "&redact=pci&redact=SSN&redact=false&profanity_filter=true&dictation=true&measurements=true&diarize_model=v1"
    )
    assert options.replace == (("monika", "Monica"), ("um", ""))
    assert options.keywords == (("Systrom", 2.0), ("krieger", 1.0))
    assert options.keyterm == ("Big Bird",)
    assert options.search == ("fox", "red dog")
    assert options.redact == ("pci", "ssn")
    assert options.profanity_filter and options.dictation and options.measurements
    assert options.diarization and not options.diarize


def test_detect_language_takes_codes() -> None:
    assert parse("detect_language=true").detect_language_codes == ()
    options = parse("detect_language=en&detect_language=ES")
    assert options.detect_language and options.detect_language_codes == ("en", "es")
    assert not parse("detect_language=false").detect_language


@pytest.mark.parametrize("query", ["keywords=fox:loud", "replace=:x", "diarize_model=v9", "keywords=:2"])
def test_malformed_feature_values(query: str) -> None:
    with pytest.raises(InvalidParameter):
        parse(query)


@pytest.mark.parametrize("query", ["measurements=true", "detect_language=true", "redact=pii", "diarize_model=v2"])
def test_rest_only_options_are_refused_live(query: str) -> None:
    parse(query)  # fine on REST
    with pytest.raises((UnsupportedFeature, InvalidParameter)):
        parse(query).check_live()


def test_live_options_pass() -> None:
    options = parse("redact=pci&redact=numbers&diarize_model=latest&search=fox&replace=a:b&profanity_filter=true")
    assert options.check_live() is options


def test_bias_terms_are_bounded_and_counted_once() -> None:
    with pytest.raises(InvalidParameter, match="at most 10 words"):
        ListenOptions.from_query([("keyterm", " ".join(["hello"] * 11))])
    with pytest.raises(InvalidParameter, match="100 characters"):
        ListenOptions.from_query([("keywords", "x" * 101)])
    options = ListenOptions.from_query([("keyterm", "Big  Bird")] * 50 + [("keywords", "a:2"), ("keywords", "a:5")])
    assert options.keyterm == ("Big Bird",) and options.keywords == (("a", 2.0),)
