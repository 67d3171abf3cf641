"""`ReplicaMetrics`: a replica's own Prometheus endpoint, announced in the shared store.

Through Ray Serve's proxy, ``GET /metrics`` reaches whichever replica the router picks, so Prometheus
could not see them all there. Each replica therefore also serves its metrics on a port of its own, on
its node's address, and announces that URL in the store every `ANNOUNCE_EVERY_S`; ``/metrics/targets``
lists the replicas heard from lately in Prometheus' HTTP service-discovery format. Every sample carries
the replica's id as a ``replica`` label, so sums over replicas are ``sum without (replica, instance)``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from openlisten.api.metrics import LabelledCollector
from openlisten.errors import StoreError

if TYPE_CHECKING:
    from openlisten.api.deps import Services

__all__ = ["ANNOUNCE_EVERY_S", "FORGET_AFTER_S", "ReplicaMetrics"]

logger = logging.getLogger(__name__)

#: How often a replica says it is alive and where its metrics are.
ANNOUNCE_EVERY_S = 10.0
#: A replica not heard from in this long died without saying so: it is left out of the targets.
FORGET_AFTER_S = 3 * ANNOUNCE_EVERY_S


class ReplicaMetrics:
    """Serves `services`' metrics, labelled with `replica_id`, on a free port of `host`, and keeps the
    store told where."""

    def __init__(self, services: Services, replica_id: str, host: str) -> None:
        self._services = services
        self.replica_id = replica_id
        self._host = host
        self._stop = threading.Event()
        self._server: WSGIServer | None = None
        self.url: str | None = None

    def start(self) -> None:
        labels = {"replica": self.replica_id}
        self._services.metrics.label_every_sample(labels)
        server, _ = start_http_server(
            0, addr=self._host, registry=LabelledCollector(self._services.metrics.registry, labels)
        )
        self._server = server
        self.url = f"http://{self._host}:{server.server_port}/metrics"
        threading.Thread(target=self._announce, name="openlisten-replica-announce", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self._services.store.forget_replica(self.replica_id)
        except StoreError:
            logger.warning("could not remove replica %s from the store; it expires on its own", self.replica_id)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _announce(self) -> None:
        assert self.url is not None
        while not self._stop.is_set():
            try:
                self._services.store.announce_replica(self.replica_id, self.url, time.time())
            except StoreError:
                logger.exception("could not announce replica %s's metrics; trying again", self.replica_id)
            self._stop.wait(ANNOUNCE_EVERY_S)
