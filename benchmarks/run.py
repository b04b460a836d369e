"""Time the lint of large files against plain parsing, on multilingual and ASCII text.

    python benchmarks/run.py                       # every figure of benchmarks/README.md
    python benchmarks/run.py --rows 100000 --chat-rows 20000 --family-rows 50000  # quicker
    python benchmarks/run.py --only files --modes orjson,lint --texts multilingual

Files are written once under ``benchmarks/data/`` (by ``generate.py``; ignored by git):
prompt/completion (``--rows``) and chat (``--chat-rows``) data with multilingual text,
and the same files made ASCII (every non-ASCII character replaced by ``x``).

Each file measurement runs in its own process, so that its peak memory (max RSS) is its
own; every mode runs ``--repeat`` times, interleaved, and the fastest run counts (the
machine's noise only ever adds time). The ratios to orjson compare runs of the same
file in this one invocation, in wall time and in CPU time (on a machine others share,
CPU time is the steadier of the two). Then, per family, what its default checks add to the file
checks (FT0) on multilingual text and on the same text made ASCII: CPU time of
``lint()`` in one process, the tokenizer loaded beforehand, fastest of ``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODES = {
    "orjson": "parse every line with orjson, nothing else",
    "floor": "parse, hash and one C-level pass over each line: the least every check needs",
    "lint-engine": "pytest-finetune, the default file and syntax checks (FT0)",
    "lint": "pytest-finetune, the default checks (all but the opt-in FT010)",
    "lint-python": "the same in pure Python (PYTEST_FINETUNE_NO_EXTENSIONS: no C pass)",
    "lint-all": "pytest-finetune, every check (select = ALL)",
    "lint-2cores": "pytest-finetune, the default checks, the file in 2 processes (jobs = 2)",
    "tokens": "pytest-finetune, the token checks (FT6) counting every example exactly",
    "tokens-2cores": "the same in 2 processes (jobs = 2)",
    "legacy": "pandas.read_json(lines=True) + the legacy validators",
}
DEFAULT_MODES = "orjson,floor,lint-engine,lint,lint-python,lint-all"
TEXTS = ("multilingual", "ascii")
FAMILIES = ("FT1", "FT2", "FT3", "FT4", "FT5", "FT6")


def parse_lines(path: Path) -> None:
    """Parse each line of ``path`` as an orjson user would."""
    import json as stdlib_json

    import orjson

    with path.open("rb") as stream:
        for line in stream:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                # orjson refuses lone surrogates (a few records per thousand here),
                # which the JSON grammar allows: what anyone would do.
                stdlib_json.loads(line)


def measure(mode: str, path: Path) -> dict[str, float]:
    """Run one mode in this process; return seconds (wall and CPU) and peak RSS in MiB."""
    start = time.perf_counter()
    cpu = time.process_time()
    if mode == "orjson":
        parse_lines(path)
    elif mode == "floor":
        # What no implementation in Python can skip with every check on: parse the
        # record, fingerprint its bytes (duplicates, conflicts, leakage) and pass over
        # them once in C (the content screen); here without any check's logic.
        import orjson

        identity = bytes(range(256))
        with path.open("rb") as stream:
            for line in stream:
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    json.loads(line)
                hash(line)
                line.translate(identity)
    elif mode.startswith(("lint", "tokens")):
        from pytest_finetune import Settings, chunks, pools
        from pytest_finetune.lint import plan

        overrides: dict[str, Any] = {"jobs": 2 if mode.endswith("-2cores") else 1}
        if mode == "lint-engine":
            overrides["select"] = file_checks()
        elif mode == "lint-all":
            overrides["select"] = ["ALL"]
        elif mode.startswith("tokens"):
            overrides["select"] = ["FT6"]
            overrides["exact-tokens-max-bytes"] = path.stat().st_size
        fmt, settings = plan(path, Settings(overrides=overrides))
        jobs = pools.jobs_of(settings)
        result = chunks.scan_file(path, path.name, fmt, settings, jobs=jobs)
        assert result.stats.examples > 0
    elif mode == "legacy":
        sys.path.insert(0, str(HERE))
        from legacy import prepare

        prepare(path)
    seconds = time.perf_counter() - start
    # The processes a file's chunks ran in count too: their CPU, and the largest.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + children.ru_utime + children.ru_stime
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss) / 1024
    return {"seconds": seconds, "cpu": cpu, "peak_mib": peak}


def file_checks() -> list[str]:
    """The codes of the default file and syntax checks (FT0)."""
    from pytest_finetune import REGISTRY, Family

    return [c.code for c in REGISTRY.values() if c.family() is Family.FILE and c.default]


def families(paths: list[Path], repeat: int) -> dict[str, dict[str, float]]:
    """CPU seconds of the file checks alone, and with each family's default checks."""
    from pytest_finetune import REGISTRY, Settings
    from pytest_finetune.lint import lint

    base = file_checks()
    selections = {"FT0": base}
    for family in FAMILIES:
        codes = [c.code for c in REGISTRY.values() if c.code.startswith(family) and c.default]
        selections[family] = base + codes
    shared: dict[str, Any] = {}
    lint(paths[0], Settings(), shared=shared)  # load the tokenizer once, beforehand
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeat):
        for path in paths:
            for name, codes in selections.items():
                start = time.process_time()
                lint(path, Settings(overrides={"select": codes}), shared=shared)
                seconds = time.process_time() - start
                found = best.setdefault(path.name, {})
                found[name] = min(seconds, found.get(name, seconds))
    return best


def dataset(kind: str, rows: int, text: str) -> Path:
    """The benchmark file of ``kind``, written on first use."""
    path = HERE / "data" / f"{kind}_{text}_{rows}.jsonl"
    if not path.exists():
        command = [sys.executable, str(HERE / "generate.py"), kind, str(rows), str(path)]
        subprocess.run([*command, "--text", text], check=True)
    return path


def run_files(paths: list[Path], modes: list[str], repeat: int) -> None:
    for path in paths:
        size = path.stat().st_size
        chosen = [m for m in modes if not (m == "legacy" and "prompt_completion" not in path.name)]
        results: dict[str, dict[str, float]] = {}
        for attempt in range(repeat):
            for mode in chosen:
                if mode == "legacy" and attempt:
                    continue
                env = dict(os.environ)
                if mode == "lint-python":
                    env["PYTEST_FINETUNE_NO_EXTENSIONS"] = "1"
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", mode, "--file", str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                )
                run = json.loads(out.stdout.strip().splitlines()[-1])
                best = results.get(mode)
                if best is None or run["seconds"] < best["seconds"]:
                    results[mode] = run
        print(f"\n{path.name}: {size / 1e6:,.0f} MB")
        base = results.get("orjson")
        print(f"  {'mode':<12} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6} {'peak':>9}")
        for mode, r in results.items():
            wall = f"{r['seconds'] / base['seconds']:5.2f}x" if base else ""
            cpu = f"{r['cpu'] / base['cpu']:5.2f}x" if base else ""
            print(
                f"  {mode:<12} {r['seconds']:6.2f} s {wall} {r['cpu']:6.2f} s {cpu} "
                f"{r['peak_mib']:5.0f} MiB  {size / 1e6 / r['seconds']:5.0f} MB/s  {MODES[mode]}"
            )


def run_families(kind: str, rows: int, repeat: int) -> None:
    paths = [dataset(kind, rows, text) for text in TEXTS]
    out = subprocess.run(
        [sys.executable, __file__, "--families", *map(str, paths), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    best = json.loads(out.stdout.strip().splitlines()[-1])
    multilingual, ascii_ = (best[path.name] for path in paths)
    print(f"\nPer family, {kind} ({rows:,} rows): CPU seconds added to the file checks (FT0)")
    print(f"  {'':<6} {'multilingual':>12} {'ASCII':>8} {'ratio':>7}")
    print(f"  {'FT0':<6} {multilingual['FT0']:12.2f} {ascii_['FT0']:8.2f} (the file checks alone)")
    for family in FAMILIES:
        more = multilingual[family] - multilingual["FT0"]
        less = ascii_[family] - ascii_["FT0"]
        ratio = f"{more / less:6.2f}x" if less > 0.05 else "     -"
        print(f"  {family:<6} {more:12.2f} {less:8.2f} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="prompt/completion rows")
    parser.add_argument("--chat-rows", type=int, default=200_000)
    parser.add_argument("--family-rows", type=int, default=200_000)
    parser.add_argument("--texts", default=",".join(TEXTS), help="multilingual, ascii or both")
    parser.add_argument("--modes", default=DEFAULT_MODES, help=f"a subset of {','.join(MODES)}")
    parser.add_argument("--only", choices=["files", "families"])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode (legacy: 1)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--families", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file)))
        return
    if args.families:
        print(json.dumps(families(args.families, args.repeat)))
        return
    print(f"Python {sys.version.split()[0]}, fastest of {args.repeat}")
    texts = args.texts.split(",")
    if args.only != "families":
        paths = [dataset("prompt_completion", args.rows, text) for text in texts]
        paths += [dataset("chat", args.chat_rows, text) for text in texts]
        run_files(paths, args.modes.split(","), args.repeat)
    if args.only != "files":
        run_families("prompt_completion", args.family_rows, args.repeat)
        run_families("chat", args.family_rows // 2, args.repeat)


if __name__ == "__main__":
    main()
