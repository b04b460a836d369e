"""Time exact token totals against tiktoken's own loop over the same texts.

    python benchmarks/tokens.py                  # 200,000 multilingual chat rows
    python benchmarks/tokens.py --rows 50000 --kind prompt_completion

The file comes from ``generate.py`` (multilingual text, tools, long tails) under
``benchmarks/data/``. Three measurements, each in its own process with the tokenizer
loaded before the clock starts, fastest of ``--repeat``:

- ``tiktoken``: ``encode_ordinary`` over every text the service counts, in one loop on
  one core, the texts read beforehand (the floor for counting them);
- ``one core``: ``lint()`` with the token checks only (FT6) and every example counted
  (``exact-tokens-max-bytes`` past the file), the process pinned to one core;
- ``every core``: the same with the file cut into chunks, one process a core
  (``chunks.scan_file``, as a pytest run with ``jobs = auto`` scans it; ``lint()``
  scans in its own process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = {"chat": "gpt-4o-mini", "prompt_completion": "babbage-002"}


def dataset(kind: str, rows: int) -> Path:
    """The benchmark file, written once."""
    path = HERE / "data" / f"tokens-{kind}-{rows}.jsonl"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import generate

        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in generate.rows(kind, rows, seed=42))
    return path


def measure(mode: str, path: Path, kind: str) -> float:
    """Seconds of one measurement, in this process."""
    from pytest_finetune import Settings, chunks, lint, token_counting
    from pytest_finetune.formats import Record, detect
    from pytest_finetune.lint import plan

    # Loaded before the clock starts, for the lint as for the loop: what is timed is
    # the counting, and the reading the lint does for it.
    shared: dict[str, object] = {}
    name = "o200k_base" if kind == "chat" else "cl100k_base"
    encoding = token_counting.tiktoken_encoding(name, shared)
    if encoding is None:
        raise SystemExit("tiktoken's encoding files are not available (TIKTOKEN_CACHE_DIR)")
    if mode == "tiktoken":
        import orjson

        texts: list[str] = []

        class Collect:  # a counter that keeps the texts, to count them afterwards
            exact = True

            def __call__(self, text: str) -> int:
                texts.append(text)
                return 0

        counter = token_counting.ExampleCounter(Collect(), "o200k_base")
        with path.open("rb") as stream:
            for line, raw in enumerate(stream, 1):
                try:
                    data = orjson.loads(raw)
                except orjson.JSONDecodeError:  # a lone surrogate, which orjson refuses
                    data = json.loads(raw)
                counter(Record(line, raw, data, detect(data)))
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        encode = encoding.encode_ordinary
        start = time.perf_counter()
        for text in texts:
            encode(text)
        return time.perf_counter() - start
    if mode == "one-core":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = Settings(
        overrides={
            "select": ["FT6"],
            "model": MODEL[kind],
            "exact-tokens-max-bytes": path.stat().st_size + 1,
        }
    )
    start = time.perf_counter()
    if mode == "every-core":
        fmt, file_settings = plan(path, settings)
        jobs = len(os.sched_getaffinity(0))
        result = chunks.scan_file(path, path.name, fmt, file_settings, shared, jobs=jobs)
    else:
        result = lint(path, settings, shared=shared)
    elapsed = time.perf_counter() - start
    assert result.stats.tokens is not None and result.stats.tokens["exact"]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--kind", choices=sorted(MODEL), default="chat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.kind)))
        return
    path = dataset(args.kind, args.rows)
    cores = len(os.sched_getaffinity(0))
    print(f"{path.name}: {path.stat().st_size / 1e6:,.0f} MB, {cores} cores")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for mode in ("tiktoken", "one-core", "every-core"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--measure",
                    mode,
                    "--file",
                    str(path),
                    "--kind",
                    args.kind,
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            best[mode] = min(best.get(mode, float("inf")), json.loads(out))
    print(f"tiktoken's loop, one core   {best['tiktoken']:7.2f} s")
    print(
        f"lint FT6, one core          {best['one-core']:7.2f} s  "
        f"{best['one-core'] / best['tiktoken']:.2f}x tiktoken's loop"
    )
    print(
        f"lint FT6, every core        {best['every-core']:7.2f} s  "
        f"{best['one-core'] / best['every-core']:.2f}x faster than one core"
    )


if __name__ == "__main__":
    main()
