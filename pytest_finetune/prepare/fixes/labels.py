"""Fixes of class labels: the space before a number label, a token of its own (FT503)."""

from __future__ import annotations

from pytest_finetune import models
from pytest_finetune.formats import Format
from pytest_finetune.prepare.fixes.base import Change, Fix, FixContext, of_format
from pytest_finetune.prepare.read import Example
from pytest_finetune.wording import plural

#: Encodings that never join a space to a digit: `` 1`` is two tokens there, ``1`` one.
_SPLIT_DIGITS = frozenset({"cl100k_base", "o200k_base"})
_LABELLED = frozenset({Format.PROMPT_COMPLETION, Format.CHAT})


class DropLabelSpace(Fix):
    """Drop the space before number labels: " 1" becomes "1", one token for the model.

    Not safe: the answers the model is trained to give change, and whatever reads them
    must follow. Applied when named: ``prepare --fix drop-label-space``.
    """

    name = "drop-label-space"
    codes = ("FT503",)
    safe = False
    formats = _LABELLED

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        if not conv.classification:
            change.note = "The data is not classification: its answers are not labels"
            return examples
        spec = models.model_spec(context.settings.model, context.settings.config, context.format)
        if spec.encoding not in _SPLIT_DIGITS:
            change.note = f"{spec.name}'s encoding ({spec.encoding}) may join a space to a digit"
            return examples
        for example in of_format(examples, _LABELLED):
            data = example.data
            if context.format is Format.PROMPT_COMPLETION:
                holder, key = data, "completion"
            else:
                reply = _last_reply(data)
                if reply is None:
                    continue
                holder, key = reply, "content"
            answer = holder.get(key)
            if isinstance(answer, str) and answer[:1] == " " and answer[1:2].isdigit():
                holder[key] = answer[1:]
                change.edited(example.line, answer, answer[1:])
        if change.count:
            change.what = f"Drop the space before {plural(change.count, 'number label')}"
        return examples


def _last_reply(data: dict[str, object]) -> dict[str, object] | None:
    """The last assistant message of a chat example (the one a label is read from)."""
    messages = data.get("messages")
    for message in reversed(messages) if isinstance(messages, list) else ():
        if isinstance(message, dict) and message.get("role") == "assistant":
            return message
    return None
