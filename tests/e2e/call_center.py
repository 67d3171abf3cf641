"""A call-center corpus: a caller reading out numbers, spoken by espeak-ng in two voices, at 16 kHz and as
8 kHz mu-law telephone audio. Each line says what it holds, so tests and the benchmark can count what was
recognized exactly and what a redaction let through."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import av

from tests.conftest import espeak_samples, wav_bytes

__all__ = ["CALLS", "Call", "leaked_digits", "render"]


@dataclass(frozen=True)
class Call:
    name: str
    text: str
    #: The digits said, in order (what `numerals` should write).
    digits: str
    #: The ``redact`` value that must hide them.
    redact: str


CALLS = (
    Call("visa", "My card number is four one one one, one one one one, one one one one, one one one one.",
         "4111111111111111", "pci"),
    Call("mastercard", "The card is five five five five, five five five five, five five five five, "
         "four four four four.",
         "5555555555554444", "pci"),
    Call("amex", "My card is three seven eight two, eight two two four six three, one zero zero zero five.",
         "378282246310005", "pci"),
    Call("discover", "Card number six oh one one, one one one one, one one one one, one one one seven.",
         "6011111111111117", "pci"),
    Call("expiry", "The card expires oh four twenty seven.", "0427", "pci"),
    Call("cvv", "The security code is seven three one.", "731", "pci"),
    Call("ssn", "My social security number is one two three, four five, six seven eight nine.", "123456789", "ssn"),
    Call("ssn-double", "It is double one two, three four, five five six seven.", "112345567", "ssn"),
    Call("phone", "You can call me at five five five, one two three, four five six seven.", "5551234567", "numbers"),
    Call("phone-oh", "Call me back on two one two, four five six, seven eight nine oh.", "2124567890", "numbers"),
    Call("account", "My account number is seven seven three oh two one nine.", "7730219", "numbers"),
    Call("order", "The order number is eight four six two, nine one three five.", "84629135", "numbers"),
)  # fmt: skip

_DIGIT_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"


def render(call: Call, voice: str, telephone: bool) -> bytes:
    """The call as a WAV: 16-bit at espeak's rate, or 8 kHz mu-law as a phone line carries it."""
    samples, rate = espeak_samples(call.text, voice)
    if not telephone:
        return wav_bytes(samples, rate)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav") as output:
        stream = output.add_stream("pcm_mulaw", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.astype("<i2")[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        for narrow in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(narrow):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def leaked_digits(text: str) -> list[str]:
    """Runs of three or more digits, or digit words, left in redacted text (placeholders aside)."""
    text = re.sub(r"\[[A-Z_]+_\d+\]", " ", text).lower()
    runs = re.findall(r"\d[\d\s\-.,]*\d", text)
    runs = [r for r in runs if len(re.sub(r"\D", "", r)) >= 3]
    words = re.findall(rf"\b{_DIGIT_WORDS}(?:[\s,.\-]+{_DIGIT_WORDS}){{2,}}\b", text)
    return runs + words
