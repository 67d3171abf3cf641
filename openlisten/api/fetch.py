"""Fetching audio for ``{"url": ...}`` requests: bounded in time, size and redirects, and refusing
private, loopback and link-local addresses unless the server allows them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx

from openlisten.api.streams import read_limited
from openlisten.errors import URLFetchError

__all__ = ["check_url_allowed", "fetch_audio"]

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
                raise URLFetchError(f"could not fetch {_redact(url)}: {type(exc).__name__} {exc}".strip()) from exc
    raise URLFetchError(f"too many redirects fetching {_redact(url)} (at most {max_redirects})")


async def check_url_allowed(url: str, *, allow_private: bool) -> None:
    """Raise `URLFetchError` unless `url` is http(s) and, when not `allow_private`, every address
    its host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise URLFetchError(f"url must be an http or https URL, got {_redact(url)!r}")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
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
        raise URLFetchError(f"fetching {_redact(url)} failed with HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise URLFetchError(f"the url returned an HTML page ({content_type}), not audio")
    return await read_limited(
        response.aiter_bytes(),
        declared_length=response.headers.get("content-length"),
        max_bytes=max_bytes,
        what="the file at the url",
    )


def _redact(url: str) -> str:
    """The URL without user info, which may hold credentials."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()
