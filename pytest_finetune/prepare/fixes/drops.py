"""Fixes that drop examples: empty and duplicate ones; conflicting and over-long on request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_finetune import models, token_counting
from pytest_finetune.conventions import Task
from pytest_finetune.fingerprints import fingerprint
from pytest_finetune.formats import Format, Record, canonical, detect, last_assistant
from pytest_finetune.prepare.fixes.base import (
    PC,
    Change,
    Fix,
    FixContext,
    blank,
    pc_texts,
    shown_json,
)
from pytest_finetune.prepare.read import Example
from pytest_finetune.wording import plural


def _drop(
    examples: list[Example], why: Callable[[Example], str | None], change: Change
) -> list[Example]:
    """The examples to keep; ``why`` says what each dropped one was (``None``: keep it)."""
    kept = []
    for example in examples:
        dropped = why(example)
        if dropped is None:
            kept.append(example)
        else:
            change.touched(example.line, dropped, None)
    return kept


class DropEmpty(Fix):
    """Drop examples whose completion, or prompt (unless every prompt is), is empty."""

    name = "drop-empty"
    codes = ("FT105", "FT106")
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        open_ended = context.conventions(examples).task is Task.OPEN_ENDED

        def empty(example: Example) -> str | None:
            data = example.data
            prompt, completion = data.get("prompt"), data.get("completion")
            if detect(data) is Format.PROMPT_COMPLETION and (
                (isinstance(completion, str) and blank(completion))
                or (isinstance(prompt, str) and blank(prompt) and not open_ended)
            ):
                return shown_json(data)
            return None

        kept = _drop(examples, empty, change)
        if change.count:
            change.what = (
                f"Drop {plural(change.count, 'example')} with an empty prompt or completion"
            )
        return kept


class DropDuplicates(Fix):
    """Drop exact duplicates of an earlier example (the first occurrence stays)."""

    name = "drop-duplicates"
    codes = ("FT401",)

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        # A fingerprint per kept example, not its text: memory stays small. Equal
        # fingerprints are compared whole, so an unlucky hash drops nothing.
        first: dict[int, list[Example]] = {}

        def repeat(example: Example) -> str | None:
            key = canonical(_identity(example.data))
            earlier = first.get(fingerprint(key))
            same = next(
                (seen for seen in earlier or () if canonical(_identity(seen.data)) == key), None
            )
            if same is None:
                first.setdefault(fingerprint(key), []).append(example)
                return None
            return f"same as line {same.line}"

        kept = _drop(examples, repeat, change)
        if change.count:
            change.what = f"Drop {plural(change.count, 'exact duplicate')} of earlier examples"
        return kept


def _identity(data: dict[str, Any]) -> object:
    """What makes two examples the same for the duplicate check (FT401): what trains."""
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION and pc_texts(data):
        return [data["prompt"], data["completion"]]
    if fmt is Format.CHAT and isinstance(data.get("messages"), list):
        messages = data["messages"]
        last = last_assistant(messages)
        if last is not None:
            return [messages[: last + 1], data.get("tools") or None]
    if fmt is Format.PREFERENCE and "preferred_output" in data:
        return [data.get("input"), data["preferred_output"], data.get("non_preferred_output")]
    return data


def _input(data: dict[str, Any]) -> object:
    """What the model is given, for the conflicting-labels check (FT402); ``None``: unknown."""
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION:
        texts = pc_texts(data)
        return texts[0] if texts else None
    if fmt is Format.CHAT and isinstance(data.get("messages"), list):
        messages = data["messages"]
        last = last_assistant(messages)
        return None if last is None else [messages[:last], data.get("tools") or None]
    if fmt is Format.PREFERENCE and "preferred_output" in data:
        outputs = sorted(
            (canonical(data["preferred_output"]), canonical(data.get("non_preferred_output")))
        )
        return [data.get("input"), [output.decode() for output in outputs]]
    return None


def _target(data: dict[str, Any]) -> object:
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION:
        return data.get("completion")
    if fmt is Format.CHAT:
        messages = data["messages"]
        return messages[last_assistant(messages) or 0]
    return data.get("preferred_output")


class DropConflicting(Fix):
    """Drop every example whose input also comes with another target (opt-in)."""

    name = "drop-conflicting"
    codes = ("FT402",)
    safe = False

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        targets: dict[bytes, set[bytes]] = {}
        keys: list[bytes | None] = []
        for example in examples:
            source = _input(example.data)
            key = None if source is None else canonical(source)
            keys.append(key)
            if key is not None:
                targets.setdefault(key, set()).add(canonical(_target(example.data)))
        conflicting = {
            id(example)
            for example, key in zip(examples, keys, strict=True)
            if key is not None and len(targets[key]) > 1
        }
        kept = _drop(
            examples,
            lambda example: shown_json(example.data) if id(example) in conflicting else None,
            change,
        )
        if change.count:
            change.what = (
                f"Drop {plural(change.count, 'example')} whose input has more than one target"
            )
        return kept


class DropTooLong(Fix):
    """Drop examples over the model's training limit, which it would cut short (opt-in)."""

    name = "drop-too-long"
    codes = ("FT601",)
    safe = False

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        settings = context.settings
        spec = models.model_spec(settings.model, settings.config, context.format, settings.target)
        count = token_counting.ExampleCounter(token_counting.counter(spec.encoding), spec.encoding)
        limit = spec.training_limit
        if not limit:  # the target documents no limit: nothing is too long
            return examples

        def too_long(example: Example) -> str | None:
            # A token is at least one byte, and an example's JSON has more bytes of
            # structure than the service adds tokens, except for tool definitions:
            # an example of no more than half the limit in bytes fits.
            if len(canonical(example.data)) > limit // 2:
                found = count(Record(example.line, b"", example.data, detect(example.data)))
                if found > limit:
                    return f"{found:,} tokens"
            return None

        kept = _drop(examples, too_long, change)
        if change.count:
            change.what = (
                f"Drop {plural(change.count, 'example')} over the {limit:,} tokens "
                f"{spec.name} trains on"
            )
        return kept
