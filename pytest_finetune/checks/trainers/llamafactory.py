"""FT701-FT704: Alpaca and ShareGPT records, as LLaMA-Factory's data/README.md defines them.

LLaMA-Factory (https://github.com/hiyouga/LLaMA-Factory/blob/main/data/README.md) names
the two formats most open-source instruction data is written in. A dataset's
``dataset_info.json`` entry may rename the columns and role tags; these checks read the
defaults, which are what the published datasets and LLaMA-Factory's examples use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.checks.trainers.common import not_string
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.wording import did_you_mean, kind, quote_value

ALPACA = frozenset({Format.ALPACA})
SHAREGPT = frozenset({Format.SHAREGPT, Format.SHAREGPT_PREFERENCE})
SHAREGPT_PREFERENCE = frozenset({Format.SHAREGPT_PREFERENCE})

#: The turns that LLaMA-Factory reads at odd positions (1st, 3rd, ...: the prompt side)
#: and at even ones (what the model learns). ``tool`` is the name Axolotl's and the
#: OpenAI-style datasets give a tool's result; LLaMA-Factory's default is ``observation``.
PROMPT_TAGS = ("human", "observation", "tool")
REPLY_TAGS = ("gpt", "function_call")
SYSTEM_TAG = "system"
TAGS = (*PROMPT_TAGS, *REPLY_TAGS, SYSTEM_TAG)
#: The OpenAI names people carry over, and the ShareGPT tag they mean.
_TAG_ALIASES = {"user": "human", "assistant": "gpt", "model": "gpt", "function": "function_call"}


@register
class InvalidAlpacaExample(Check):
    """An Alpaca record lacks its instruction or output, or a field has the wrong type.

    What it does:
        Checks each Alpaca record as LLaMA-Factory's data/README.md defines it:
        ``instruction`` and ``output`` are required strings, ``input`` and ``system``
        optional strings, ``history`` an optional list of ``[query, answer]`` pairs of
        strings, and a KTO record's ``kto_tag`` true or false.

    Why it matters:
        The trainer concatenates ``instruction`` and ``input`` into the user turn and
        learns ``output`` (and every answer in ``history``); a number, a list or a
        history entry of another shape breaks the loading of the whole dataset or
        trains on the wrong text.

    Example:
        ``{"instruction": "Name a colour.", "output": "Blue", "history": ["Hi", "Hello!"]}``
        (a history entry must be a pair: ``[["Hi", "Hello!"]]``).

    Fix:
        Give every record its ``instruction`` and ``output`` as strings and write
        ``history`` as a list of two-string lists, oldest turn first.
    """

    code = "FT701"
    name = "invalid-alpaca-example"
    severity = Severity.ERROR
    formats = ALPACA

    def visit(self, record: Record) -> None:
        for problem in alpaca_problems(record.data):
            self.report(record.line, problem)


def alpaca_problems(data: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the shape of one Alpaca record."""
    for key, optional in (("instruction", False), ("input", True), ("output", False)):
        problem = not_string(data, key, key, optional=optional)
        if problem:
            yield problem
    problem = not_string(data, "system", "system", optional=True)
    if problem:
        yield problem
    history = data.get("history")
    if history is not None:
        if not isinstance(history, list):
            yield f"`history` is {kind(history)}; it must be a list of [query, answer] pairs"
        elif history and all(isinstance(turn, str) for turn in history):
            yield (
                "`history` is a flat list of strings; write each turn as a [query, answer] "
                'pair: [["query", "answer"], ...]'
            )
        else:
            for index, pair in enumerate(history):
                if not (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(turn, str) for turn in pair)
                ):
                    yield (
                        f"`history[{index}]` is {quote_value(pair)}; each entry is a "
                        "[query, answer] pair of strings"
                    )
    if "kto_tag" in data and not isinstance(data["kto_tag"], bool):
        yield f"`kto_tag` is {quote_value(data['kto_tag'])}; it must be true or false"


@register
class InvalidShareGptMessage(Check):
    """A ShareGPT conversation is not a list of turns with a known ``from`` and a ``value``.

    What it does:
        Checks ``conversations``: a non-empty list of objects, each with ``from`` one
        of ``human``, ``gpt``, ``system``, ``function_call`` and ``observation``
        (LLaMA-Factory's default role tags; ``tool`` is taken as a tool result too)
        and ``value`` a string. The optional ``system`` column must be a string.

    Why it matters:
        LLaMA-Factory maps each tag to a role; an unknown tag (``user``,
        ``assistant``, a typo) makes it skip the example with only a log line, and a
        missing ``value`` fails the loading.

    Example:
        ``{"conversations": [{"from": "user", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}``

    Fix:
        Use the default tags (``human`` for the user, ``gpt`` for the model), or
        declare yours under ``tags`` in ``dataset_info.json`` and rename them here.
    """

    code = "FT702"
    name = "invalid-sharegpt-message"
    severity = Severity.ERROR
    formats = SHAREGPT

    def visit(self, record: Record) -> None:
        data = record.data
        turns = data.get("conversations")
        if not isinstance(turns, list):
            self.report(
                record.line,
                f"`conversations` is {kind(turns)}; it must be a list of "
                '{"from": ..., "value": ...} turns',
            )
        elif not turns and record.format is Format.SHAREGPT:
            self.report(record.line, "`conversations` is empty")
        else:
            for index, turn in enumerate(turns):
                problem = turn_problem(turn, f"conversations[{index}]", TAGS)
                if problem:
                    self.report(record.line, problem)
        problem = not_string(data, "system", "system", optional=True)
        if problem:
            self.report(record.line, problem)


def turn_problem(turn: object, where: str, tags: tuple[str, ...]) -> str | None:
    """What is wrong with one ShareGPT turn, whose ``from`` must be one of ``tags``."""
    if not isinstance(turn, dict):
        return f"`{where}` is {kind(turn)}; a turn is an object: " + '{"from": ..., "value": ...}'
    if "from" not in turn:
        hint = "; ShareGPT names it `from`" if "role" in turn else ""
        return f"`{where}` has no `from`{hint}"
    tag = turn["from"]
    if not isinstance(tag, str) or tag not in tags:
        alias = _TAG_ALIASES.get(tag) if isinstance(tag, str) else None
        if alias in tags:
            hint = f"; did you mean {alias!r}?"
        elif isinstance(tag, str):
            hint = did_you_mean(tag, tags)
        else:
            hint = ""
        return f"`{where}.from` is {quote_value(tag)}, not one of {', '.join(tags)}{hint}"
    if "value" not in turn:
        hint = "; ShareGPT names it `value`" if "content" in turn else ""
        return f"`{where}` has no `value`{hint}"
    if not isinstance(turn["value"], str):
        return f"`{where}.value` is {kind(turn['value'])}; it must be a string"
    return None


@register
class ShareGptRoleOrder(Check):
    """A ShareGPT conversation's turns are not where LLaMA-Factory reads them.

    What it does:
        After an optional first ``system`` turn, ``human`` and ``observation`` turns
        must come at odd positions (1st, 3rd, ...) and ``gpt`` and ``function_call``
        turns at even ones, as LLaMA-Factory's data/README.md says. A supervised
        example ends on a ``gpt`` or ``function_call`` turn; a preference example's
        conversation ends on the ``human`` or ``observation`` turn its ``chosen`` and
        ``rejected`` answer. Turns with an unknown tag are FT702's.

    Why it matters:
        LLaMA-Factory skips such an example ("Invalid role tag" or "Invalid message
        count" in its log) and trains on the rest: the data is silently smaller than
        the file.

    Example:
        ``human``, ``human``, ``gpt``, or a conversation ending on a ``human`` turn.

    Fix:
        Merge consecutive turns of one side, move the system prompt to the first turn
        (or the ``system`` column), and end on the model's answer.
    """

    code = "FT703"
    name = "sharegpt-role-order"
    severity = Severity.ERROR
    formats = SHAREGPT

    def visit(self, record: Record) -> None:
        turns = record.data.get("conversations")
        if not isinstance(turns, list):
            return
        tags = [turn.get("from") if isinstance(turn, dict) else None for turn in turns]
        if any(not isinstance(tag, str) or tag not in TAGS for tag in tags):
            return  # FT702's
        start = 1 if tags and tags[0] == SYSTEM_TAG else 0
        for index in range(start, len(tags)):
            tag = tags[index]
            expected = PROMPT_TAGS if (index - start) % 2 == 0 else REPLY_TAGS
            if tag not in expected:
                self.report(record.line, _misplaced(index, tag, expected))
                return
        preference = record.format is Format.SHAREGPT_PREFERENCE
        count = len(tags) - start
        if preference and count % 2 == 0:
            self.report(
                record.line,
                f"`conversations` ends on {_ending(tags, start)}; in a preference example it "
                "ends on the human or observation turn that chosen and rejected answer",
            )
        elif not preference and count % 2 == 1:
            self.report(
                record.line,
                f"`conversations` ends on {_ending(tags, start)}; an example ends on the "
                "gpt or function_call turn the model learns (LLaMA-Factory skips it)",
            )


def _misplaced(index: int, tag: object, expected: tuple[str, ...]) -> str:
    if tag == SYSTEM_TAG:
        return (
            f"`conversations[{index}]` is a system turn after the first turn; the system "
            "prompt is the first turn or the `system` column"
        )
    side = "human or observation" if expected is PROMPT_TAGS else "gpt or function_call"
    return (
        f"`conversations[{index}]` is from {tag} where a {side} turn belongs (turns "
        "alternate human/observation, then gpt/function_call; LLaMA-Factory skips the example)"
    )


def _ending(tags: list[Any], start: int) -> str:
    if len(tags) == start:
        return "no turn besides the system prompt"
    return f"a {tags[-1]} turn"


@register
class InvalidShareGptPreference(Check):
    """A ShareGPT preference example's ``chosen`` or ``rejected`` is not one model turn.

    What it does:
        Checks LLaMA-Factory's ShareGPT preference records: ``chosen`` and
        ``rejected`` are each one turn object (not a list, not a bare string) whose
        ``from`` is ``gpt`` or ``function_call`` and whose ``value`` is a string.

    Why it matters:
        LLaMA-Factory compares the two answers to the conversation; a turn from
        another side makes it skip the example ("Invalid role tag"), and a list or a
        string fails the loading.

    Example:
        ``"chosen": "Paris"`` instead of ``"chosen": {"from": "gpt", "value": "Paris"}``.

    Fix:
        Write each answer as ``{"from": "gpt", "value": "..."}``.
    """

    code = "FT704"
    name = "invalid-sharegpt-preference"
    severity = Severity.ERROR
    formats = SHAREGPT_PREFERENCE

    def visit(self, record: Record) -> None:
        for key in ("chosen", "rejected"):
            answer = record.data.get(key)
            if isinstance(answer, list):
                problem: str | None = (
                    f"`{key}` is a list; it must be one turn: " + '{"from": "gpt", "value": ...}'
                )
            elif isinstance(answer, str):
                problem = (
                    f"`{key}` is a string; it must be a turn: " + '{"from": "gpt", "value": ...}'
                )
            else:
                problem = turn_problem(answer, key, REPLY_TAGS)
            if problem:
                self.report(record.line, problem)
