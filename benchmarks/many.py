"""Time pytest on folders of many small datasets, in one process and with pytest-xdist.

    python benchmarks/many.py                          # the figures of benchmarks/README.md
    python benchmarks/many.py --files 2000 --rows 20 --modes pytest,pytest-n2 --repeat 3

The folders are written once under ``benchmarks/data/`` (ignored by git): ``--files``
files of ``--rows`` multilingual prompt/completion records each, cut in order from
``generate.py``'s stream (so a few files hold a rare problem and fail). Each mode runs
in a process of its own, ``--repeat`` times interleaved with the others, and the fastest
run counts; the ratios compare runs of this one invocation (on a machine others share,
only those are worth comparing). CPU time is the process's and its children's (xdist's
workers); peak memory is the largest of those processes; speed is the plain ``pytest``
run's wall time over the mode's; lines are what the mode printed.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import rows  # noqa: E402  (beside this script)

#: What each mode runs on the folder.
MODES = {
    "pytest-1core": ["pytest", "-q", "--finetune-jobs", "1"],
    "pytest": ["pytest", "-q"],
    "pytest-n2": ["pytest", "-q", "-n", "2"],
    "per-check": ["pytest", "-q", "-o", "finetune_items=check"],
    "per-check-n2": ["pytest", "-q", "-o", "finetune_items=check", "-n", "2"],
    "k-FT120": ["pytest", "-q", "-k", "FT120"],
    "check-1core": ["pytest-finetune", "check", "--jobs", "1"],
    "check": ["pytest-finetune", "check"],
}
DEFAULT_MODES = "pytest-1core,pytest,pytest-n2,per-check,per-check-n2,check"


def folder(files: int, per_file: int) -> Path:
    """The folder of ``files`` datasets of ``per_file`` records, written on first use."""
    path = HERE / "data" / f"many_{files}x{per_file}"
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        stream = rows("prompt_completion", files * per_file, seed=42)
        for index in range(files):
            lines = "".join(next(stream) + "\n" for _ in range(per_file))
            (partial / f"part_{index:05d}.jsonl").write_text(lines, encoding="utf-8")
        partial.replace(path)
    return path


def measure(mode: str, path: Path) -> dict[str, float]:
    """Run one mode on ``path`` in a child process: seconds, CPU seconds, peak MiB, lines out."""
    program, *options = MODES[mode]
    if program == "pytest":
        command = [sys.executable, "-m", "pytest", *options, "-p", "no:cacheprovider"]
    else:  # the command line's script, beside this Python
        command = [str(Path(sys.executable).with_name(program)), *options]
    command.append(path.name)
    start = time.perf_counter()
    out = subprocess.run(command, cwd=path.parent, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "lines": len(out.stdout.splitlines()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--files", default="2000,20000", help="numbers of files, comma-separated")
    parser.add_argument("--rows", default="20,1", help="records per file, one per --files")
    parser.add_argument("--modes", default=DEFAULT_MODES, help=f"a subset of {','.join(MODES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.folder)))
        return
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, fastest of {args.repeat}")
    for files, per_file in zip(
        map(int, args.files.split(",")), map(int, args.rows.split(",")), strict=True
    ):
        path = folder(files, per_file)
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for mode in args.modes.split(","):
                # A process per run: its children's peak memory is its own.
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", mode, "--folder", str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                run = json.loads(out.stdout.strip().splitlines()[-1])
                if mode not in best or run["seconds"] < best[mode]["seconds"]:
                    best[mode] = run
        base = best.get("pytest")
        print(f"\n{files:,} files of {per_file} records ({path.name})")
        print(f"  {'mode':<13} {'wall':>8} {'speed':>6} {'CPU':>8} {'peak':>9} {'lines':>7}")
        for mode, run in best.items():
            ratio = f"{base['seconds'] / run['seconds']:5.2f}x" if base else ""
            print(
                f"  {mode:<13} {run['seconds']:6.2f} s {ratio} {run['cpu']:6.2f} s "
                f"{run['peak_mib']:5.0f} MiB {run['lines']:7,}  {' '.join(MODES[mode])}"
            )


if __name__ == "__main__":
    main()
