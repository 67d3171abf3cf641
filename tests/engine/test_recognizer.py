"""Recordings cut at pauses into chunks and decoded by the shared packed decoder (here a fake one)."""

from __future__ import annotations

from pathlib import Path

from openlisten.api.app import create_app
from openlisten.audio import decode_audio
from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.recognizer import CHUNK_S, ChunkedRecognizer, RecognitionOptions, _unheard_tail
from openlisten.engine.scheduler import Scheduler
from openlisten.engine.types import Word
from tests.conftest import EVAL


def test_a_recording_is_decoded_in_chunks_cut_at_pauses_in_order() -> None:
    samples = decode_audio((EVAL / "derived" / "long" / "pub_long_00.wav").read_bytes()).samples[0]
    fake = FakePackedDecoder(" ".join(["word"] * 200), languages=())  # words over all of each chunk's loud audio
    recognizer = ChunkedRecognizer(fake, Scheduler())
    recognition = recognizer.recognize(samples, RecognitionOptions(language="en", beam_size=3, hotwords="Chinese"))
    segments = list(recognition.segments)
    items = [item for run in fake.runs for item in run]
    assert len(segments) == len(items) >= 4  # two minutes of speech, a window at most per chunk
    assert all(item.prerecorded and item.final and item.beam_size == 3 for item in items)
    assert all(item.hotwords == "Chinese" and item.duration_s <= CHUNK_S for item in items)
    starts = [segment.start_s for segment in segments]
    assert starts == sorted(starts) and segments[-1].end_s <= recognition.duration_s
    assert all(s.start_s <= w.start_s <= w.end_s <= s.end_s for s in segments for w in s.words)


def test_recordings_and_live_streams_share_one_decoder_per_model(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = Engine(settings)
    spec = engine.models.resolve("nova-3")
    assert engine.decoder(spec) is engine.decoder(spec)
    assert engine.recognizer(spec).decoder is engine.decoder(spec)
    app = create_app(engine=engine)
    assert app.state.live.engine is engine
    assert app.state.services.transcriber.engine is engine


def test_speech_left_after_a_chunks_last_word_is_decoded_again() -> None:
    heard = DecodeResult((Word("printing", 0.5, 1.0, 0.9),))
    rate = 16000
    assert _unheard_tail(heard, 2 * rate, 7 * rate, [(2.0, 6.5)]) == 3 * rate  # 3.5 s of speech after 3.0 s
    assert _unheard_tail(heard, 2 * rate, 7 * rate, [(2.0, 3.2)]) is None  # a word's tail, not a sentence
