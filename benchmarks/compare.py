"""Compare two trees of pytest-finetune on the same files: seconds, or instructions.

Wall time on a shared machine moves by a fifth from run to run, often more than a
change; so each measurement runs in a process of its own, the two trees interleaved,
fastest of ``--repeat``. ``--instructions`` counts instructions instead, with
``valgrind --tool=callgrind``, which gives the same count whatever the machine does:
one more scan of the file in the same process (the difference between scanning it
twice and once, so that start-up and loading the tokenizer cancel out).

Each tree is named by the Python of its virtual environment, for example a worktree
of the commit before a change with its own ``make .venv/.installed``::

    git worktree add --detach /tmp/before 28fc146 && make -C /tmp/before .venv/.installed
    python benchmarks/compare.py --before /tmp/before/.venv/bin/python --repeat 3
    python benchmarks/compare.py --before /tmp/before/.venv/bin/python --instructions \\
        benchmarks/data/prompt_completion_multilingual_40000.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN = HERE / "run.py"
DEFAULT_FILES = [
    HERE / "data" / "prompt_completion_multilingual_1000000.jsonl",
    HERE / "data" / "chat_multilingual_200000.jsonl",
]
#: One scan more than the warm-up, in the tree's own Python (see the module's doc).
SCAN = """
import importlib, sys
from pathlib import Path
from pytest_finetune import Settings
from pytest_finetune.lint import plan
scan = importlib.import_module("pytest_finetune.scan")
path = Path(sys.argv[1])
fmt, settings = plan(path, Settings(overrides={"jobs": 1}))
shared = {}
for _ in range(1 + int(sys.argv[2])):
    scan.scan(path, path.name, fmt, settings, shared)
"""


def seconds(trees: dict[str, str], files: list[Path], modes: list[str], repeat: int) -> None:
    """Each mode of ``run.py`` on each file, in each tree, interleaved; the fastest."""
    best: dict[tuple[str, str, str], dict[str, float]] = {}
    for _ in range(repeat):
        for path in files:
            for mode in ["orjson", *modes]:
                for tree, python in trees.items() if mode != "orjson" else [("", sys.executable)]:
                    command = [python, str(RUN), "--measure", mode, "--file", str(path)]
                    out = subprocess.run(command, capture_output=True, text=True, check=True)
                    run = json.loads(out.stdout.strip().splitlines()[-1])
                    key = (path.name, mode, tree)
                    if key not in best or run["seconds"] < best[key]["seconds"]:
                        best[key] = run
    for path in files:
        base = best[(path.name, "orjson", "")]
        print(f"\n{path.name}: orjson {base['seconds']:.2f} s")
        for mode in modes:
            for tree in trees:
                run = best[(path.name, mode, tree)]
                print(
                    f"  {mode:<12} {tree:<7} {run['seconds']:6.2f} s "
                    f"{run['seconds'] / base['seconds']:5.2f}x  CPU {run['cpu']:6.2f} s  "
                    f"peak {run['peak_mib']:4.0f} MiB"
                )


def instructions(trees: dict[str, str], files: list[Path]) -> None:
    """Instructions of one scan of each file, in each tree (callgrind's count)."""
    for path in files:
        counts = {}
        for tree, python in trees.items():
            once, twice = (_callgrind(python, path, scans) for scans in (0, 1))
            counts[tree] = twice - once
        before = counts.get("before")
        print(f"\n{path.name}")
        for tree, count in counts.items():
            change = f"  {count / before - 1:+.1%}" if before and tree != "before" else ""
            print(f"  {tree:<7} {count / 1e9:7.2f} billion instructions{change}")


def _callgrind(python: str, path: Path, scans: int) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        python, "-c", SCAN, str(path), str(scans),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"callgrind said no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--before", required=True, help="the Python of the tree before")
    parser.add_argument("--after", default=sys.executable, help="the Python of the tree after")
    parser.add_argument("--modes", default="lint,lint-2cores", help="modes of run.py")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--instructions", action="store_true", help="count instructions")
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    if args.instructions:
        instructions(trees, args.files)
    else:
        seconds(trees, args.files, args.modes.split(","), args.repeat)


if __name__ == "__main__":
    main()
