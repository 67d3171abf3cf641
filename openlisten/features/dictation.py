"""Deepgram's ``dictation``: spoken punctuation commands become the marks they name.

"I am fine period" → "I am fine.", "hello comma world" → "hello, world" (Deepgram's docs list period, comma,
colon, question mark, exclamation mark, new line and new paragraph). A mark goes onto the word before the
command, in place of any punctuation Whisper wrote there; a command with no word before it is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from openlisten.features.tokens import Token, edges, normalize

__all__ = ["dictate"]

#: Spoken commands, longest first, and the marks they write.
_COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("exclamation", "mark"), "!"),
    (("exclamation", "point"), "!"),
    (("question", "mark"), "?"),
    (("new", "paragraph"), "\n\n"),
    (("new", "line"), "\n"),
    (("full", "stop"), "."),
    (("period",), "."),
    (("comma",), ","),
    (("colon",), ":"),
    (("semicolon",), ";"),
)


def dictate(tokens: Sequence[Token]) -> list[Token]:
    """Replace each spoken punctuation command in ``tokens`` by its mark on the token before it."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        command = _command_at(tokens, index)
        if command is None:
            out.append(tokens[index])
            index += 1
            continue
        length, mark = command
        if out:
            out[-1] = _with_mark(out[-1], mark)
        index += length
    return out


def _command_at(tokens: Sequence[Token], index: int) -> tuple[int, str] | None:
    for words, mark in _COMMANDS:
        said = tokens[index : index + len(words)]
        if len(said) != len(words) or any(normalize(t.text) != w for t, w in zip(said, words, strict=True)):
            continue
        # Punctuation inside a two-word command ("question, mark") means it was not one.
        if all(not edges(t.text)[2] for t in said[:-1]):
            return len(words), mark
    return None


def _with_mark(token: Token, mark: str) -> Token:
    lead, core, trail = edges(token.text)
    if mark.startswith("\n"):
        return replace(token, text=token.text.rstrip("\n") + mark)
    return replace(token, text=lead + core + mark)
