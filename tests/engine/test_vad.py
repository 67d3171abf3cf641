from __future__ import annotations

import numpy as np

from openlisten.engine.types import Word
from openlisten.engine.vad import clip_to_speech, speech_regions
from tests.conftest import espeak_samples


def test_words_are_pulled_out_of_pauses() -> None:
    words = [Word("ask", 2.26, 3.88, 0.9), Word("not", 3.88, 4.5, 0.9), Word("um", 9.0, 9.2, 0.5)]
    regions = [(0.26, 2.3), (3.27, 4.41)]
    assert clip_to_speech(words, regions) == [
        Word("ask", 3.27, 3.88, 0.9),
        Word("not", 3.88, 4.41, 0.9),
        Word("um", 9.0, 9.2, 0.5),  # outside every region: left alone
    ]


def test_speech_regions_find_speech_between_silences() -> None:
    speech, rate = espeak_samples("Hello there, this is a test.")
    samples = np.interp(np.arange(0, len(speech) / rate, 1 / 16000), np.arange(len(speech)) / rate, speech)
    silence = np.zeros(16000)
    audio = (np.concatenate([silence, samples, silence, silence, samples]) / 32768).astype(np.float32)
    regions = speech_regions(audio)
    assert len(regions) >= 2
    assert 0.8 < regions[0][0] < 1.3
    assert all(start < end for start, end in regions)
    assert speech_regions(np.zeros(48000, np.float32)) == []
