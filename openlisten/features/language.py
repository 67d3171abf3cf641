"""Deepgram's ``detect_language``: the dominant language, optionally chosen among the codes the client lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["choose_language"]


def choose_language(probabilities: Iterable[tuple[str, float]], allowed: Sequence[str] = ()) -> tuple[str, float]:
    """The most probable language, among ``allowed`` primary subtags when given, and its probability.

    With ``allowed``, the probability is renormalized over the allowed languages, so that ``detect_language=en&
    detect_language=es`` on Spanish audio reports ``es`` with the confidence of "Spanish rather than English".
    """
    primary = {code.split("-")[0].lower() for code in allowed}
    candidates = [(code, p) for code, p in probabilities if not primary or code in primary]
    if not candidates:
        return (sorted(primary)[0] if primary else "en"), 0.0
    code, probability = max(candidates, key=lambda item: item[1])
    total = sum(p for _, p in candidates) if primary else 1.0
    return code, (probability / total if total > 0 else 0.0)
