"""Packed decoding: planning a window, dropping context to fit, and (with the real model) what comes back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from openlisten.audio import decode_audio
from openlisten.engine import packed_decoder
from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.engine.packed_decoder import DecodeItem, DecodeResult, PackedDecoder
from tests.conftest import EVAL, espeak_samples, words_of

RATE = 16000


def item(seconds: float, *, final: bool = False) -> DecodeItem:
    return DecodeItem(np.zeros(int(seconds * RATE), dtype=np.float32), final=final, prefix="a b")


def test_plan_fills_one_window_most_urgent_first() -> None:
    decoder = PackedDecoder(lambda: pytest.fail("planning needs no model"))  # type: ignore[arg-type, return-value]
    items = [item(10, final=True), item(10), item(10), item(3)]
    # 10.5 + 10.5 s; the third 10 s does not fit, and the 3 s interim behind it does not pass it.
    assert decoder.plan(items) == [0, 1]
    assert decoder.plan([item(10, final=True), item(10, final=True), item(10, final=True), item(3, final=True)]) == [
        0,
        1,
        3,
    ]  # a final may: finals are decoded in order of their stream anyway
    assert decoder.plan([item(40)]) == [0]  # too long for a window: it goes anyway, cut to fit
    interims = [item(1) for _ in range(10)]
    assert decoder.plan(interims) == list(range(packed_decoder.MAX_INTERIMS))
    finals = [item(0.5, final=True) for _ in range(20)]
    assert len(decoder.plan(finals)) == packed_decoder.MAX_ITEMS


def chunk(seconds: float) -> DecodeItem:
    """A recording's chunk."""
    return DecodeItem(np.zeros(int(seconds * RATE), dtype=np.float32), final=True, prerecorded=True)


def test_recordings_chunks_fill_several_windows_while_no_live_work_waits() -> None:
    decoder = PackedDecoder(lambda: pytest.fail("planning needs no model"), windows=3)  # type: ignore[arg-type, return-value]
    chunks = [chunk(20), chunk(20), chunk(5), chunk(20), chunk(20)]
    # 20.5 s in each of three windows, and the 5 s chunk beside the first.
    assert decoder.plan(chunks) == [0, 1, 2, 3]
    # Live work waiting (here an interim after a chunk that has waited long): one window only.
    assert decoder.plan([*chunks[:2], item(1)]) == [0, 2]
    assert PackedDecoder(lambda: pytest.fail("no model"), windows=1).plan(chunks) == [0, 2]  # type: ignore[arg-type, return-value]


def test_a_round_takes_the_fewest_windows_that_hold_it() -> None:
    assert packed_decoder._placed([chunk(20), chunk(20), chunk(5)], 3) == [(0, 0), (1, 0), (0, int(20.5 * RATE))]
    assert packed_decoder._placed([chunk(5), chunk(5)], 3) == [(0, 0), (0, int(5.5 * RATE))]
    with pytest.raises(ValueError):
        packed_decoder._placed([chunk(20)] * 3, 2)


def test_fake_decoder_says_its_words_over_loud_audio_after_the_prefix() -> None:
    fake = FakePackedDecoder("one two three four", word_s=0.25)
    loud = np.concatenate([np.zeros(8000), np.full(RATE, 0.5)]).astype(np.float32)
    (first, second) = [r for r in fake.run([DecodeItem(loud), DecodeItem(loud, prefix="one two")]) if r]
    assert [w.text for w in first[1].words] == ["one", "two", "three", "four"]
    assert first[1].words[0].start_s == 0.5
    assert [w.text for w in second[1].words] == ["three", "four"]
    assert [r for r in fake.run([DecodeItem(np.zeros(RATE, np.float32))]) if r][0][1].words == ()


def said(text: str) -> list[packed_decoder.Word]:
    return [packed_decoder.Word(t, i * 0.3, i * 0.3 + 0.3, 0.9) for i, t in enumerate(text.split())]


@pytest.mark.parametrize(
    ("prefix", "text", "kept"),
    [
        ("", "produced the block books. Produced the block books", "produced the block books."),
        ("", "one two three four one two three four five", "one two three four five"),
        ("by a similar process, produced the block books,", "produced the block books, which were", "which were"),
        ("", "ask not what your country can do for you, ask what you can do", None),
        ("", "no no no", None),  # single words said again are left alone
        ("", "the the cat", None),
        # A loop begun at the end of one final and finished at the start of the next.
        ("Eight. The Press Yard eight.", "The Press Yard and so my fellow", "and so my fellow"),
        ("in eighteen thirteen", "in eighteen thirteen, eight", "eight"),
        ("we the people", "of the united states", None),
        ("the", "the cat", None),
        (
            "We the people of the United States in order to form a more perfect union.",
            "Establish justice. Ensure domestic tranquility. Order to form a more perfect union. Establish "
            "justice. Ensure domestic tranquility.",
            "Establish justice. Ensure domestic tranquility.",
        ),
    ],
)
def test_decoder_loops_are_dropped(prefix: str, text: str, kept: str | None) -> None:
    words = packed_decoder.drop_repeats(prefix.split(), said(text))
    assert " ".join(w.text for w in words) == (text if kept is None else kept)


@pytest.fixture(scope="module")
def decoder() -> PackedDecoder:
    from openlisten.config import Settings
    from openlisten.engine.models import ModelManager

    models = ModelManager(Settings())
    return PackedDecoder(lambda: models.load(models.resolve("nova-3")), beam_size=5)


def run(decoder: PackedDecoder, items: list[DecodeItem]) -> list[DecodeResult]:
    results = dict(step for step in decoder.run(items) if step is not None)
    return [results[i] for i in range(len(items))]


def test_each_packed_piece_hears_only_itself(decoder: PackedDecoder, jfk_flac: bytes) -> None:
    jfk = decode_audio(jfk_flac).mixed()
    modern = decode_audio((EVAL / "data" / "ljspeech" / "LJ001-0002.wav").read_bytes()).mixed()
    jfk_final, modern_interim = run(decoder, [DecodeItem(jfk, final=True), DecodeItem(modern)])
    assert words_of(" ".join(w.text for w in jfk_final.words))[:8] == [
        "and",
        "so",
        "my",
        "fellow",
        "americans",
        "ask",
        "not",
        "what",
    ]
    assert words_of(" ".join(w.text for w in modern_interim.words)) == ["in", "being", "comparatively", "modern"]
    times = [(w.start_s, w.end_s) for w in jfk_final.words]
    assert all(0 <= start <= end <= 11.0 for start, end in times) and times == sorted(times)


def test_a_prefix_is_continued_not_repeated(decoder: PackedDecoder, jfk_flac: bytes) -> None:
    jfk = decode_audio(jfk_flac).mixed()[: 6 * RATE]
    (result,) = run(decoder, [DecodeItem(jfk, prefix="And so my fellow Americans", final=True)])
    assert words_of(" ".join(w.text for w in result.words))[:3] == ["ask", "not", "what"]
    assert result.words[0].start_s > 2.0  # after "Americans"


def test_silence_and_noise_give_no_words(decoder: PackedDecoder) -> None:
    noise = (np.random.default_rng(0).standard_normal(3 * RATE) * 0.05).astype(np.float32)
    hum = (0.1 * np.sin(2 * np.pi * 120 * np.arange(2 * RATE) / RATE)).astype(np.float32)
    results = run(decoder, [DecodeItem(np.zeros(2 * RATE, np.float32), final=True), DecodeItem(noise), DecodeItem(hum)])
    assert [r.words for r in results] == [(), (), ()]


@pytest.mark.parametrize("prerecorded", [True, False], ids=["recording", "live"])
def test_a_piece_packed_after_another_keeps_its_first_words(decoder: PackedDecoder, prerecorded: bool) -> None:
    """Whisper must start where the piece lies in the window (a recording's chunk decodes with timestamps),
    and the alignment squeezes a first word into the frames before the piece: it is kept, not dropped."""
    first, second = (
        decode_audio((EVAL / "data" / "ljspeech" / f"LJ001-000{n}.wav").read_bytes()).mixed() for n in (4, 5)
    )
    pieces = [DecodeItem(samples, final=True, prerecorded=prerecorded) for samples in (first, second)]
    _, after = run(decoder, pieces)
    heard = words_of(" ".join(w.text for w in after.words))
    assert heard[:4] == ["the", "invention", "of", "movable"]
    assert heard[-3:] == ["art", "of", "printing"]
    assert all(0 <= w.start_s <= w.end_s <= second.size / RATE for w in after.words)


@pytest.mark.parametrize("prerecorded", [True, False], ids=["recording", "live"])
def test_short_pieces_packed_one_after_another_all_keep_their_words(decoder: PackedDecoder, prerecorded: bool) -> None:
    """Whisper's no-speech probability is read at the window's start: for a piece further in, the silence
    before it makes it high. Four concurrent requests saying "Still working." all get their words."""
    samples, rate = espeak_samples("Still working.")
    said = resample_poly(samples.astype(np.float32) / 32768, RATE, rate).astype(np.float32)
    said = np.concatenate([np.zeros(RATE // 5, np.float32), said, np.zeros(RATE // 5, np.float32)])
    results = run(decoder, [DecodeItem(said, final=True, prerecorded=prerecorded) for _ in range(4)])
    assert [words_of(" ".join(w.text for w in r.words)) for r in results] == [["still", "working"]] * 4


@pytest.mark.parametrize("before_s", [6.0, 10.0])
def test_a_doubtful_first_word_of_a_live_piece_is_kept(decoder: PackedDecoder, before_s: float) -> None:
    """After another piece's audio, Whisper doubts the first word of a live piece ("printing" at 0.006,
    before "in the only sense" at 0.27 and 0.99): it heard it all the same, and it is kept."""
    printing = decode_audio((EVAL / "data" / "ljspeech" / "LJ001-0001.wav").read_bytes()).mixed()[: int(4.35 * RATE)]
    other = decode_audio((EVAL / "data" / "ljspeech" / "LJ001-0004.wav").read_bytes()).mixed()
    other = np.concatenate([other, other])[: int(before_s * RATE)]
    _, after = run(decoder, [DecodeItem(other, final=True), DecodeItem(printing, final=True)])
    assert words_of(" ".join(w.text for w in after.words))[:4] == ["printing", "in", "the", "only"]


def test_pieces_with_different_keyterms_share_a_round(decoder: PackedDecoder) -> None:
    """Two streams' keyterms of different lengths put their prompts' <|startoftranscript|> at different
    places, which CTranslate2 will not decode as one batch: each stream still gets its words."""
    first, second = (
        decode_audio((EVAL / "data" / "ljspeech" / f"LJ001-000{n}.wav").read_bytes()).mixed()[: 5 * RATE]
        for n in (4, 5)
    )
    results = run(
        decoder,
        [
            DecodeItem(first, final=True, hotwords="Kubernetes"),
            DecodeItem(second, final=True, hotwords="Gutenberg"),
            DecodeItem(second, final=True),
        ],
    )
    heard = [words_of(" ".join(w.text for w in r.words)) for r in results]
    assert heard[0][:3] == ["produced", "the", "block"]
    assert "metal" in heard[1]
    assert heard[2][:3] == ["the", "invention", "of"]
