"""Fetching audio for ``{"url": ...}`` requests: bounded in time, size and redirects, and refusing
private, loopback and link-local addresses unless the server allows them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx

from openlisten.errors import URLFetchError
from openlisten.sources.body_limit import read_limited

__all__ = ["check_url_allowed", "fetch_audio", "redact_url"]

_REDIRECTS = {301, 302, 303, 307, 308}


async def fetch_audio(url: str, *, max_bytes: int, timeout_s: float, max_redirects: int, allow_private: bool) -> bytes:
    """The body at `url`, following at most `max_redirects` redirects, each hop checked again."""
    timeout = httpx.Timeout(timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(max_redirects + 1):
            await check_url_allowed(url, allow_private=allow_private)
            try:
                async with client.stream("GET", url) as response:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    return await _read_body(response, url, max_bytes)
            except httpx.HTTPError as exc:
                raise URLFetchError(f"could not fetch {redact_url(url)}: {type(exc).__name__} {exc}".strip()) from exc
    raise URLFetchError(f"too many redirects fetching {redact_url(url)} (at most {max_redirects})")


async def check_url_allowed(url: str, *, allow_private: bool) -> None:
    """Raise `URLFetchError` unless `url` is http(s) and, when not `allow_private`, every address
    its host resolves to is public."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # urllib's answer to a bad port or a broken IPv6 literal
        raise URLFetchError(f"url is malformed ({exc}): {redact_url(url)!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise URLFetchError(f"url must be an http or https URL, got {redact_url(url)!r}")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise URLFetchError(f"could not resolve host {parts.hostname!r}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise URLFetchError(
                f"url host {parts.hostname!r} resolves to the non-public address {address}; "
                "this server does not fetch private, loopback or link-local addresses"
            )


async def _read_body(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    if response.status_code >= 400:
        raise URLFetchError(f"fetching {redact_url(url)} failed with HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise URLFetchError(f"the url returned an HTML page ({content_type}), not audio")
    return await read_limited(
        response.aiter_bytes(),
        declared_length=response.headers.get("content-length"),
        max_bytes=max_bytes,
        what="the file at the url",
    )


def redact_url(url: str) -> str:
    """The URL without user info, which may hold credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a malformed URL)"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
