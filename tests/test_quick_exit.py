"""A process that ran only dataset items exits without freeing its objects one by one.

Python frees what a run made, object by object, as the process ends; the plugin freezes
the objects instead (``gc.freeze()``) where every pytest session of the process ran
only its items, and leaves a process that ran the user's tests as it is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_files
from helpers import intents, jsonl

from pytest_finetune import quick_exit

#: A conftest whose exit handler runs after the plugin's (registered before it) and
#: says whether the objects were frozen.
SAYS_IF_FROZEN = """
import atexit, gc
atexit.register(lambda: print(f"frozen: {gc.get_freeze_count() > 0}"))
"""


def run_in_a_process(folder: Path, *args: str) -> str:
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout.splitlines()[-1]


def test_a_run_of_only_datasets_leaves_its_objects_to_the_system(tmp_path):
    write_files(tmp_path, {"conftest.py": SAYS_IF_FROZEN, "data/train.jsonl": jsonl(*intents(30))})
    assert run_in_a_process(tmp_path, "data") == "frozen: True"


def test_a_run_with_the_users_tests_exits_as_python_does(tmp_path):
    files = {
        "conftest.py": SAYS_IF_FROZEN,
        "data/train.jsonl": jsonl(*intents(30)),
        "test_model.py": "def test_it():\n    assert True\n",
    }
    write_files(tmp_path, files)
    assert run_in_a_process(tmp_path) == "frozen: False"


def test_the_controller_of_a_distributed_run_of_the_users_tests_exits_as_python_does(tmp_path):
    # A pytest-xdist controller runs no item itself (its session has none) but the
    # user's hooks, which see the workers' reports of the user's tests, run in it.
    files = {
        "conftest.py": SAYS_IF_FROZEN,
        "data/train.jsonl": jsonl(*intents(30)),
        "test_model.py": "def test_it():\n    assert True\n",
    }
    write_files(tmp_path, files)
    assert run_in_a_process(tmp_path, "-n", "2") == "frozen: False"


@pytest.mark.parametrize(
    ("sessions", "frozen"),
    [([True], True), ([True, True], True), ([True, False], False), ([False, True], False)],
)
def test_every_session_of_the_process_must_have_run_only_datasets(monkeypatch, sessions, frozen):
    # (A pytest run in-process, from a program or a test, is a session among others.)
    handlers = []
    monkeypatch.setattr(quick_exit, "_SESSIONS", quick_exit._Sessions())
    monkeypatch.setattr(quick_exit.atexit, "register", handlers.append)
    freezes = []
    monkeypatch.setattr(quick_exit.gc, "freeze", lambda: freezes.append(True))
    for only_datasets in sessions:
        quick_exit.session_ran(only_datasets)
    assert len(handlers) == 1  # one handler, whatever the sessions
    handlers[0]()
    assert freezes == ([True] if frozen else [])
