r"""Fixes of prompt/completion texts: separator, leading space, stop sequence, and opt-in ones.

The separator and the stop sequence are the dataset's own, as the checks learn them
(:mod:`pytest_finetune.conventions`); where there is none, the first of the legacy
tool's candidates that occurs nowhere in the data.
"""

from __future__ import annotations

import re

from pytest_finetune import conventions
from pytest_finetune.conventions import Task
from pytest_finetune.formats import PROMPT_COMPLETION_KEYS as KEYS
from pytest_finetune.prepare.fixes.base import (
    PC,
    SAMPLE_CHARS,
    Change,
    Fix,
    FixContext,
    blank,
    of_format,
    pc_texts,
)
from pytest_finetune.prepare.read import Example
from pytest_finetune.texts import common_prefix, letter_case
from pytest_finetune.wording import plural, quote

_WORD_END = re.compile(r"\w+$")


class StripPromptWhitespace(Fix):
    """Remove whitespace at the start of prompts, where most prompts have none."""

    name = "strip-prompt-whitespace"
    codes = ("FT113",)
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        prompts = [
            texts[0]
            for texts in map(pc_texts, (e.data for e in examples[: conventions.HEAD_RECORDS]))
            if texts
        ]
        # The check's rule: only where most prompts start without whitespace.
        if not prompts or sum(p[:1].isspace() for p in prompts) * 2 >= len(prompts):
            return examples
        separator = context.conventions(examples).separator.text
        for example in of_format(examples, PC):
            prompt = example.data.get("prompt")
            if not isinstance(prompt, str) or not prompt[:1].isspace():
                continue
            if separator and prompt.endswith(separator) and blank(prompt[: -len(separator)]):
                continue  # nothing but the separator: stripping would break it
            example.data["prompt"] = prompt.lstrip()
            change.edited(example.line, prompt, prompt.lstrip())
        if change.count:
            change.what = f"Remove the whitespace at the start of {plural(change.count, 'prompt')}"
        return examples


class AddSeparator(Fix):
    r"""End every prompt with the separator: the dataset's own, or one that occurs nowhere."""

    name = "add-separator"
    codes = ("FT110", "FT111")
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        if conv.task is Task.OPEN_ENDED:
            return examples
        pairs = [texts for texts in (pc_texts(e.data) for e in examples) if texts]
        separator = conv.separator.text
        added = "the separator"
        if not separator:
            separator = _unseen_separator(pairs) or ""
            added = "the new separator"
            if not separator:
                change.note = (
                    "Every candidate separator occurs in the data; declare one with "
                    "`separator = ...` in the configuration"
                )
                return examples
        return _end_all_with(examples, "prompt", separator, added, change)


def _unseen_separator(pairs: list[tuple[str, str]]) -> str | None:
    """The first legacy separator in no prompt and no completion (`` ->`` not for multi-line)."""
    candidates = list(conventions.SEPARATOR_SUGGESTIONS)
    if any("\n" in prompt for prompt, _ in pairs):
        candidates.remove(" ->")
    return conventions.suggest(candidates, (text for pair in pairs for text in pair))


def _end_all_with(
    examples: list[Example], key: str, suffix: str, added: str, change: Change
) -> list[Example]:
    """End every non-empty ``key`` text with ``suffix`` (``added`` names it in the summary)."""
    for example in of_format(examples, PC):
        text = example.data.get(key)
        if not isinstance(text, str) or blank(text) or text.endswith(suffix):
            continue
        fixed = _end_with(text, suffix)
        example.data[key] = fixed
        change.edited(example.line, text, fixed, end=True)
    if change.count:
        change.what = f"Add {added} {suffix!r} to {plural(change.count, key)}"
    return examples


def _end_with(text: str, suffix: str) -> str:
    """``text`` ending with ``suffix``: whitespace that stands in its way goes first.

    ``'Where is it? -> '`` ends with `` ->`` followed by a space: the space goes, not a
    second separator added. A suffix that starts with whitespace replaces the text's own.
    """
    stripped = text.rstrip()
    core = suffix.rstrip()
    if core and stripped.endswith(core):
        return stripped[: len(stripped) - len(core)] + suffix
    if suffix[:1].isspace():
        return stripped + suffix
    return text + suffix


class AddLeadingSpace(Fix):
    """Start every completion with one space (except completions starting with a digit)."""

    name = "add-leading-space"
    codes = ("FT120",)
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        for example in of_format(examples, PC):
            completion = example.data.get("completion")
            if not isinstance(completion, str) or blank(completion):
                continue
            body = completion.lstrip()
            leading = completion[: len(completion) - len(body)]
            # As the check: one space is right whatever follows; a digit needs none.
            if leading == " " or (not leading and body[0].isdigit()):
                continue
            fixed = " " + body
            example.data["completion"] = fixed
            change.edited(example.line, completion, fixed)
        if change.count:
            change.what = f"Start {plural(change.count, 'completion')} with exactly one space"
        return examples


class AddStop(Fix):
    r"""End every completion with the stop sequence: the dataset's own, or one that occurs nowhere.

    Classification data needs none; one that most of its completions have is added to
    the others.
    """

    name = "add-stop"
    codes = ("FT130", "FT131")
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        stop = conv.stop.text
        added = "the stop sequence"
        if not stop:
            if conv.task is not Task.GENERATION:
                return examples
            completions = [texts[1] for texts in (pc_texts(e.data) for e in examples) if texts]
            stop = conventions.suggest(conventions.STOP_SUGGESTIONS, completions) or ""
            added = "the new stop sequence"
            if not stop:
                change.note = (
                    "Every candidate stop sequence occurs in the completions; declare one "
                    "with `stop = ...` in the configuration"
                )
                return examples
        return _end_all_with(examples, "completion", stop, added, change)


class StripPromptPrefix(Fix):
    """Remove the long prefix every prompt starts with (opt-in: it may carry meaning)."""

    name = "strip-prompt-prefix"
    codes = ("FT150",)
    safe = False
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        longest = context.option("FT150", "max_length")
        return _strip_prefix(examples, "prompt", longest + 1, "", change)


class StripCompletionPrefix(Fix):
    """Remove the prefix every completion starts with, keeping the leading space (opt-in)."""

    name = "strip-completion-prefix"
    codes = ("FT151",)
    safe = False
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        shortest = context.option("FT151", "min_length")
        return _strip_prefix(examples, "completion", shortest, " ", change)


def _strip_prefix(
    examples: list[Example], key: str, shortest: int, keep: str, change: Change
) -> list[Example]:
    texts = [
        t for t in (e.data.get(key) for e in of_format(examples, PC)) if isinstance(t, str) and t
    ]
    if len(set(texts)) < 2:
        return examples
    prefix = common_prefix(min(texts), max(texts))  # the common prefix of all texts
    if len(prefix) < shortest:
        return examples
    # A prefix that ends inside a word ("Classify: pos" of "positive", "posture") stops
    # before that word.
    if any(text[len(prefix) : len(prefix) + 1].isalnum() for text in texts):
        prefix = _WORD_END.sub("", prefix)
    cut = prefix if not keep else prefix[len(keep) :] if prefix.startswith(keep) else None
    if len(prefix) < shortest or cut is None:
        change.note = f"The common {key} prefix ends inside a word; nothing was removed"
        return examples
    shown = quote(prefix, SAMPLE_CHARS)
    if any(blank(text[len(prefix) :]) for text in texts):
        change.note = f"Some {key}s are nothing but the prefix {shown}; nothing was removed"
        return examples
    for example in of_format(examples, PC):
        text = example.data.get(key)
        if not isinstance(text, str) or not text:
            continue
        fixed = (keep if text.startswith(keep) else "") + text[len(prefix) :].lstrip()
        example.data[key] = fixed
        change.edited(example.line, text, fixed)
    change.what = (
        f"Remove the prefix {quote(prefix, SAMPLE_CHARS)} from {plural(change.count, key)}"
    )
    return examples


class Lowercase(Fix):
    """Lowercase the prompts or completions that are mostly uppercase (opt-in).

    Only a column over the ``max-share`` of the mostly-uppercase check (FT140) is
    lowercased; the separator and stop sequence stay as they are.
    """

    name = "lowercase"
    codes = ("FT140",)
    safe = False
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        most = context.option("FT140", "max_share")
        ends = {"prompt": conv.separator.text, "completion": conv.stop.text}
        lowered = []
        for key in KEYS:
            texts = [
                t for t in (e.data.get(key) for e in of_format(examples, PC)) if isinstance(t, str)
            ]
            if _upper_share(texts) <= most:
                continue
            lowered.append(key)
            end = ends[key]
            for example in of_format(examples, PC):
                text = example.data.get(key)
                if not isinstance(text, str):
                    continue
                body, suffix = (
                    (text[: -len(end)], end) if end and text.endswith(end) else (text, "")
                )
                fixed = body.lower() + suffix
                if fixed != text:
                    example.data[key] = fixed
                    change.edited(example.line, text, fixed)
        if change.count:
            change.what = (
                f"Lowercase the {' and '.join(f'{key}s' for key in lowered)} "
                f"({plural(change.count, 'text')} changed)"
            )
        elif not lowered:
            change.note = f"No column is more than {most:.0%} uppercase; nothing was lowercased"
        return examples


def _upper_share(texts: list[str]) -> float:
    upper, lower = letter_case("".join(texts))
    return upper / (upper + lower) if upper + lower else 0.0


#: Every fix, in the order they run.
