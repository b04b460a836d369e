"""Fingerprint logs group equal examples, in file order, without keeping their text."""

from __future__ import annotations

from pytest_finetune.fingerprints import Fingerprints, fingerprint


def test_groups_are_the_keys_seen_more_than_once_in_file_order():
    log = Fingerprints()
    for line, (key, value) in enumerate(
        [("a", "x"), ("b", "y"), ("a", "z"), ("c", "y"), ("a", "x")], 1
    ):
        log.add(fingerprint(key), line, fingerprint(value))
    [group] = list(log.groups())
    assert group.lines == [1, 3, 5]
    assert group.values == [fingerprint("x"), fingerprint("z"), fingerprint("x")]


def test_no_groups_without_repeats():
    log = Fingerprints()
    log.add(fingerprint("a"), 1)
    assert list(log.groups()) == []
    assert list(Fingerprints().groups()) == []


def test_frozen_json_fingerprints_equal_for_equal_values():
    assert fingerprint((("content", "hi"), ("role", "user"))) == fingerprint(
        (("content", "hi"), ("role", "user"))
    )
