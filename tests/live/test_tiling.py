"""The live session's invariant, property-style: finals tile the stream, and every recognised word is in
exactly one final, whatever happens to the model's work.

Hypothesis scripts a timeline: speech and pauses (continuous speech included), audio in pieces, decode
results that come back late, out of order or never (interims dropped as a loaded scheduler drops them),
``Finalize`` at any moment, and ``CloseStream`` at the end. The recognizer is `Timeline`: it knows each
word's true time and hears a word when the whole of it is in the decoded audio, after the forced prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openlisten.live.events import CloseStream, DecodeRequest, EmbedRequest, Finalize, Results
from tests.live.helpers import RATE, Script, Timeline, pcm16, session, silence, tone

#: Audio per piece fed: 100 ms, as clients send.
PIECE_BYTES = RATE // 10 * 2


@dataclass(frozen=True)
class Step:
    """After a piece of audio: which outstanding requests come back now (by rank, oldest first), which
    interims are dropped, and whether the client sends Finalize."""

    answer: tuple[int, ...]
    drop_interims: bool
    finalize: bool


def spans(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Speech spans in stream seconds: long and short, with pauses from none (continuous) to long."""
    t, found = round(draw(st.floats(0.0, 1.0)), 2), []
    for _ in range(draw(st.integers(1, 3))):
        length = round(draw(st.floats(0.3, 9.0)), 2)
        found.append((t, t + length))
        t = round(t + length + draw(st.sampled_from([0.0, 0.05, 0.2, 0.4, 1.0, 6.0])), 2)
    return found


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[tuple[float, float]], float, list[Step]]:
    speech = spans(draw)
    total = round(speech[-1][1] + draw(st.floats(0.0, 1.5)), 2)
    steps = [
        Step(
            answer=tuple(draw(st.lists(st.integers(0, 5), max_size=3))),
            drop_interims=draw(st.booleans()),
            finalize=draw(st.integers(0, 40)) == 0,
        )
        for _ in range(int(total * 10) + 1)
    ]
    return speech, total, steps


def audio_for(speech: list[tuple[float, float]], total: float) -> bytes:
    pieces, t = [], 0.0
    for start, end in speech:
        pieces += [silence(start - t), tone(end - start)]
        t = end
    pieces.append(silence(total - t))
    return pcm16(*pieces)


class Unruly(Script):
    """A `Script` whose model answers late and out of order, and drops interims."""

    def step(self, step: Step) -> None:
        if step.drop_interims:
            for request_id, request in list(self.outstanding.items()):
                if isinstance(request, DecodeRequest) and not request.final:
                    del self.outstanding[request_id]
                    self.session.cancelled(request_id)
        for rank in step.answer:
            waiting = sorted(self.outstanding)
            if rank < len(waiting):
                self._answer_one(waiting[rank])

    def _answer_one(self, request_id: int) -> None:
        request = self.outstanding.pop(request_id)
        assert not isinstance(request, EmbedRequest)
        # The prefix is the words of the decoded audio before what is new: each one is in it.
        forced = set(request.item.prefix.split())
        for text, _, end in self.recognizer.words:
            if text in forced:
                assert end > request.start_s, f"{text} is forced as prefix, but its audio is not decoded"
        self.session.deliver(request_id, self.recognizer.answer(request))
        self._collect()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines(), st.booleans())
# Found by this test: a Finalize every 100 ms, the last one 20 ms before the end of a word. The utterance
# opened there held that word's end, though the speech frame it ended in began before it.
@example(([(0.22, 1.72)], 2.72, [Step((0, 0, 0), drop_interims=False, finalize=True)] * 28), False)
def test_finals_tile_the_stream_and_say_every_word_once(
    timeline: tuple[list[tuple[float, float]], float, list[Step]], interim_results: bool
) -> None:
    speech, total, steps = timeline
    recognizer = Timeline(speech)
    script = Unruly(session("interim_results=true" if interim_results else ""), recognizer)
    audio = audio_for(speech, total)
    finalized = 0
    for k, offset in enumerate(range(0, len(audio), PIECE_BYTES)):
        script.feed(audio[offset : offset + PIECE_BYTES])
        step = steps[min(k, len(steps) - 1)]
        if step.finalize:
            script.control(Finalize())
            finalized += 1
        script.step(step)
    script.control(CloseStream()).answer()

    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert sum(final.from_finalize for final in finals) == finalized  # each Finalize answered once
    # Tiling: each final starts where the previous one ended, from 0 to the end of the audio.
    position = 0.0
    for final in finals:
        assert abs(final.start_s - position) < 0.002, (final.start_s, position)
        position = round(final.start_s + final.duration_s, 3)
    assert abs(position - len(audio) / 2 / RATE) < 0.002
    # Every word of the audio exactly once, in order (words the recognizer hears: whole ones).
    said = [word.word for final in finals for word in final.words]
    assert said == [text for text, _, _ in recognizer.words]
