"""The pools of processes that scan: how many, how they start, how they stop.

Both ways of spreading scans over cores share them: a large file's chunks
(:mod:`.chunks`) and the small files scanned ahead (:mod:`.lookahead`). Processes are
forked where that is safe, so that they start in milliseconds with what this process
loaded (a tokenizer); a pool that loses a process (killed out of memory) is noticed by
whoever waits on it, and stopped where it is.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_finetune.config import FileSettings

#: The modules whose functions the processes run: a server loads them once, not each
#: process.
_SCANNING = ("pytest_finetune.chunks", "pytest_finetune.lookahead")


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def jobs_of(settings: FileSettings) -> int:
    """The processes the configuration's ``jobs`` gives a file's scan (``auto``: the cores)."""
    jobs = settings.config.get("jobs", "auto")
    return usable_cores() if jobs == "auto" else int(jobs)


#: Whether a file may be read by several processes here: on Linux, where processes are
#: forked; elsewhere (macOS, Windows, where fork is unsafe or missing) by one.
CAN_FORK = sys.platform == "linux"


def context() -> tuple[Any, bool]:
    """How processes that scan start, and whether they are forked from this one.

    Forked, a process starts in milliseconds with all this one loaded (a tokenizer),
    and may be given its ``shared`` cache; from a server (see :func:`from_server`), it
    loads what it needs again, and is given nothing that cannot be pickled.
    """
    served = from_server()
    context = multiprocessing.get_context("forkserver" if served else "fork")
    if served:
        context.set_forkserver_preload(list(_SCANNING))
    return context, not served


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool``'s processes now, where they are, rather than when their work ends."""
    processes = _processes(pool)
    # (Taken before shutdown, which lets go of it.)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
    # A result half sent (a process killed while it sent it) holds the pool's thread in
    # a read that only the end of the pipe ends, and this process holds the last copy
    # of the pipe's writing end once the processes are gone: closed, the read ends, and
    # so does the thread (which this process would otherwise wait for at its exit).
    if writer is not None:
        writer.close()


def lost_a_process(pool: ProcessPoolExecutor) -> bool:
    """Whether one of ``pool``'s processes died (killed out of memory?) as it ran.

    The pool notices such a death itself, but not one while a process sent a result:
    it waits for the rest of that result for ever. Whoever waits on the pool asks this
    between waits.
    """
    return any(process.exitcode is not None for process in _processes(pool))


def _processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    return list((getattr(pool, "_processes", None) or {}).values())


def from_server() -> bool:
    """Whether the processes that scan start from a clean server process, not this one.

    A process with threads (a pytest-xdist worker has execnet's) may be forked with a
    lock another thread holds. Python 3.12 warns of it (an error under ``-W error``), so
    there the processes start from a server and load what they need again. Before 3.12,
    forking is what ``multiprocessing`` itself does by default in that case, silently,
    and what the processes that scan run takes none of those threads' locks.
    """
    return sys.version_info >= (3, 12) and threading.active_count() > 1
