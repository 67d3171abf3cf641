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

__all__ = ["ListenOptions", "RAW_ENCODINGS"]

#: Raw encodings Deepgram defines (spec §3.2 and §5.2).
RAW_ENCODINGS = frozenset(
    {"linear16", "linear32", "mulaw", "alaw", "flac", "opus", "ogg-opus", "amr-nb", "amr-wb", "speex", "g729"}
)

#: Options Deepgram offers that this server does not implement yet: asking for one is a clear 400,
#: never a silent success (issue 4, item 8).
UNSUPPORTED_FEATURES = (
    "summarize",
    "topics",
    "intents",
    "sentiment",
    "detect_entities",
    "diarize",
    "diarize_model",
    "redact",
    "search",
    "dictation",
    "measurements",
    "profanity_filter",
    "replace",
    "keywords",
    "keyterm",
    "custom_topic",
    "custom_intent",
    "callback",
)

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
_MAX_TAG_LENGTH = 128


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
    #: Usage labels echoed as ``metadata.tags``.
    tag: tuple[str, ...] = ()
    #: ``key:value`` pairs echoed as ``metadata.extra``.
    extra: Mapping[str, str] = field(default_factory=dict)

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
        fields: dict[str, object] = {"extra": extra}
        for spec in dataclasses.fields(cls):
            if spec.name in values and spec.name != "extra":
                fields[spec.name] = _parse(spec.name, values[spec.name])
        return cls(**fields)._validated()  # type: ignore[arg-type]

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
        for tag in self.tag:
            if len(tag) > _MAX_TAG_LENGTH:
                raise InvalidParameter(f"tag values must be at most {_MAX_TAG_LENGTH} characters")
        return self


def _refuse_unsupported(values: Mapping[str, list[str]]) -> None:
    for name in UNSUPPORTED_FEATURES:
        given = [v for v in values.get(name, []) if v.lower() not in _FALSE and v != ""]
        if given:
            raise UnsupportedFeature(f"{name} is not supported by this server")


def _parse(name: str, raw: list[str]) -> object:
    if name == "tag":
        return tuple(raw)
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
}
