"""`ListenOptions`: the `/v1/listen` query parameters, parsed once into a frozen record.

The same record serves REST, the embedded API and the CLI. Parsing follows spec/listen-v1.md §2.2:
booleans are ``true``/``false``, lists are repeated keys, ``extra`` is ``key:value`` (or the SDK's
bracket form ``extra[key]=value``). Unknown parameters are ignored; a malformed value of a known one
raises `InvalidParameter` (spec §9, recommendation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from openlisten.errors import InvalidParameter, UnsupportedFeature

__all__ = ["CALLBACK_METHODS", "ListenOptions", "RAW_ENCODINGS", "REDACT_KINDS"]

#: Raw encodings Deepgram defines (spec §3.2 and §5.2).
RAW_ENCODINGS = frozenset(
    {"linear16", "linear32", "mulaw", "alaw", "flac", "opus", "ogg-opus", "amr-nb", "amr-wb", "speex", "g729"}
)

#: The ``redact`` values this server knows: Deepgram's groups and the entity types it detects (spec §3.2);
#: `features.redact` says which entity types each one covers.
REDACT_KINDS = frozenset(
    {
        "pci",
        "ssn",
        "pii",
        "numbers",
        "true",
        "aggressive_numbers",
        "credit_card",
        "credit_card_expiration",
        "cvv",
        "phone_number",
        "email_address",
        "name",
        "location",
        "location_address",
        "location_city",
        "location_state",
        "location_country",
    }
)

#: Options Deepgram offers that this server does not implement yet: asking for one is a clear 400,
#: never a silent success (issue 4, item 8).
UNSUPPORTED_FEATURES = (
    "summarize",
    "topics",
    "intents",
    "sentiment",
    "detect_entities",
    "custom_topic",
    "custom_intent",
)

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
_MAX_TAG_LENGTH = 128
#: Same bound as a ``{"url": ...}`` body.
_MAX_CALLBACK_LENGTH = 8192
#: Methods a callback may use (spec/listen-v1.md §3.3).
CALLBACK_METHODS = ("POST", "PUT")


@dataclass(frozen=True)
class ListenOptions:
    """What a `/v1/listen` request asks for."""

    #: Deepgram model name (``nova-3``, ``base``, ``whisper-tiny``…) or a configured model's own name.
    model: str = "nova-3"
    #: BCP-47 language; Whisper uses the primary subtag.
    language: str = "en"
    #: Punctuation and capitals in ``transcript`` and ``punctuated_word``.
    punctuate: bool = False
    #: Punctuation plus formatted numbers (inverse text normalization).
    smart_format: bool = False
    #: Numbers written as digits, without punctuation.
    numerals: bool = False
    #: Keep filler words ("uh", "um").
    filler_words: bool = False
    #: Transcribe each channel separately.
    multichannel: bool = False
    #: Report the dominant language.
    detect_language: bool = False
    #: Raw-audio encoding; None means the bytes are a container to sniff.
    encoding: str | None = None
    #: Sample rate of raw audio, in Hz.
    sample_rate: int | None = None
    #: Interleaved channels of raw audio.
    channels: int = 1
    #: Group sentences into ``paragraphs`` (switches punctuation on).
    paragraphs: bool = False
    #: Split the transcript into ``results.utterances``.
    utterances: bool = False
    #: Seconds of silence that end an utterance.
    utt_split: float = 0.8
    #: Spoken punctuation ("comma", "period", "question mark", "new line") written as marks; needs punctuation.
    dictation: bool = False
    #: Spoken units after a number written as abbreviations: "five meters" → "5 m" (prerecorded only).
    measurements: bool = False
    #: Profane words masked with one ``*`` per letter.
    profanity_filter: bool = False
    #: ``find:replace`` pairs, applied in order; an empty replacement deletes the term.
    replace: tuple[tuple[str, str], ...] = ()
    #: Terms to boost, each with its intensifier (``keywords=term:2``; 1 when left out).
    keywords: tuple[tuple[str, float], ...] = ()
    #: Key terms (Nova-3 keyterm prompting) that bias recognition towards them.
    keyterm: tuple[str, ...] = ()
    #: Terms and phrases to look for in the audio (``channels[].search``).
    search: tuple[str, ...] = ()
    #: What to redact: ``pci``, ``pii``, ``ssn``, ``numbers`` (or ``true``), ``aggressive_numbers``, entity types.
    redact: tuple[str, ...] = ()
    #: Label each word with its speaker.
    diarize: bool = False
    #: Diarizer version (``latest``, ``v1``, ``v2``); asking for one switches diarization on.
    diarize_model: str | None = None
    #: Languages `detect_language` chooses among (``detect_language=en&detect_language=es``); empty: any.
    detect_language_codes: tuple[str, ...] = ()
    #: Usage labels echoed as ``metadata.tags``.
    tag: tuple[str, ...] = ()
    #: ``key:value`` pairs echoed as ``metadata.extra``.
    extra: Mapping[str, str] = field(default_factory=dict)
    #: URL the finished transcript is sent to; the request itself is answered at once (spec §3.3).
    callback: str | None = None
    #: HTTP method of the callback: ``POST`` or ``PUT``.
    callback_method: str = "POST"

    @classmethod
    def from_query(cls, items: Iterable[tuple[str, str]]) -> ListenOptions:
        """Parse query parameters given as (key, value) pairs, keys possibly repeated."""
        values: dict[str, list[str]] = {}
        extra: dict[str, str] = {}
        for key, value in items:
            if key.startswith("extra[") and key.endswith("]"):
                extra[key[6:-1]] = value
            else:
                values.setdefault(key, []).append(value)
        for pair in values.pop("extra", []):
            name, sep, text = pair.partition(":")
            if not sep or not name:
                raise InvalidParameter(f"extra must be key:value, got {pair!r}")
            extra[name] = text
        _refuse_unsupported(values)
        fields: dict[str, object] = {"extra": extra, **_detect_language(values.pop("detect_language", []))}
        for spec in dataclasses.fields(cls):
            if spec.name in values and spec.name != "extra":
                fields[spec.name] = _parse(spec.name, values[spec.name])
        return cls(**fields)._validated()  # type: ignore[arg-type]

    @property
    def diarization(self) -> bool:
        """Whether words get speaker labels (``diarize`` or any ``diarize_model``)."""
        return self.diarize or self.diarize_model is not None

    def check_live(self) -> ListenOptions:
        """These options for a WebSocket session: refuses what Deepgram only accepts on REST (spec §5.2)."""
        if self.measurements:
            raise UnsupportedFeature("measurements is only available for prerecorded audio")
        if self.detect_language:
            raise UnsupportedFeature("detect_language is only available for prerecorded audio")
        rest_only = [kind for kind in self.redact if kind not in LIVE_REDACTIONS]
        if rest_only:
            raise UnsupportedFeature(f"redact={rest_only[0]} is only available for prerecorded audio")
        if self.diarize_model == "v2":
            raise InvalidParameter("diarize_model=v2 is not available for streaming; use latest or v1")
        if self.callback is not None:  # callbacks are REST jobs here (openlisten/jobs); never silently dropped
            raise UnsupportedFeature("callback is only available for prerecorded audio on this server")
        return self

    def _validated(self) -> ListenOptions:
        if self.encoding is not None and self.encoding not in RAW_ENCODINGS:
            from openlisten.errors import UnsupportedEncoding

            raise UnsupportedEncoding(
                f"encoding {self.encoding!r} is not supported; use one of {', '.join(sorted(RAW_ENCODINGS))}"
            )
        if self.sample_rate is not None and not 1000 <= self.sample_rate <= 384_000:
            raise InvalidParameter(f"sample_rate must be between 1000 and 384000, got {self.sample_rate}")
        if not 1 <= self.channels <= 32:
            raise InvalidParameter(f"channels must be between 1 and 32, got {self.channels}")
        _validate_features(self)
        for tag in self.tag:
            if len(tag) > _MAX_TAG_LENGTH:
                raise InvalidParameter(f"tag values must be at most {_MAX_TAG_LENGTH} characters")
        if self.callback is not None and len(self.callback) > _MAX_CALLBACK_LENGTH:
            raise InvalidParameter(f"callback must be at most {_MAX_CALLBACK_LENGTH} characters")
        if self.callback_method not in CALLBACK_METHODS:
            raise InvalidParameter(f"callback_method must be POST or PUT, got {self.callback_method!r}")
        return self


def _refuse_unsupported(values: Mapping[str, list[str]]) -> None:
    for name in UNSUPPORTED_FEATURES:
        given = [v for v in values.get(name, []) if v.lower() not in _FALSE and v != ""]
        if given:
            raise UnsupportedFeature(f"{name} is not supported by this server")


def _parse(name: str, raw: list[str]) -> object:
    if name == "tag":
        return tuple(raw)
    if name in _LIST_PARSERS:
        return _LIST_PARSERS[name](raw)
    value = raw[-1]
    kind = _KINDS[name]
    if kind is bool:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidParameter(f"{name} must be true or false, got {value!r}")
    if kind is float:
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not 0 < number < 3600:
            raise InvalidParameter(f"{name} must be a positive number of seconds, got {value!r}")
        return number
    if kind is int:
        try:
            return int(float(value)) if float(value).is_integer() else _bad_int(name, value)
        except ValueError:
            return _bad_int(name, value)
    if name == "encoding":
        return value.lower()
    if name == "callback_method":
        return value.upper()
    if not value:
        raise InvalidParameter(f"{name} must not be empty")
    return value


def _bad_int(name: str, value: str) -> int:
    raise InvalidParameter(f"{name} must be an integer, got {value!r}")


_KINDS: dict[str, type] = {
    "model": str,
    "language": str,
    "punctuate": bool,
    "smart_format": bool,
    "numerals": bool,
    "filler_words": bool,
    "multichannel": bool,
    "detect_language": bool,
    "paragraphs": bool,
    "utterances": bool,
    "utt_split": float,
    "encoding": str,
    "sample_rate": int,
    "channels": int,
    "dictation": bool,
    "measurements": bool,
    "profanity_filter": bool,
    "diarize": bool,
    "diarize_model": str,
    "callback": str,
    "callback_method": str,
}


#: ``redact`` values Deepgram accepts on streaming (spec §5.2).
LIVE_REDACTIONS = frozenset({"pci", "ssn", "numbers", "true", "aggressive_numbers"})
#: Diarizer versions Deepgram names (spec §3.2).
DIARIZE_MODELS = frozenset({"latest", "v1", "v2"})
#: Deepgram's limits: 100 keywords, keyterms of 500 tokens in all (counted here as words), 50 search terms.
_MAX_KEYWORDS = 100
_MAX_KEYTERM_WORDS = 500
#: Longest single keyword or key term: a name or a short phrase. Each term goes into the decoder's prompt,
#: and one long repetitive term makes Whisper repeat it into the transcript, at many times the cost.
MAX_TERM_WORDS = 10
MAX_TERM_CHARS = 100
_MAX_SEARCH_TERMS = 50


def _detect_language(raw: list[str]) -> dict[str, object]:
    """``detect_language=true``, or repeated language codes that restrict detection to them."""
    if not raw:
        return {}
    lowered = [value.lower() for value in raw]
    if all(value in _TRUE | _FALSE for value in lowered):
        return {"detect_language": lowered[-1] in _TRUE}
    codes = tuple(value for value in lowered if value not in _TRUE | _FALSE)
    return {"detect_language": True, "detect_language_codes": codes}


def _parse_replace(raw: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in raw:
        find, _, replacement = value.partition(":")
        if not find.strip():
            raise InvalidParameter(f"replace must be find:replacement or find, got {value!r}")
        pairs.append((find.strip(), replacement.strip()))
    return tuple(pairs)


def _parse_keywords(raw: list[str]) -> tuple[tuple[str, float], ...]:
    if len(raw) > _MAX_KEYWORDS:
        raise InvalidParameter(f"at most {_MAX_KEYWORDS} keywords are allowed, got {len(raw)}")
    keywords: dict[str, float] = {}
    for value in raw:
        term, sep, intensifier = value.rpartition(":")
        if not sep:
            term, intensifier = value, "1"
        try:
            boost = float(intensifier)
        except ValueError:
            raise InvalidParameter(f"keywords must be term or term:intensifier, got {value!r}") from None
        if not term.strip():
            raise InvalidParameter(f"keywords must be term or term:intensifier, got {value!r}")
        keywords.setdefault(check_term("keywords", term), boost)  # a repeated term counts once
    return tuple(keywords.items())


def _parse_keyterm(raw: list[str]) -> tuple[str, ...]:
    terms = tuple(dict.fromkeys(check_term("keyterm", value) for value in raw if value.strip()))
    if sum(len(term.split()) for term in terms) > _MAX_KEYTERM_WORDS:
        raise InvalidParameter(f"keyterm allows at most {_MAX_KEYTERM_WORDS} words in all")
    return terms


def check_term(name: str, term: str) -> str:
    """One keyword or key term, whitespace normalized: at most `MAX_TERM_WORDS` words of `MAX_TERM_CHARS`."""
    words = term.split()
    if len(words) > MAX_TERM_WORDS or len(term) > MAX_TERM_CHARS:
        raise InvalidParameter(
            f"each {name} term may hold at most {MAX_TERM_WORDS} words and {MAX_TERM_CHARS} characters, "
            f"got {len(words)} words and {len(term)} characters"
        )
    return " ".join(words)


def _parse_search(raw: list[str]) -> tuple[str, ...]:
    terms = tuple(value.strip() for value in raw if value.strip())
    if len(terms) > _MAX_SEARCH_TERMS:
        raise InvalidParameter(f"at most {_MAX_SEARCH_TERMS} search terms are allowed, got {len(terms)}")
    return terms


def _parse_redact(raw: list[str]) -> tuple[str, ...]:
    kinds = [value.strip().lower() for value in raw if value.strip().lower() not in _FALSE]
    for kind in kinds:
        if kind not in REDACT_KINDS:
            raise UnsupportedFeature(
                f"redact={kind} is not supported by this server; use {', '.join(sorted(REDACT_KINDS))}"
            )
    return tuple(dict.fromkeys(kinds))


def _validate_features(options: ListenOptions) -> None:
    if options.diarize_model is not None and options.diarize_model not in DIARIZE_MODELS:
        raise InvalidParameter(f"diarize_model must be latest, v1 or v2, got {options.diarize_model!r}")


_LIST_PARSERS = {
    "replace": _parse_replace,
    "keywords": _parse_keywords,
    "keyterm": _parse_keyterm,
    "search": _parse_search,
    "redact": _parse_redact,
}
