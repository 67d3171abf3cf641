"""Search (features/search.py)."""

from __future__ import annotations

from openlisten.features.search import search
from tests.features.helpers import words

SPOKEN = words("instagram was founded by kevin sistram and mike krieger and systrom is the founder")


def test_one_result_per_query_even_without_hits() -> None:
    results = search(SPOKEN, ["krieger", "banana"])
    assert [r.query for r in results] == ["krieger", "banana"]
    assert results[1].hits == ()


def test_exact_hit_has_full_confidence_and_times() -> None:
    (hit,) = search(SPOKEN, ["krieger"])[0].hits
    assert (hit.confidence, hit.start_s, hit.end_s, hit.snippet) == (1.0, 4.0, 4.4, "krieger")


def test_sound_alike_spellings_are_found_best_first() -> None:
    hits = search(SPOKEN, ["systrom"])[0].hits
    assert [h.snippet for h in hits[:2]] == ["systrom", "sistram"]
    assert hits[0].confidence == 1.0 > hits[1].confidence >= 0.8
    assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)


def test_phrases() -> None:
    hits = search(SPOKEN, ["founded by"])[0].hits
    assert hits[0].snippet == "founded by" and hits[0].confidence == 1.0
    assert (hits[0].start_s, hits[0].end_s) == (1.0, 1.9)


def test_no_words() -> None:
    assert search([], ["anything"])[0].hits == ()
