"""Prerecorded benchmark: the server through the official SDK vs faster-whisper called directly.

Both run in this process, on the same audio (real speech from ../shared/eval-public), the same model
and the same decoding settings; each file goes through both, alternating which goes first. Prints
the wall times, the server's overhead ratio, real-time factors, WER against the references and peak
RSS.

    .venv/bin/python bench/prerecorded.py [--set pub_read --set pub_long] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import httpx
import jiwer
from deepgram import DeepgramClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openlisten.config import Settings  # noqa: E402
from openlisten.engine.recognizer import RecognitionOptions  # noqa: E402
from tests.conftest import EVAL, words_of  # noqa: E402
from tests.e2e.conftest import serve_in_thread  # noqa: E402

KEY = "bench-key"


def load_manifest(name: str) -> list[dict[str, object]]:
    path = EVAL / "manifests" / f"{name}.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for entry in entries:
        entry["path"] = (path.parent / str(entry["audio"])).resolve()
    return entries


def direct(model: object, path: Path, options: RecognitionOptions) -> str:
    """faster-whisper on the file, with the settings the server uses."""
    segments, _ = model.transcribe(  # type: ignore[attr-defined]
        str(path),
        language=options.language,
        beam_size=options.beam_size,
        vad_filter=options.vad_filter,
        word_timestamps=True,
        condition_on_previous_text=False,
    )
    return " ".join(s.text.strip() for s in segments)


def wer(references: list[str], hypotheses: list[str]) -> float:
    return float(jiwer.wer([" ".join(words_of(r)) for r in references], [" ".join(words_of(h)) for h in hypotheses]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="sets", action="append", help="eval-public manifest (default pub_read, pub_long)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the files")
    args = parser.parse_args()
    entries = [e for name in args.sets or ["pub_read", "pub_long"] for e in load_manifest(name)]
    audio_s = sum(float(e["duration"]) for e in entries)  # type: ignore[arg-type]

    settings = Settings(api_keys=[KEY])
    server, stop = serve_in_thread(settings)
    try:
        with httpx.Client(timeout=600) as pool:
            client = DeepgramClient(api_key=KEY, environment=server.environment(), httpx_client=pool, max_retries=0)
            client.listen.v1.media.transcribe_file(request=Path(entries[0]["path"]).read_bytes())  # type: ignore[arg-type]
            from openlisten.engine.models import ModelManager

            models = ModelManager(settings)
            model = models.load(models.resolve("nova-3"))
            options = RecognitionOptions(language="en", beam_size=settings.beam_size)
            times = {"server": 0.0, "direct": 0.0}
            texts: dict[str, list[str]] = {"server": [], "direct": []}
            for round_index in range(args.rounds):
                for index, entry in enumerate(entries):
                    path = Path(entry["path"])  # type: ignore[arg-type]
                    order = ["server", "direct"] if (index + round_index) % 2 == 0 else ["direct", "server"]
                    for way in order:
                        started = time.perf_counter()
                        if way == "server":
                            response = client.listen.v1.media.transcribe_file(
                                request=path.read_bytes(), model="nova-3", smart_format=True
                            )
                            text = response.results.channels[0].alternatives[0].transcript
                        else:
                            text = direct(model, path, options)
                        times[way] += time.perf_counter() - started
                        if round_index == 0:
                            texts[way].append(text)
    finally:
        stop()

    references = [str(e["text"]) for e in entries]
    total_audio = audio_s * args.rounds
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {len(entries)}  audio: {audio_s:.1f} s x {args.rounds} rounds  model: {settings.model}")
    print(f"{'path':<10}{'wall s':>10}{'RTF':>10}{'WER':>10}")
    for way in ("direct", "server"):
        print(f"{way:<10}{times[way]:>10.2f}{times[way] / total_audio:>10.4f}{wer(references, texts[way]):>10.3f}")
    print(f"server / direct time ratio: {times['server'] / times['direct']:.3f}")
    print(f"peak RSS (both, one process): {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
