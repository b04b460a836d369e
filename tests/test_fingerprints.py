"""Fingerprint logs group equal examples, in file order, without keeping their text.

Fingerprints are the same in every process and on every machine, so that the logs of a
file scanned in parts, or a training file's fingerprints read by its validation file's
checks elsewhere, can be compared.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from array import array
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
import pytest

from pytest_finetune import Settings, fingerprints
from pytest_finetune.fingerprints import Fingerprints, fingerprint
from pytest_finetune.formats import Record, detect, example_key, freeze
from pytest_finetune.lint import lint


@pytest.fixture(params=["counted", "sorted"])
def grouped(request, monkeypatch):
    """Each way a log is grouped: counted in Python (small logs), sorted with NumPy."""
    monkeypatch.setattr(fingerprints, "NUMPY_FROM", 10**9 if request.param == "counted" else 0)


@pytest.mark.usefixtures("grouped")
def test_groups_are_the_keys_seen_more_than_once_in_file_order():
    log = Fingerprints()
    for line, (key, value) in enumerate(
        [("a", "x"), ("b", "y"), ("a", "z"), ("c", "y"), ("a", "x")], 1
    ):
        log.add(fingerprint(key), line, fingerprint(value))
    [group] = list(log.groups())
    assert group.lines == [1, 3, 5]
    assert group.values == [fingerprint("x"), fingerprint("z"), fingerprint("x")]


@pytest.mark.usefixtures("grouped")
def test_groups_next_to_each_other_by_key_are_told_apart():
    """Random keys, some repeated two or more times, logged in any order of lines."""
    rng = random.Random(3)
    keys = [rng.choice([rng.getrandbits(63), *range(-3, 4)]) for _ in range(3000)]
    lines = rng.sample(range(1, 10_000), len(keys))
    log = Fingerprints()
    expected: dict[int, list[tuple[int, int]]] = {}
    for key, line in zip(keys, lines, strict=True):
        log.add(key, line, value=line * 7)
        expected.setdefault(key, []).append((line, line * 7))
    groups = sorted((group.lines, group.values) for group in log.groups())
    wanted = sorted(
        ([line for line, _ in sorted(entries)], [value for _, value in sorted(entries)])
        for entries in expected.values()
        if len(entries) > 1
    )
    assert groups == wanted
    assert len(wanted) > 5  # groups of neighbouring keys (-3 to 3), and of random ones
    # In the order of their keys, whichever way they were found.
    assert [group.lines for group in log.groups()] == [
        [line for line, _ in sorted(expected[key])]
        for key in sorted(key for key, entries in expected.items() if len(entries) > 1)
    ]


def test_a_small_file_is_linted_without_importing_numpy(tmp_path):
    """Importing NumPy costs a run 0.15-0.2 s: only large logs and samples need it."""
    path = tmp_path / "train.jsonl"
    lines = [
        f'{{"prompt": "Où est ma commande {n} ? ->", "completion": " livrée\\n"}}\n'
        for n in range(50)
    ]
    path.write_text("".join([*lines, lines[7]]), encoding="utf-8")
    probe = (
        "import sys; from pytest_finetune import Settings; from pytest_finetune.lint import lint\n"
        f"duplicates = lint({str(path)!r}, Settings()).outcomes['FT401'].findings\n"
        "print([finding.line for finding in duplicates], 'numpy' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found == "[51] False\n"  # the repeat is found, and NumPy was not imported


@pytest.mark.usefixtures("grouped")
def test_no_groups_without_repeats():
    log = Fingerprints()
    log.add(fingerprint("a"), 1)
    assert list(log.groups()) == []
    assert list(Fingerprints().groups()) == []


def test_frozen_json_fingerprints_equal_for_equal_values_key_order_aside():
    assert fingerprint(freeze({"role": "user", "content": "hi"})) == fingerprint(
        freeze({"content": "hi", "role": "user"})
    )
    assert fingerprint(freeze({"role": "user", "content": "hi"})) != fingerprint(
        freeze({"role": "user", "content": "hi!"})
    )


def test_fingerprints_fit_the_signed_64_bit_logs():
    texts = ["", "a", "é", "\ud83d", "👋" * 1000, *(str(n) for n in range(1000))]
    found = {fingerprint(text) for text in texts}
    assert len(found) == len(texts)
    assert all(-(2**63) <= value < 2**63 for value in found)
    assert min(found) < 0 < max(found)


#: One example of each format as one process writes it, and as another writes it
#: (keys in another order, where the format has keys to reorder).
EXAMPLES = {
    "prompt/completion": (
        {"prompt": "Où est mon colis ? \ud83d ->", "completion": " livraison\n"},
        {"completion": " livraison\n", "prompt": "Où est mon colis ? \ud83d ->"},
    ),
    "chat": (
        {
            "messages": [
                {"role": "system", "content": "Вы — служба поддержки."},
                {"role": "user", "content": "Где мой заказ? 📦"},
                {"role": "assistant", "content": "Уже в пути.", "weight": 1},
            ],
            "tools": [{"type": "function", "function": {"name": "track", "parameters": {}}}],
        },
        {
            "tools": [{"function": {"parameters": {}, "name": "track"}, "type": "function"}],
            "messages": [
                {"content": "Вы — служба поддержки.", "role": "system"},
                {"content": "Где мой заказ? 📦", "role": "user"},
                {"weight": 1, "content": "Уже в пути.", "role": "assistant"},
            ],
        },
    ),
    "preference": (
        {
            "input": {"messages": [{"role": "user", "content": "荷物はどこですか"}]},
            "preferred_output": [{"role": "assistant", "content": "配送中です。"}],
            "non_preferred_output": [{"role": "assistant", "content": "知りません。"}],
        },
        {
            "non_preferred_output": [{"content": "知りません。", "role": "assistant"}],
            "preferred_output": [{"content": "配送中です。", "role": "assistant"}],
            "input": {"messages": [{"content": "荷物はどこですか", "role": "user"}]},
        },
    ),
}


def logged(path: Path) -> dict[str, list[list[int]]]:
    """What the checks keep of each example of ``path``: the log of the duplicate and
    conflict checks (FT401, FT402), and the keys of the leakage checks (FT510, FT511).
    """
    log: list[list[int]] = []
    add, add_all, add_packed = Fingerprints.add, Fingerprints.add_all, Fingerprints.add_packed

    def spy(self: Fingerprints, key: int, line: int, value: int = 0) -> None:
        log.append([key, line, value])
        add(self, key, line, value)

    def spy_all(self: Fingerprints, keys: Any, lines: Any, values: Any) -> None:
        keys, lines, values = list(keys), list(lines), list(values)
        log.extend(map(list, zip(keys, lines, values, strict=True)))
        add_all(self, keys, lines, values)

    def spy_packed(self: Fingerprints, keys: bytes, lines: Any, values: bytes) -> None:
        spy_all(self, array("q", keys), lines, array("q", values))

    # (Patched on the class, not with monkeypatch: also in a plain subprocess.)
    Fingerprints.add, Fingerprints.add_all = spy, spy_all  # type: ignore[method-assign]
    Fingerprints.add_packed = spy_packed  # type: ignore[method-assign]
    try:
        lint(path, Settings(overrides={"select": ["FT401", "FT402"]}))
    finally:
        Fingerprints.add, Fingerprints.add_all = add, add_all  # type: ignore[method-assign]
        Fingerprints.add_packed = add_packed  # type: ignore[method-assign]
    log.sort(key=itemgetter(1))  # in file order, however batches were logged
    leakage = []
    for line, raw in enumerate(path.read_bytes().splitlines(), 1):
        data = json.loads(raw)  # orjson refuses the lone surrogate
        keys = example_key(Record(line, raw, data, detect(data)))
        assert keys is not None
        leakage.append(list(keys))
    return {"duplicates": log, "leakage": leakage}


#: Run in another process: the salt of its str hash, and what the checks log of a file.
PROBE = """
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"hash": hash("salt"), "logged": module.logged(Path(sys.argv[2]))}))
"""


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_fingerprints_are_the_same_in_a_process_with_another_hash_seed(tmp_path, kind):
    here, there = tmp_path / "here.jsonl", tmp_path / "there.jsonl"
    ours, theirs = EXAMPLES[kind]
    here.write_text(json.dumps(ours) + "\n")
    there.write_text(json.dumps(theirs) + "\n")
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, __file__, str(there)],
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(probe.stdout)
    assert found["hash"] != hash("salt")  # Python's hash() would differ there
    mine = logged(here)
    assert mine["duplicates"] and mine["leakage"]
    assert found["logged"] == mine


def test_the_duplicate_log_holds_the_fingerprints_of_prompt_and_completion(tmp_path):
    examples = [("Où est mon colis ? ->", " livraison\n"), ("Lone \ud83d ->", " other\n")]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in examples))
    assert logged(path)["duplicates"] == [
        [fingerprint(prompt), line, fingerprint(completion)]
        for line, (prompt, completion) in enumerate(examples, 1)
    ]


def test_the_leakage_keys_ignore_surrounding_whitespace_and_key_order():
    def keys(data: dict[str, object]) -> tuple[int, int] | None:
        return example_key(Record(1, orjson.dumps(data), data, detect(data)))

    chat, reordered = EXAMPLES["chat"]
    assert keys(chat) == keys(reordered)
    assert keys({"prompt": " Hi ->", "completion": " there\n"}) == keys(
        {"prompt": "Hi ->", "completion": " there"}
    )
    assert keys({"prompt": "Hi ->", "completion": " there"}) != keys(
        {"prompt": "Hi ->", "completion": " where"}
    )
