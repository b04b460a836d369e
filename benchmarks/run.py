"""Time the full lint of a large file against plain parsing and the legacy approach.

    python benchmarks/run.py                      # 1,000,000 prompt/completion rows (~1 GB)
    python benchmarks/run.py --rows 100000        # a quicker look
    python benchmarks/run.py --kind chat --rows 200000

Each measurement runs in its own process, so that its peak memory (max RSS) is its own;
the quick modes run ``--repeat`` times, interleaved, and the fastest run counts (the
machine's noise only ever adds time). Printed: wall time and peak memory of each, and
the ratios the project's targets are stated in (full lint within 2x of orjson-only
parsing, under 200 MiB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = {
    "orjson": "parse every line with orjson, nothing else",
    "floor": "parse, hash and one C-level pass over each line: the least every check needs",
    "lint-engine": "pytest-finetune, the default file and syntax checks (FT0)",
    "lint": "pytest-finetune, the default checks (all but the opt-in FT010)",
    "lint-all": "pytest-finetune, every check (select = ALL)",
    "legacy": "pandas.read_json(lines=True) + the legacy validators",
}


def measure(mode: str, path: Path) -> dict[str, float]:
    """Run one mode in this process; return seconds and peak RSS in MiB."""
    start = time.perf_counter()
    if mode == "orjson":
        import orjson

        with path.open("rb") as stream:
            for line in stream:
                orjson.loads(line)
    elif mode == "floor":
        # What no implementation in Python can skip with every check on: parse the
        # record, fingerprint its bytes (duplicates, conflicts, leakage) and pass over
        # them once in C (the content screen); here without any check's logic.
        import orjson

        identity = bytes(range(256))
        with path.open("rb") as stream:
            for line in stream:
                orjson.loads(line)
                hash(line)
                line.translate(identity)
    elif mode.startswith("lint"):
        from pytest_finetune import REGISTRY, Family, Settings
        from pytest_finetune.lint import lint

        overrides: dict[str, list[str]] = {}
        if mode == "lint-engine":
            file_checks = [c for c in REGISTRY.values() if c.family() is Family.FILE and c.default]
            overrides = {"select": [check.code for check in file_checks]}
        elif mode == "lint-all":
            overrides = {"select": ["ALL"]}
        result = lint(path, Settings(overrides=overrides))
        assert result.stats.examples > 0
    elif mode == "legacy":
        sys.path.insert(0, str(HERE))
        from legacy import prepare

        prepare(path)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--kind", choices=["prompt_completion", "chat"], default="prompt_completion"
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each quick mode (legacy runs once)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file)))
        return
    path = HERE / "data" / f"{args.kind}_{args.rows}.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), args.kind, str(args.rows), str(path)],
            check=True,
        )
    size = path.stat().st_size
    print(f"{path.name}: {args.rows:,} rows, {size / 1e6:,.0f} MB, Python {sys.version.split()[0]}")
    modes = [
        mode
        for mode in args.modes.split(",")
        if not (mode == "legacy" and args.kind != "prompt_completion")
    ]
    results: dict[str, dict[str, float]] = {}
    for attempt in range(args.repeat):
        for mode in modes:
            if mode == "legacy" and attempt:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--measure", mode, "--file", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            best = results.get(mode)
            if best is None or run["seconds"] < best["seconds"]:
                results[mode] = run
    for mode, r in results.items():
        print(
            f"  {mode:<12} {r['seconds']:8.2f} s  {r['peak_mib']:8.0f} MiB peak   "
            f"{size / 1e6 / r['seconds']:6.0f} MB/s   {MODES[mode]}"
        )
    base = results.get("orjson")
    if base:
        for mode, r in results.items():
            if mode != "orjson":
                print(f"  {mode} / orjson: {r['seconds'] / base['seconds']:.2f}x time")


if __name__ == "__main__":
    main()
