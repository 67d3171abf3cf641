"""Delivering a finished job to its callback URL, and when to try again (spec/listen-v1.md §3.3).

Deepgram sends the transcript with the request's ``callback_method`` and a ``dg-token`` header holding
the id (never the secret) of the key that asked; credentials in the URL become basic auth. Any 2xx
reply is a delivery; anything else, or no reply, is a failed attempt, retried with exponential backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from openlisten.errors import OpenListenError
from openlisten.jobs.store import Job

__all__ = ["CallbackSender", "RetryPolicy", "UrlCheck"]

logger = logging.getLogger(__name__)

#: Raises `OpenListenError` unless a callback URL may be called now (the address rules of URL fetch,
#: checked again at each delivery because DNS answers change).
UrlCheck = Callable[[str], Awaitable[None]]

_USER_AGENT = "openlisten-callback/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff: `base_s`, 2×`base_s`, 4×`base_s`… up to `max_s`."""

    #: Delivery attempts in all, the first included.
    max_attempts: int = 10
    #: Wait after the first failed attempt.
    base_s: float = 2.0
    #: Longest wait between two attempts.
    max_s: float = 300.0

    def delay_s(self, attempts: int) -> float | None:
        """How long to wait after `attempts` failed attempts; None when there are no attempts left."""
        if attempts >= self.max_attempts:
            return None
        return float(min(self.max_s, self.base_s * 2 ** (attempts - 1)))


class CallbackSender:
    """Sends job results over one pooled HTTP client; redirects are not followed (each hop would need
    the address check again, and a callback has no reason to move)."""

    def __init__(self, *, timeout_s: float, check_url: UrlCheck) -> None:
        self._check_url = check_url
        self._timeout = httpx.Timeout(timeout_s)
        self._client: httpx.AsyncClient | None = None

    async def send(self, job: Job, body: bytes) -> str | None:
        """Deliver `body`; None when the receiver took it, else why not (safe to log: no credentials)."""
        try:
            await self._check_url(job.callback_url)
        except OpenListenError as exc:
            return exc.message
        headers = {"content-type": "application/json", "dg-token": job.key_id, "user-agent": _USER_AGENT}
        if self._client is None:  # made in the event loop that sends
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, trust_env=False)
        try:
            url, auth = _split_credentials(job.callback_url)
            response = await self._client.request(job.callback_method, url, content=body, headers=headers, auth=auth)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} calling {_host(job.callback_url)}: {exc}".rstrip(": ")
        if not response.is_success:
            return f"{_host(job.callback_url)} answered HTTP {response.status_code}"
        return None

    async def aclose(self) -> None:
        """Close the connection pool (a later `send` opens a new one)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _split_credentials(url: str) -> tuple[httpx.URL, httpx.BasicAuth | None]:
    """The URL without user info, and that user info as basic auth: httpx logs request URLs."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return parsed, None
    return parsed.copy_with(userinfo=b""), httpx.BasicAuth(parsed.username, parsed.password)


def _host(url: str) -> str:
    """Where a callback goes, without the path or the credentials it may carry."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"
