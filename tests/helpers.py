"""Data builders the tests share."""

from __future__ import annotations

import concurrent.futures.process
import json
import multiprocessing.connection
import os
import signal
import struct
import subprocess
import sys
import time
from typing import Any

#: A Python file among a run's paths, so that ``-n`` starts pytest-xdist's workers (on
#: datasets alone, the plugin's own processes scan instead: see ``datasets_alone``).
XDIST_WORKERS = {"conftest.py": "# pytest's collection, and so xdist's workers, are needed\n"}


def jsonl(*records: Any) -> str:
    """Records as JSON Lines text."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def pc(prompt: str, completion: str) -> dict[str, str]:
    return {"prompt": prompt, "completion": completion}


_OPENINGS = ["Where is", "Please check", "Why was I charged for", "Can you cancel", "Help with"]
_SUBJECTS = ["my parcel", "order", "the invoice", "my subscription", "the delivery address"]


def intents(count: int) -> list[dict[str, str]]:
    """``count`` clean prompt/completion examples of a three-class intent dataset.

    Clean by every check: prompts that start differently and end with `` ->``,
    labels with a leading space and a ``\n`` stop.
    """
    labels = [" shipping", " billing", " account"]
    return [
        pc(
            f"{_OPENINGS[i % 5]} {_SUBJECTS[i // 5 % 5]} (ticket {i}) ->",
            labels[i % 3] + "\n",
        )
        for i in range(count)
    ]


def die_when_half_sent() -> None:
    """Make this process (one of a pool's) die, as out of memory, half through sending.

    Its next result is sent in part: the pool's thread reads it and waits for the rest.
    """

    def send_half(connection: multiprocessing.connection.Connection, buffer: bytes) -> None:
        connection._send(struct.pack("!i", 2 * len(buffer)))  # type: ignore[attr-defined]
        connection._send(bytes(buffer))  # type: ignore[attr-defined]
        os.kill(os.getpid(), signal.SIGKILL)

    multiprocessing.connection.Connection._send_bytes = send_half  # type: ignore[method-assign]


def assert_pool_threads_end(seconds: float = 30) -> None:
    """Every process pool's thread ends (one left would keep this process from exiting)."""
    deadline = time.monotonic() + seconds
    while any(thread.is_alive() for thread in list(concurrent.futures.process._threads_wakeups)):
        assert time.monotonic() < deadline, "a process pool's thread would keep this process alive"
        time.sleep(0.05)


def run_python(code: str, *args: str) -> tuple[int, str]:
    """Run ``code`` in a Python process of its own: its exit status and what it printed.

    For what may crash the process (a C function reading what Python changed under it).
    """
    ran = subprocess.run(
        [sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, timeout=60
    )
    if ran.returncode:
        print(ran.stderr, file=sys.stderr)  # shown with the test's failure
    return ran.returncode, ran.stdout
