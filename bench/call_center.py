"""Call-center benchmark: spoken digits through the server and the official SDK, at 16 kHz and as 8 kHz
mu-law, in two espeak-ng voices (the corpus of tests/e2e/call_center.py).

For each rendering it counts the calls whose digits `numerals` wrote exactly, and the redacted transcripts
(``redact`` for the call's kind, plain and with ``smart_format``) that still hold three digits or digit
words in a row. The 8 kHz figures are printed as ratios to the 16 kHz ones of the same run.

    .venv/bin/python bench/call_center.py
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import httpx
from deepgram import DeepgramClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openlisten.config import Settings  # noqa: E402
from tests.e2e.call_center import CALLS, leaked_digits, render  # noqa: E402
from tests.e2e.conftest import serve_in_thread  # noqa: E402

KEY = "bench-key-0123456789"


def transcript(client: DeepgramClient, audio: bytes, **options: object) -> str:
    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", **options)  # type: ignore[arg-type]
    return str(response.results.channels[0].alternatives[0].transcript)


def main() -> None:
    server, stop = serve_in_thread(Settings(api_keys=[KEY]))
    counts: dict[str, Counter[str]] = {}
    try:
        with httpx.Client(timeout=300) as pool:
            client = DeepgramClient(api_key=KEY, environment=server.environment(), httpx_client=pool, max_retries=0)
            for telephone in (False, True):
                for voice in ("en-us", "en-gb"):
                    rendering = f"{voice} {'8 kHz mu-law' if telephone else '16 kHz'}"
                    tally = counts.setdefault("8k" if telephone else "16k", Counter())
                    for call in CALLS:
                        audio = render(call, voice, telephone)
                        exact = call.digits in re.sub(r"\D", "", transcript(client, audio, numerals=True))
                        leaks = [
                            leaked_digits(transcript(client, audio, redact=call.redact, **extra))
                            for extra in ({}, {"smart_format": True})
                        ]
                        tally["calls"] += 1
                        tally["exact"] += exact
                        tally["redactions"] += 2
                        tally["leaked"] += sum(bool(leak) for leak in leaks)
                        print(f"{rendering:18s} {call.name:11s} exact={exact!s:5s} leaks={leaks}", flush=True)
    finally:
        stop()
    print()
    print(f"{'audio':8s} {'calls':>6s} {'exact':>6s} {'redactions':>11s} {'leaked':>7s}")
    for name, tally in counts.items():
        print(f"{name:8s} {tally['calls']:6d} {tally['exact']:6d} {tally['redactions']:11d} {tally['leaked']:7d}")
    base, phone = counts["16k"], counts["8k"]
    print(f"8 kHz / 16 kHz exact: {phone['exact'] / max(1, base['exact']):.2f}")


if __name__ == "__main__":
    main()
