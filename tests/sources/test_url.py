from __future__ import annotations

import asyncio

import pytest

from openlisten.errors import URLFetchError
from openlisten.sources.url import check_url_allowed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.wav",
        "http://localhost:8080/a.wav",
        "http://10.1.2.3/a.wav",
        "http://192.168.0.10/a.wav",
        "http://172.16.0.1/a.wav",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.wav",
        "http://0.0.0.0/a.wav",
        "http://[fe80::1]/a.wav",
    ],
)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(URLFetchError, match="non-public address"):
        asyncio.run(check_url_allowed(url, allow_private=False))


def test_private_addresses_are_allowed_when_configured() -> None:
    asyncio.run(check_url_allowed("http://127.0.0.1/a.wav", allow_private=True))


@pytest.mark.parametrize("url", ["ftp://example.com/a.wav", "file:///etc/passwd", "not a url", "http:///nohost"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(URLFetchError, match="http or https"):
        asyncio.run(check_url_allowed(url, allow_private=True))
