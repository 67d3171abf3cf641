"""Call-center benchmark: spoken digits through the server and the official SDK, at 16 kHz and as 8 kHz
mu-law, in two espeak-ng voices (the corpus of tests/e2e/call_center.py).

For each rendering it counts the calls whose digits `numerals` wrote exactly, and the redacted transcripts
(``redact`` for the call's kind, plain and with ``smart_format``) that still hold three digits or digit
words in a row. The same 8 kHz mu-law audio is also sent resampled to 16 kHz outside OpenListen (SciPy's
polyphase filter), which is what telephone audio must not do worse than; the 8 kHz figures are printed as
ratios to both.

    .venv/bin/python bench/call_center.py
"""

from __future__ import annotations

import io
import re
import sys
import wave
from collections import Counter
from pathlib import Path

import av
import httpx
import numpy as np
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


def resampled_elsewhere(telephone: bytes) -> bytes:
    """8 kHz mu-law audio as 16 kHz 16-bit PCM, decoded by PyAV and resampled by SciPy (not by OpenListen)."""
    from scipy.signal import resample_poly

    with av.open(io.BytesIO(telephone)) as container:
        stream = container.streams.audio[0]
        floats = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        samples = np.concatenate(
            [f.to_ndarray().reshape(-1) for frame in container.decode(stream) for f in floats.resample(frame)]
        )
    wide = resample_poly(samples, 16000 // stream.rate, 1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes((np.clip(wide, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def main() -> None:
    server, stop = serve_in_thread(Settings(api_keys=[KEY]))
    counts: dict[str, Counter[str]] = {}
    try:
        with httpx.Client(timeout=300) as pool:
            client = DeepgramClient(api_key=KEY, environment=server.environment(), httpx_client=pool, max_retries=0)
            for kind in ("16k", "8k", "8k→16k"):
                for voice in ("en-us", "en-gb"):
                    rendering = f"{voice} {kind}"
                    tally = counts.setdefault(kind, Counter())
                    for call in CALLS:
                        audio = render(call, voice, kind != "16k")
                        audio = resampled_elsewhere(audio) if kind == "8k→16k" else audio
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
    phone = counts["8k"]["exact"]
    print(f"8 kHz exact / 16 kHz exact: {phone / max(1, counts['16k']['exact']):.2f}")
    print(f"8 kHz exact / the same 8 kHz resampled elsewhere: {phone / max(1, counts['8k→16k']['exact']):.2f}")


if __name__ == "__main__":
    main()
