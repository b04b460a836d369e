"""FT710-FT712: the TRL dataset types: preference, unpaired preference, implicit-prompt pairs.

TRL's "Dataset formats and types" page (https://huggingface.co/docs/trl/dataset_formats)
defines each type's columns in two formats: standard (strings) and conversational
(lists of ``{"role", "content"}`` messages). The columns of one example are in one
format; the messages themselves are checked by the chat checks, through the OpenAI view.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.checks.trainers.common import is_messages, shape
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.wording import quote_value

#: hh-rlhf's turn markers (Anthropic's transcripts: "\n\nHuman: ...\n\nAssistant: ...").
HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"


def _column_problems(data: dict[str, Any], keys: tuple[str, ...]) -> Iterator[str]:
    """Each of ``keys`` is a string or a list of messages, and all are in one format."""
    shapes = {}
    for key in keys:
        value = data.get(key)
        if not isinstance(value, str) and not is_messages(value):
            yield (
                f"`{key}` is {shape(value)}; it must be a string (standard) or a list of "
                "messages (conversational)"
            )
        else:
            shapes[key] = isinstance(value, str)
    if len(set(shapes.values())) > 1:
        described = ", ".join(f"`{key}` is {shape(data[key])}" for key in shapes)
        yield f"The columns mix formats ({described}); write them all as strings or all as messages"


@register
class InvalidTrlPreference(Check):
    """A TRL preference example's prompt, chosen and rejected are not in one format.

    What it does:
        Checks ``prompt``, ``chosen`` and ``rejected``: each a string (the standard
        format) or a list of message objects (the conversational format), all three
        in the same format, as TRL's "Dataset formats and types" page defines
        preference data.

    Why it matters:
        TRL's trainers apply the chat template to conversational examples and
        concatenate standard ones; an example that mixes the two (a string prompt
        with message answers) fails in the trainer's preprocessing, or trains on the
        text of a Python list.

    Example:
        ``{"prompt": "Sky colour?", "chosen": [{"role": "assistant", "content": "Blue."}],
        "rejected": "Green."}``

    Fix:
        Write the three columns as strings, or all as lists of messages
        (``"prompt": [{"role": "user", "content": ...}]``).
    """

    code = "FT710"
    name = "invalid-trl-preference"
    severity = Severity.ERROR
    formats = frozenset({Format.TRL_PREFERENCE})

    def visit(self, record: Record) -> None:
        for problem in _column_problems(record.data, ("prompt", "chosen", "rejected")):
            self.report(record.line, problem)


@register
class InvalidUnpairedPreference(Check):
    """An unpaired preference example's label is not a boolean, or its columns mix formats.

    What it does:
        Checks TRL's unpaired preference data (KTO): ``label`` is ``true`` or
        ``false``, and ``prompt`` and ``completion`` are both strings (standard) or
        both lists of messages (conversational). In a file of unpaired preference
        data, an example whose label is a string or a number is reported too.

    Why it matters:
        The label says whether the completion is desirable; ``"true"``, ``1`` or
        ``"good"`` is not read as a boolean, and the example is either refused or
        read as a prompt/completion pair with an extra column.

    Example:
        ``{"prompt": "The sky is", "completion": " blue.", "label": "true"}``

    Fix:
        Write the label as JSON ``true`` or ``false``, and the two columns in one format.
    """

    code = "FT711"
    name = "invalid-unpaired-preference"
    severity = Severity.ERROR
    formats = frozenset({Format.UNPAIRED_PREFERENCE})

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        # Prompt/completion records only in an unpaired preference file: those are the
        # examples whose label is not a boolean (formats.detect).
        if fmt is Format.UNPAIRED_PREFERENCE or (
            fmt is Format.PROMPT_COMPLETION and self.context.format is Format.UNPAIRED_PREFERENCE
        ):
            return self.visit
        return None

    def visit(self, record: Record) -> None:
        data = record.data
        if record.format is Format.PROMPT_COMPLETION:
            if "label" in data:
                label = quote_value(data["label"])
                self.report(record.line, f"`label` is {label}; it must be true or false")
            return
        for problem in _column_problems(data, ("prompt", "completion")):
            self.report(record.line, problem)


@register
class UnsharedPreferencePrompt(Check):
    r"""The two transcripts of an implicit-prompt pair do not share their conversation.

    What it does:
        Checks pairs written as two whole transcripts, ``chosen`` and ``rejected``
        (Anthropic's hh-rlhf, TRL's preference data "with implicit prompt"): both
        strings or both lists of messages; sharing a prompt (TRL extracts it as
        their longest common prefix); and, for hh-rlhf transcripts (``Human:`` and
        ``Assistant:`` turns), each ending on an Assistant turn that follows the
        shared conversation. Conversational transcripts end on an assistant message.

    Why it matters:
        The pair teaches which final reply is better in the same conversation. With
        no shared prompt TRL compares two unrelated texts; a transcript ending on a
        Human turn, or differing before the last reply, compares conversations rather
        than answers.

    Example:
        ``{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!",
        "rejected": "\n\nHuman: Hey\n\nAssistant: What?"}``

    Fix:
        Make both transcripts the same conversation up to the final Assistant reply,
        or split the pair into ``prompt``, ``chosen`` and ``rejected``.
    """

    code = "FT712"
    name = "unshared-preference-prompt"
    severity = Severity.ERROR
    formats = frozenset({Format.TRANSCRIPTS})

    def visit(self, record: Record) -> None:
        data = record.data
        problems = list(_column_problems(data, ("chosen", "rejected")))
        if not problems:
            chosen, rejected = data["chosen"], data["rejected"]
            if isinstance(chosen, str):
                problems = _transcript_problems(chosen, rejected)
            else:
                problems = _conversation_problems(chosen, rejected)
        for problem in problems:
            self.report(record.line, problem)


def _transcript_problems(chosen: str, rejected: str) -> list[str]:
    if HUMAN not in chosen and ASSISTANT not in chosen:
        if not chosen or not rejected or chosen[0] != rejected[0]:
            return ["`chosen` and `rejected` share no prompt: they differ from the first character"]
        return []
    problems = []
    for key, text in (("chosen", chosen), ("rejected", rejected)):
        if text.rfind(HUMAN) > text.rfind(ASSISTANT):
            problems.append(
                f"`{key}` ends on a Human turn; a transcript ends on the Assistant reply"
            )
    if not problems:
        # TRL takes the longest common prefix as the prompt: it must end inside the last
        # Assistant turn, so that what differs is the final replies and nothing more.
        shared = len(os.path.commonprefix([chosen, rejected]))  # noqa: RUF071 (characters)
        prefix = chosen[:shared]
        if prefix.rfind(HUMAN) > prefix.rfind(ASSISTANT) or any(
            HUMAN in text[shared:] for text in (chosen, rejected)
        ):
            problems.append(
                "`chosen` and `rejected` differ before their last Assistant turn; the two "
                "transcripts should be one conversation with two final replies"
            )
    return problems


def _conversation_problems(chosen: list[Any], rejected: list[Any]) -> list[str]:
    problems = [
        f"`{key}` ends on {quote_value(messages[-1].get('role')) if messages else 'nothing'}"
        "; a transcript ends on the assistant reply"
        for key, messages in (("chosen", chosen), ("rejected", rejected))
        if not messages or messages[-1].get("role") != "assistant"
    ]
    if not problems and chosen[:1] != rejected[:1]:
        problems.append("`chosen` and `rejected` share no prompt: their first messages differ")
    return problems
