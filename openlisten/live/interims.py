"""`InterimDecodes`: the interim decodes of a live channel's open utterance, in flight and due.

While the speaker talks, the channel asks for a greedy decode of the utterance so far every interval of
audio: shown as an interim Results and, once two agree, made final (`Stabilizer`). Under load they come back
late, out of order or not at all (coalesced into a newer one), so a result counts only if it is still
current: asked with the prefix in force now (its `version`), and newer than the last one applied. When the
prefix changes (another final's words became known), every interim in flight is stale: they are cancelled,
and the next is due at once, with the new prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word

__all__ = ["Interim", "InterimDecodes"]


@dataclass(frozen=True)
class Interim:
    """An interim decode in flight."""

    #: The prefix version it was asked with; a result for an older one is stale.
    version: int
    origin: int
    end: int
    #: The decoded audio, from `origin`.
    samples: npt.NDArray[np.float32]
    #: The words forced as the decoder's prefix.
    prefix: list[Word]
    #: Asked with every earlier final's words as prefix: its words may become final (else only shown).
    confirmable: bool


class InterimDecodes:
    """A channel's interim decodes: at most one due per interval, any number in flight."""

    def __init__(self) -> None:
        self._in_flight: dict[int, Interim] = {}
        self._last_asked = 0  # where the audio of the last one asked for ended
        self._applied = -1  # the request id of the last result taken

    def restart(self, onset: int) -> None:
        """An utterance opened at `onset`: its first interim is due an interval later."""
        self._last_asked = onset

    def due(self, now: int, interval_s: float) -> bool:
        """Whether an interim of the audio up to `now` is due."""
        return now - self._last_asked >= interval_s * SAMPLE_RATE

    def asked(self, request_id: int, interim: Interim) -> None:
        self._in_flight[request_id] = interim
        self._last_asked = interim.end

    def result(self, request_id: int, version: int) -> Interim | None:
        """The interim whose result came back, if it is current: asked with prefix `version`, and no older
        than the last one taken."""
        interim = self._in_flight.pop(request_id, None)
        if interim is None or interim.version != version or request_id < self._applied:
            return None
        self._applied = request_id
        return interim

    def cancelled(self, request_id: int) -> None:
        """A request that will not run."""
        self._in_flight.pop(request_id, None)

    def cancel(self) -> list[int]:
        """Forget every interim in flight (the utterance closed): the requests to cancel."""
        requests = list(self._in_flight)
        self._in_flight.clear()
        return requests

    def stale(self) -> list[int]:
        """The prefix changed: the requests in flight to cancel; if there were any, the next is due at once."""
        requests = self.cancel()
        if requests:
            self._last_asked = -(1 << 62)
        return requests
