"""Fuzzing ``POST /v1/listen`` and the whole OpenAPI schema: any input gets a 2xx or a Deepgram-shaped 4xx,
never a 5xx (STYLE §7). Bounded to a few seconds; the counts are printed (``pytest -s``).

No fuzz case leaves the machine: host names resolve (through a fake resolver) to 127.0.0.1, which the URL
rule refuses, and callbacks may only go to 127.0.0.1, where nothing listens on the generated ports.
"""

from __future__ import annotations

import collections
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openlisten.api.app import create_app
from openlisten.config import Settings
from tests.api.test_routes import KEY
from tests.conftest import fake_engine, speech

#: Examples per fuzz run; the whole module stays under ~15 s on a busy 2-core machine.
LISTEN_EXAMPLES = 400
SCHEMA_EXAMPLES = 60

FUZZ_SETTINGS = Settings(
    api_keys=[KEY],
    callback_allowed_hosts=["127.0.0.1"],
    callback_max_attempts=1,
    max_upload_bytes=200_000,
    shutdown_grace_s=0.2,
)


def fuzz_app() -> Any:
    return create_app(engine=fake_engine(FUZZ_SETTINGS))


@pytest.fixture(autouse=True)
def loopback_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host name resolves to 127.0.0.1 (so the address rule refuses it) and nothing is looked up."""

    def resolve(host: object, port: object, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        if not isinstance(host, (str, bytes)) or not host:
            raise socket.gaierror("no such host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port or 0)))]  # type: ignore[call-overload]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


NAMES = (  # noqa: SIM905 (one word list)
    "model language punctuate smart_format numerals filler_words multichannel detect_language encoding "
    "sample_rate channels paragraphs utterances utt_split tag extra callback callback_method redact search "
    "replace keywords keyterm diarize diarize_model summarize topics dictation profanity_filter"
).split()
VALUES = st.sampled_from(
    [
        "true", "false", "TRUE", "0", "1", "", " ", "nova-3", "whisper-large", "base", "en", "en-US", "fr", "multi",
        "linear16", "mulaw", "opus", "flac", "16000", "8000", "0", "-1", "1e309", "nan", "inf", "2.5", "99999999999",
        "POST", "PUT", "GET", "k:v", ":v", "k:", "a:b:c", "pii", "pci", "latest", "v9",
        "http://127.0.0.1:9/cb", "https://127.0.0.1/cb?x=1", "http://user:pw@127.0.0.1:9/", "http://[::1",
        "http://127.0.0.1:99999/", "ftp://127.0.0.1/", "//127.0.0.1/x", "http://example.com/x", "\u00e9\u00e9",
    ]
)  # fmt: skip
URLS = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}{path}",
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "//", "http:/", ""]),
    st.sampled_from(["", "", "user:pw@", "@", "a@b@"]),
    st.sampled_from(["127.0.0.1", "[::1]", "[::1", "localhost", "example.com", "", "10.0.0.1", "0", "é.com"]),
    st.one_of(
        st.sampled_from(["", ":", ":0", ":80", ":65535", ":65536", ":99999", ":-1", ":x", ":8_0"]),
        st.integers(-1, 100_000).map(lambda port: f":{port}"),
    ),
    st.sampled_from(["", "/", "/a.wav", "/cb?x=1#f", "/%zz", "/\\"]),
)
GOOD_PAIRS = st.one_of(
    st.sampled_from(
        [("model", "nova-3"), ("punctuate", "true"), ("smart_format", "true"), ("tag", "x"), ("utterances", "true"),
         ("paragraphs", "true"), ("language", "en"), ("callback_method", "put"), ("extra", "k:v"),
         ("callback", "http://127.0.0.1:9/cb")]
    ),
    st.tuples(st.just("callback"), URLS),
)  # fmt: skip
ANY_PAIRS = st.tuples(
    st.one_of(st.sampled_from(NAMES), st.sampled_from(["extra[k]", "extra[", "x"]), st.text(max_size=8)),
    st.one_of(VALUES, URLS, st.text(max_size=40)),
)
#: Mostly queries that parse, so bodies get fuzzed past the options; some anything-goes ones.
QUERY = st.one_of(st.just([]), st.lists(GOOD_PAIRS, max_size=3), st.lists(st.one_of(GOOD_PAIRS, ANY_PAIRS), max_size=6))


def mostly(usual: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` four times in five, so most cases get past auth and content negotiation to the parsing."""
    return st.integers(0, 4).flatmap(lambda n: odd if n == 0 else usual)


ODD_CONTENT_TYPES = st.one_of(
    st.sampled_from(
        ["application/json", "application/octet-stream", "audio/wav", "APPLICATION/JSON; charset=utf-8",
         "text/plain", "", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
)  # fmt: skip
AUTHORIZATION = mostly(st.just(f"Token {KEY}"), st.one_of(
    st.sampled_from(
        [f"Token {KEY}", f"token   {KEY}  ", f"TOKEN {KEY}", "Token wrong", "Bearer a.b.c", "bearer", "Basic dTpw",
         "", "Token", f"Bearer {KEY}", f"Token {KEY} extra"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
))  # fmt: skip
JSON_BODIES = mostly(
    st.builds(lambda url: json.dumps({"url": url}).encode(), st.one_of(URLS, VALUES, st.text(max_size=50))),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=6,
    ).map(lambda value: json.dumps(value).encode()),
)  # type: ignore[arg-type]
WAV = speech(0.4)
AUDIO_BODIES = st.one_of(
    st.binary(max_size=3000),
    st.integers(0, len(WAV)).map(lambda n: WAV[:n]),  # a real WAV cut anywhere
    st.tuples(st.integers(0, len(WAV) - 1), st.binary(min_size=1, max_size=16)).map(  # ... or damaged anywhere
        lambda spot: WAV[: spot[0]] + spot[1] + WAV[spot[0] + len(spot[1]) :]
    ),
    st.just(WAV),
)
#: (content type, body): JSON bodies as JSON, audio as octet-stream, and a fifth of anything with anything.
BODIES = st.one_of(
    st.tuples(st.just("application/json"), JSON_BODIES),
    st.tuples(st.just("application/octet-stream"), AUDIO_BODIES),
    st.tuples(st.just("application/json"), JSON_BODIES),
    st.tuples(st.just("application/octet-stream"), AUDIO_BODIES),
    st.tuples(ODD_CONTENT_TYPES, st.one_of(AUDIO_BODIES, JSON_BODIES)),
)


def check_answer(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    if response.status_code == 200:
        assert "metadata" in body or set(body) == {"request_id"}, body
    else:
        assert set(body) == {"err_code", "err_msg", "request_id"}, body
        assert body["err_msg"] and body["request_id"] == response.headers["dg-request-id"]
        if response.status_code == 429:
            assert response.headers["retry-after"]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(fuzz_app()) as http:
        yield http


def test_fuzz_listen_with_bodies_headers_and_query_strings(client: TestClient) -> None:
    statuses: collections.Counter[int] = collections.Counter()

    @settings(
        max_examples=LISTEN_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        query=QUERY,
        request=BODIES,
        authorization=AUTHORIZATION,
        extra_headers=st.dictionaries(
            st.sampled_from(["x-deepgram-session-id", "content-encoding", "expect", "transfer-encoding", "x-a"]),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
            max_size=2,
        ),
    )
    def fuzz(
        query: list[tuple[str, str]], request: tuple[str, bytes], authorization: str, extra_headers: dict[str, str]
    ) -> None:
        content_type, body = request
        headers = {"content-type": content_type, "authorization": authorization} | extra_headers
        headers.pop("transfer-encoding", None)  # the test transport frames the body itself
        response = client.post("/v1/listen", params=query, content=body, headers=headers)
        statuses[response.status_code] += 1
        check_answer(response)

    fuzz()
    print(f"\n/v1/listen fuzz: {sum(statuses.values())} cases, statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= LISTEN_EXAMPLES // 2 and statuses[200] > 0 and statuses[400] > 0


SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app())
SCHEMA_CASES: collections.Counter[str] = collections.Counter()


@SCHEMA.parametrize()
@settings(max_examples=SCHEMA_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_server_error(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Token {KEY}"})
    SCHEMA_CASES[f"{case.method} {case.path}"] += 1
    assert response.status_code < 500 or (case.path == "/readyz" and response.status_code == 503), response.text
    # Every check but the two that take the schema as the whole grammar of valid values: parameters are
    # documented as strings, yet an empty or malformed value is rightly a 400 (spec §9).
    case.validate_response(
        response,
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.negative_data_rejection],
    )


def test_report_schemathesis_counts() -> None:
    print(f"\nschemathesis: {sum(SCHEMA_CASES.values())} cases, {dict(SCHEMA_CASES)}")
