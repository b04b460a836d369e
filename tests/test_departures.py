"""The prompt/completion survey visits only the records that may depart from the conventions.

``departures`` picks them from a batch: in Python over whole lists, or in C in one pass
over each record where the extension is built. Both are tested on the same batches,
and against each other on random ones.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from helpers import run_python
from test_extensions import built, native

from pytest_finetune import extensions
from pytest_finetune.checks.prompt_completion.departures import Expected, departures

#: A file whose prompts end with " ->" and completions with a newline, every departure
#: watched.
ARROW = Expected(
    " ->", ">", "\n", "\n", separator_inside=True, stop_inside=True, leading_space=True
)
#: Nothing watched: no separator, no stop, no member that reports a departure.
NOTHING = Expected("", "", "", "", separator_inside=False, stop_inside=False, leading_space=False)


def test_records_that_keep_the_conventions_are_not_visited(implementation):
    prompts = ["Translate: chat ->", "Translate: café ->", "日本語 ->"]
    completions = [" cat\n", " coffee shop\n", " Japanese 🇯🇵\n"]
    assert departures(prompts, completions, ARROW) == []


@pytest.mark.parametrize(
    ("prompt", "completion"),
    [
        ("no separator", " fine\n"),
        ("a -> inside ->", " fine\n"),  # the separator's rare character before its end
        ("fine ->", "no leading space\n"),
        ("fine ->", "  two leading spaces\n"),
        ("fine ->", " \tthen a tab\n"),
        ("fine ->", "x"),  # one character, no space (and no stop)
        ("fine ->", " no stop"),
        ("fine ->", " a stop\ninside\n"),
        ("fine ->", " a rare > in the completion\n"),
    ],
)
def test_a_record_that_may_depart_is_visited(implementation, prompt, completion):
    prompts = ["fine ->", prompt, "fine ->"]
    completions = [" fine\n", completion, " fine\n"]
    assert departures(prompts, completions, ARROW) == [1]


@pytest.mark.parametrize(
    ("prompt", "completion"),
    [
        ("", " empty prompt\n"),
        ("empty completion ->", ""),
        (" leading space ->", " x\n"),
        ("\x00control first ->", " x\n"),
        ("blank completion ->", " \n\t "),
        (None, " x\n"),
        ("a number ->", 3),
        (type("Text", (str,), {})("a str subclass ->"), " x\n"),
    ],
)
def test_a_rare_record_sends_the_whole_batch_to_be_visited(implementation, prompt, completion):
    prompts = ["fine ->", prompt, "fine ->"]
    completions = [" fine\n", completion, " fine\n"]
    assert departures(prompts, completions, ARROW) is None


def test_what_no_member_watches_is_not_looked_for(implementation):
    prompts = ["no separator", "another"]
    completions = ["no space, no stop", " x"]
    assert departures(prompts, completions, NOTHING) == []
    leading_only = NOTHING._replace(leading_space=True)
    assert departures(prompts, completions, leading_only) == [0]


def test_a_separator_inside_is_looked_for_only_where_watched(implementation):
    prompts = ["a -> b ->"]
    completions = [" c -> d\n"]
    assert departures(prompts, completions, ARROW._replace(separator_inside=False)) == []
    assert departures(prompts, completions, ARROW) == [0]


def test_columns_of_different_lengths_are_a_mistake(implementation):
    with pytest.raises(ValueError, match="differ in length"):
        departures(["a ->"], [" b\n", " c\n"], ARROW)


def test_an_empty_batch_has_no_departures(implementation):
    assert departures([], [], ARROW) == []


def random_batches(seed: int) -> Iterator[tuple[Expected, list[str], list[str]]]:
    """200 random batches and conventions, mostly of texts that keep the first tests (so
    that the flags are reached), with Unicode spaces and a lone surrogate among them."""
    rng = random.Random(seed)
    pieces = [" ", "  ", "\n", "\t", "->", "#", "###", ">", "a", "é", "日", "🇯🇵", "\x85"]
    pieces += ["\u3000", "END", "\ud800"]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))

    for _ in range(200):
        separator = rng.choice(["", " ->", "\n\n###\n\n", "日本"])
        stop = rng.choice(["", "\n", "END", "🇯🇵"])
        expected = Expected(
            separator,
            rng.choice(separator) if separator else "",
            stop,
            rng.choice(stop) if stop else "",
            separator_inside=rng.random() < 0.5,
            stop_inside=rng.random() < 0.5,
            leading_space=rng.random() < 0.5,
        )
        size = rng.randrange(1, 12)
        prompts = ["p" + text() + separator * (rng.random() < 0.7) for _ in range(size)]
        completions = [" c" + text() + stop * (rng.random() < 0.7) for _ in range(size)]
        if rng.random() < 0.2:
            prompts[rng.randrange(size)] = text()
        if rng.random() < 0.2:
            completions[rng.randrange(size)] = text()
        yield expected, prompts, completions


@built
@pytest.mark.parametrize("seed", range(20))
def test_c_picks_the_records_python_picks(monkeypatch, seed):
    for expected, prompts, completions in random_batches(seed):
        compiled = native.departures(prompts, completions, *expected)
        with monkeypatch.context() as patch:
            patch.setattr(extensions, "departures", None)
            assert compiled == departures(prompts, completions, expected), (
                prompts,
                completions,
                expected,
            )


@built
@pytest.mark.parametrize("seed", range(20))
def test_c_picks_from_raw_lines_the_records_it_picks_from_their_texts(seed):
    """``plain_departures`` reads a batch's plain lines, as the reader left them unparsed."""
    rng = random.Random(seed)
    for expected, prompts, completions in random_batches(seed):
        lines = []
        for prompt, completion in zip(prompts, completions, strict=True):
            pair = [("prompt", prompt), ("completion", completion)]
            rng.shuffle(pair)
            # (A lone surrogate can only be written as an escape.)
            escaped = rng.random() < 0.5 or "\ud800" in prompt + completion
            lines.append(json.dumps(dict(pair), ensure_ascii=escaped).encode())
        found = native.plain_departures(lines, *expected)
        assert found == native.departures(prompts, completions, *expected), (lines, expected)


@built
@pytest.mark.parametrize(
    "line", [b'{"prompt": "a ->", "completion": 1}', b'{"prompt": "a ->"}', b"[]", b"{"]
)
def test_a_batch_with_a_line_that_is_not_plain_is_left_to_the_texts(line):
    clean = b'{"prompt": "a ->", "completion": " b\\n"}'
    assert native.plain_departures([clean], *ARROW) == []
    assert native.plain_departures([clean, line], *ARROW) is None


#: Lists emptied by a garbage collector's callback as soon as it starts (before Python
#: 3.12, in the C's first list made): the C must read them as they are after it, not as
#: they were before (it crashed, reading freed items). Either way, nothing departs.
GC_CLEARS_THE_LISTS = """
import gc
from pytest_finetune import _native
prompts = ["fine ->"] * 50
completions = [" x\\n"] * 50
armed = False
def clear(phase, info):
    global armed
    if phase == "start" and armed:
        armed = False
        prompts.clear()
        completions.clear()
gc.callbacks.append(clear)
# Lists kept so that the next one made is new (not reused), and counted by the collector.
kept = [[] for _ in range(200)]
gc.set_threshold(1)
armed = True
print(_native.departures(prompts, completions, " ->", ">", "\\n", "\\n", True, True, True))
"""


@built
def test_lists_the_garbage_collector_changes_as_c_reads_them_do_not_crash_it():
    assert run_python(GC_CLEARS_THE_LISTS) == (0, "[]\n")
