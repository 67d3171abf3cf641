"""Deepgram's ``profanity_filter``: profane words masked with one ``*`` per letter ("shit" → "****").

The words come from ``better-profanity``'s list (about 900 English terms and spellings). That list was built
for chat moderation and also holds everyday words that ordinary speech is full of ("kill", "god", "organ",
"vodka"); those are left unmasked, as Deepgram leaves them (spec/listen-v1.md §4.10).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import replace

from openlisten.features.tokens import edges
from openlisten.transcript import TranscriptWord

__all__ = ["filter_profanity", "is_profane"]

#: Entries of the list that are not profanity in speech: identity, religion, anatomy and health, violence,
#: drugs and drink, and plain words.
_NOT_PROFANE_WORDS = """
    god gay gays lesbian homo queer queers gringo paddy hebe jap japs kraut guido yaoi
    anal anus areole breasts crotch erect erotic fondle glans gonad gonads hymen labia loin loins menses
    nipple nipples nude nudes oral orally organ ovary ovum ovums penial penile penis pubic pubis rectal
    rectum rectus scrotum semen sperm teste testes testis uterus vagina vulva womb urine urinal tampon
    herpes hiv leper
    kill murder rape raped raping sniper napalm uzi molest hitler nazi nazism reich kkk
    drunk ganja hemp heroin meth opiate opium peyote pot reefer rum toke valium viagra vodka weed junkie
    junky stoned hooch hootch pcp
    sex sexual lust lusty lusting kinky naked strip seduce steamy racy playboy virgin
    stupid ugly dummy dopey doofus moron jerk nimrod ninny weirdo sissy prude trashy tramp sleaze sleazy
    slave thug massa maxi pawn revue sandbar seaman seamen souse soused stroke thrust tinkle toots wad
    willies willy woody mams omg lmao lmfao wtf stfu gtfo foobar fubar xx xxx len teat facial organ
    dink dinks herp herpy hump humped humping fart fat inbred incest schizo prig potty pee peepee poop
    pastie pasty panties pantie panty undies boob boobs booty busty bimbo bimbos floozy hussy hooters
    hooter vixen wench crap damn hell screw screwed suck sucked sucking
"""
_NOT_PROFANE = frozenset(_NOT_PROFANE_WORDS.split())


@functools.cache
def _profane_words() -> frozenset[str]:
    import better_profanity

    path = os.path.join(os.path.dirname(better_profanity.__file__), "profanity_wordlist.txt")
    with open(path, encoding="utf-8") as wordlist:
        words = {line.strip().lower() for line in wordlist}
    return frozenset(word for word in words if word and " " not in word and word not in _NOT_PROFANE)


def is_profane(word: str) -> bool:
    """Whether the plain lower-case ``word`` is profanity."""
    return word in _profane_words()


def filter_profanity(words: Sequence[TranscriptWord]) -> list[TranscriptWord]:
    """``words`` with each profane one masked in ``word`` and ``punctuated_word`` (punctuation is kept)."""
    return [_masked(word) if is_profane(word.word) else word for word in words]


def _masked(word: TranscriptWord) -> TranscriptWord:
    lead, core, trail = edges(word.punctuated_word)
    return replace(word, word="*" * len(word.word), punctuated_word=lead + "*" * len(core) + trail)
