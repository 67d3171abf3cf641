"""`serve_on_ray`: the same API as `openlisten serve`, as a Ray Serve application of engine replicas.

Each replica is a Ray actor that builds the whole app (`create_app`) around its own `Engine` (model,
scheduler, decoders) and is routed to only once its model is loaded. Ray Serve's proxy, on every node,
takes the requests on the usual host and port: a REST request goes to the least busy replica (Ray's
power-of-two-choices router), and a live WebSocket stays on the replica that accepted it, for its whole
life. Replicas share nothing but the store, which must then be PostgreSQL (`Settings.database_url`):
callback jobs a dead replica held are resumed by another when their leases run out, keys revoked through
one replica are refused by all, and tokens any replica signed work on every other.

Ray is imported only here, and only by ``openlisten serve --ray`` (the ``ray`` extra).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from openlisten.api.app import create_app
from openlisten.api.replica_metrics import ReplicaMetrics
from openlisten.config import Settings

__all__ = ["APP_NAME", "RayOptions", "build_deployment", "serve_on_ray"]

logger = logging.getLogger(__name__)

#: The Ray Serve application's name (``serve status`` shows it).
APP_NAME = "openlisten"
#: Requests one replica is sent at once before Ray queues them at the proxy, beyond OpenListen's own limits
#: (which answer 429 themselves): live sessions are requests that last, so the bound is theirs plus REST's.
_ONGOING_SLACK = 8


@dataclass(frozen=True)
class RayOptions:
    """Where and how many replicas run."""

    #: A running cluster (``ray://host:10001`` or ``host:6379``); None starts a local one.
    address: str | None = None
    #: A fixed number of replicas; None scales between `min_replicas` and `max_replicas`.
    replicas: int | None = 1
    min_replicas: int = 1
    max_replicas: int = 1
    #: Autoscaling aims at this many requests in progress per replica (a live session counts as one).
    target_ongoing_requests: float = 4.0
    #: CPUs Ray reserves for each replica (with ``--device cuda``, one GPU as well).
    replica_cpus: float = 1.0


def _replica_class() -> type:
    from ray import serve

    @serve.ingress()
    class OpenListenReplica:
        """One engine and the whole API around it."""

        def __init__(self, settings: Settings) -> None:
            self._settings = settings
            self._app: FastAPI | None = None
            self._metrics: ReplicaMetrics | None = None

        async def __serve_build_asgi_app__(self) -> FastAPI:
            import ray

            app = create_app(self._settings)
            services = app.state.services
            # Loaded before Ray routes anything here, so every replica that answers has its model.
            await asyncio.to_thread(services.engine.load, services.engine.models.resolve("default"))
            if self._settings.metrics:
                replica_id = serve.get_replica_context().replica_id.unique_id
                self._metrics = ReplicaMetrics(services, replica_id, ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]
                self._metrics.start()
            self._app = app
            return app

        def __del__(self) -> None:
            if self._metrics is not None:
                self._metrics.stop()

        def check_health(self) -> None:
            """Ray replaces a replica whose model failed to load (it is not ready, and never will be)."""
            if self._app is not None and self._app.state.services.lifecycle.model_error:
                raise RuntimeError(self._app.state.services.lifecycle.model_error)

    return OpenListenReplica


def build_deployment(settings: Settings, options: RayOptions) -> Any:
    """The Ray Serve deployment of the app on `settings`, as many replicas as `options` say (bind it to
    `settings` to run it)."""
    from ray import serve

    per_replica = settings.max_live_sessions + settings.max_concurrent_requests + _ONGOING_SLACK
    actor: dict[str, Any] = {"num_cpus": options.replica_cpus}
    if settings.device == "cuda":
        actor["num_gpus"] = 1
    config: dict[str, Any] = {
        "max_ongoing_requests": per_replica,
        "ray_actor_options": actor,
        # The drain (live sessions send their finals, callback jobs finish) fits in the grace Ray gives.
        "graceful_shutdown_timeout_s": settings.shutdown_grace_s + 5.0,
        "health_check_period_s": 5.0,
    }
    if options.replicas is not None:
        config["num_replicas"] = options.replicas
    else:
        config["autoscaling_config"] = {
            "min_replicas": options.min_replicas,
            "max_replicas": options.max_replicas,
            "target_ongoing_requests": options.target_ongoing_requests,
        }
    return serve.deployment(name="OpenListen", **config)(_replica_class())


def serve_on_ray(settings: Settings, options: RayOptions) -> None:
    """Run the application on Ray until SIGTERM or Ctrl-C, then delete it (replicas drain first)."""
    import ray
    from ray import serve

    ray.init(address=options.address, namespace=APP_NAME, logging_level=logging.WARNING)
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        application = build_deployment(settings, options).bind(settings)
        serve.run(application, name=APP_NAME, route_prefix="/", blocking=False)
        logger.warning("OpenListen on Ray Serve at http://%s:%d", settings.host, settings.port)
        _wait_for_signal()
        logger.warning("stopping: replicas drain for up to %.0f s", settings.shutdown_grace_s)
        serve.delete(APP_NAME)
    finally:
        ray.shutdown()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
