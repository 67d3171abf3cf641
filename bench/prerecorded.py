"""Prerecorded benchmark: the server through the official SDK vs faster-whisper called directly.

All run in this process, on the same audio (real speech from ../shared/eval-public), the same model, beam
and word timestamps: (a) the server via the SDK, (b) faster-whisper's sequential ``transcribe``, (c) its
``BatchedInferencePipeline`` with batch 8; each file goes through all three, rotating which goes first.
Prints the wall times, ratios against (b) and (c), real-time factors, WER against the references and the
process's peak RSS. Then the whole set as 4 concurrent SDK requests against the same 4 one after another.

    .venv/bin/python bench/prerecorded.py [--set pub_read --set pub_long] [--rounds 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures
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
        vad_filter=True,
        word_timestamps=True,
        condition_on_previous_text=False,
    )
    return " ".join(s.text.strip() for s in segments)


def batched(pipeline: object, path: Path, options: RecognitionOptions) -> str:
    """faster-whisper's batched pipeline on the file, batch 8, with the same settings."""
    segments, _ = pipeline.transcribe(  # type: ignore[attr-defined]
        str(path), language=options.language, beam_size=options.beam_size, word_timestamps=True, batch_size=8
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
    ways = ("server", "sequential", "batched")

    settings = Settings(api_keys=[KEY])
    server, stop = serve_in_thread(settings)
    try:
        with httpx.Client(timeout=600, limits=httpx.Limits(max_connections=8)) as pool:
            client = DeepgramClient(api_key=KEY, environment=server.environment(), httpx_client=pool, max_retries=0)

            def via_server(path: Path) -> str:
                response = client.listen.v1.media.transcribe_file(
                    request=path.read_bytes(), model="nova-3", smart_format=True
                )
                return response.results.channels[0].alternatives[0].transcript

            via_server(Path(entries[0]["path"]))  # type: ignore[arg-type]
            from faster_whisper import BatchedInferencePipeline

            from openlisten.engine.models import ModelManager

            models = ModelManager(settings)
            model = models.load(models.resolve("nova-3"))
            pipeline = BatchedInferencePipeline(model)
            options = RecognitionOptions(language="en", beam_size=settings.beam_size)
            run = {
                "server": via_server,
                "sequential": lambda path: direct(model, path, options),
                "batched": lambda path: batched(pipeline, path, options),
            }
            times = dict.fromkeys(ways, 0.0)
            texts: dict[str, list[str]] = {way: [] for way in ways}
            for round_index in range(args.rounds):
                for index, entry in enumerate(entries):
                    path = Path(entry["path"])  # type: ignore[arg-type]
                    shift = (index + round_index) % len(ways)
                    for way in ways[shift:] + ways[:shift]:
                        started = time.perf_counter()
                        text = run[way](path)
                        times[way] += time.perf_counter() - started
                        if round_index == 0:
                            texts[way].append(text)
            paths = [Path(e["path"]) for e in entries]  # type: ignore[arg-type]
            started = time.perf_counter()
            for part in range(4):
                for path in paths[part::4]:
                    via_server(path)
            serial_s = time.perf_counter() - started
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(4) as executor:
                list(executor.map(lambda part: [via_server(path) for path in paths[part::4]], range(4)))
            concurrent_s = time.perf_counter() - started
    finally:
        stop()

    references = [str(e["text"]) for e in entries]
    total_audio = audio_s * args.rounds
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files: {len(entries)}  audio: {audio_s:.1f} s x {args.rounds} rounds  model: {settings.model}")
    print(f"{'path':<12}{'wall s':>10}{'RTF':>10}{'WER':>10}{'/ seq':>10}{'/ batched':>10}")
    for way in ways:
        print(
            f"{way:<12}{times[way]:>10.2f}{times[way] / total_audio:>10.4f}{wer(references, texts[way]):>10.3f}"
            f"{times[way] / times['sequential']:>10.3f}{times[way] / times['batched']:>10.3f}"
        )
    print(
        f"4 concurrent SDK clients: {concurrent_s:.2f} s; the same one after another: {serial_s:.2f} s; "
        f"ratio {concurrent_s / serial_s:.3f}"
    )
    print(f"peak RSS (all paths, one process): {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
