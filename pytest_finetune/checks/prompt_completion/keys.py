"""FT101-FT106: the keys of prompt/completion examples and the texts they hold."""

from __future__ import annotations

from typing import Any

from pytest_finetune.checks.prompt_completion.survey import Member, Sight, in_examples
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import closest, kind, quote


@register
class KeyWrongCase(Member):
    """A ``prompt`` or ``completion`` key is spelled in another case or with spaces.

    What it does:
        Reports keys such as ``Prompt``, ``COMPLETION`` or ``"prompt "`` that stand for
        ``prompt`` or ``completion``, once per spelling, with how many examples have it.
        The other checks read the value as the prompt or completion it means.

    Why it matters:
        Keys must match exactly: the service finds no prompt or completion and rejects
        the example (the legacy tool offered to lowercase them).

    Example:
        ``{"Prompt": "Where is my parcel? ->", "Completion": " shipping"}``

    Fix:
        Rename the keys to ``prompt`` and ``completion`` (``pytest-finetune prepare``
        does).
    """

    code = "FT101"
    name = "key-wrong-case"
    severity = Severity.ERROR
    fixable = True

    def judge(self) -> None:
        for key, (count, first) in self.survey.misnamed.items():
            wanted = key.strip().lower()
            self.report(
                first,
                f"Key {key!r} should be {wanted!r} (keys must match exactly), in "
                f"{in_examples(count, self.context)}; rename it",
            )


@register
class MissingKey(Member):
    """An example lacks its ``prompt`` or its ``completion``.

    What it does:
        Reports each example without a ``prompt`` or ``completion`` key (in any case),
        naming a key that looks like a misspelling of it.

    Why it matters:
        The service rejects the file: every prompt/completion example needs both.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completions": " shipping"}``

    Fix:
        Add the missing key, or rename the misspelled one.
    """

    code = "FT102"
    name = "missing-prompt-or-completion"
    severity = Severity.ERROR
    sees = (Sight.MISSING_KEY,)

    def seen(self, line: int, where: str, detail: dict[str, Any]) -> None:
        # ``where``: the key missing; the detail: the record's data.
        key = where
        near = closest(key, [str(k) for k in detail])
        hint = f" (is {near!r} meant to be {key!r}?)" if near else ""
        self.report(
            line, f"Missing key {key!r}{hint}; every example needs a prompt and a completion"
        )


@register
class ExtraKey(Member):
    """Examples have keys besides ``prompt`` and ``completion``.

    What it does:
        Reports each extra key once, at its first example, with how many examples have
        it.

    Why it matters:
        Fine-tuning reads only the prompt and the completion: the extra data is not
        trained on (if it is the label you meant, it is lost), makes the upload bigger,
        and stricter validators reject it.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completion": " shipping", "id": 17}``

    Fix:
        Remove the extra keys (``pytest-finetune prepare`` does), keeping them in a
        separate file if you need them.
    """

    code = "FT103"
    name = "extra-key"
    severity = Severity.WARNING
    fixable = True

    def judge(self) -> None:
        # Keys exported together (every column of a table) make one finding.
        together: dict[tuple[int, int], list[str]] = {}
        for key, (count, first) in self.survey.extra_keys().items():
            together.setdefault((first, count), []).append(key)
        for (first, count), keys in sorted(together.items()):
            one = len(keys) == 1 and keys[0] != ""
            if one:
                what = f"Key {keys[0]!r} is"
            elif keys == [""]:
                what = "Other keys are"  # beyond the keys tracked by name
            else:
                what = f"Keys {', '.join(repr(key) if key else 'others' for key in keys)} are"
            it = "it" if one else "them"
            self.report(
                first,
                f"{what} not prompt or completion, in {in_examples(count, self.context)}; "
                f"fine-tuning does not use {it}: remove {it}",
            )


@register
class NonStringValue(Member):
    """A ``prompt`` or ``completion`` is not a string.

    What it does:
        Reports prompts and completions that are numbers, booleans, null, lists or
        objects.

    Why it matters:
        The service rejects them; a number label such as ``1`` must be the text ``" 1"``.

    Example:
        ``{"prompt": "Is this spam? ->", "completion": 1}``

    Fix:
        Write the value as a JSON string.
    """

    code = "FT104"
    name = "non-string-value"
    severity = Severity.ERROR
    sees = (Sight.NON_STRING,)

    def seen(self, line: int, where: str, detail: object) -> None:
        # ``where``: the key; the detail: its value.
        self.report(
            line,
            f"The {where} is {kind(detail, detail=True)}, not a string; "
            "write it as text (in quotes)",
        )


class EmptyText(Member):
    """A check of prompts or completions that are empty or only whitespace."""

    def seen(self, line: int, where: str, detail: str) -> None:
        # ``where``: prompt or completion; the detail: the text.
        what = "empty" if not detail else f"only whitespace ({quote(detail)})"
        self.report(line, f"The {where} is {what}; fill it in or remove the example")


@register
class EmptyCompletion(EmptyText):
    """A completion is empty or only whitespace.

    What it does:
        Reports each completion that is ``""`` or holds only spaces and newlines.

    Why it matters:
        The model learns to answer nothing; the legacy tool dropped such examples.

    Example:
        ``{"prompt": "Where is my parcel? ->", "completion": ""}``

    Fix:
        Write the completion, or remove the example (``pytest-finetune prepare`` does).
    """

    code = "FT105"
    name = "empty-completion"
    severity = Severity.ERROR
    fixable = True
    sees = (Sight.EMPTY_COMPLETION,)


@register
class EmptyPrompt(EmptyText):
    """A prompt is empty or only whitespace, while the others are not.

    What it does:
        Reports each empty prompt, unless the data is open-ended generation (every
        prompt empty, which the legacy tool allowed on purpose).

    Why it matters:
        The example teaches the model to produce its completion from nothing, which
        is rarely what one empty row in a file of questions means. The legacy tool
        never checked it.

    Example:
        ``{"prompt": "", "completion": " shipping"}`` among prompts with text.

    Fix:
        Fill in the prompt, or remove the example (``pytest-finetune prepare`` does).
    """

    code = "FT106"
    name = "empty-prompt"
    severity = Severity.WARNING
    fixable = True
    sees = (Sight.EMPTY_PROMPT,)

    def watches(self) -> bool:
        return not self.survey.open_ended
