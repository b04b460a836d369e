"""FT720: Gemini records, as Vertex AI's supervised tuning documentation defines them.

"Prepare supervised fine-tuning data for Gemini models"
(https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare):
each line holds ``contents``, a list of ``Content`` objects (``role`` and ``parts``), and
optionally ``systemInstruction``, a ``Content`` of text parts whose role is ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.wording import did_you_mean, kind, quote_value

ROLES = ("user", "model")
#: The union of a Part's data: a part holds exactly one of these.
DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
_ROLE_ALIASES = {"assistant": "model", "human": "user", "bot": "model"}


@register
class InvalidGeminiExample(Check):
    """A Gemini record's contents, roles or parts are not what Vertex AI tuning reads.

    What it does:
        Checks ``contents``: a non-empty list of objects whose ``role``, when given,
        is ``user`` or ``model`` and whose ``parts`` is a non-empty list of parts,
        each holding exactly one of ``text``, ``inlineData``, ``fileData``,
        ``functionCall`` and ``functionResponse`` (a string for ``text``, objects for
        the others); and ``systemInstruction``, when given: an object whose ``parts``
        are text parts.

    Why it matters:
        Vertex AI validates the file when the tuning job starts and fails the job on
        the first malformed row, after the upload and the wait.

    Example:
        ``{"contents": [{"role": "assistant", "parts": [{"text": "Hi"}]}]}`` (Gemini's
        replies have the role ``model``).

    Fix:
        Use the roles ``user`` and ``model``, write each part as ``{"text": ...}``
        (or one of the other part kinds), and give ``systemInstruction`` as
        ``{"parts": [{"text": ...}]}``.
    """

    code = "FT720"
    name = "invalid-gemini-example"
    severity = Severity.ERROR
    formats = frozenset({Format.GEMINI})

    def visit(self, record: Record) -> None:
        for problem in gemini_problems(record.data):
            self.report(record.line, problem)


def gemini_problems(data: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the shape of one Gemini record."""
    contents = data.get("contents")
    if not isinstance(contents, list) or not contents:
        what = "empty" if isinstance(contents, list) else kind(contents)
        yield f'`contents` is {what}; it must be a list of {{"role": ..., "parts": [...]}} objects'
    else:
        for index, content in enumerate(contents):
            yield from _content(content, f"contents[{index}]")
    if "systemInstruction" in data:
        instruction = data["systemInstruction"]
        if not isinstance(instruction, dict):
            yield (
                f"`systemInstruction` is {kind(instruction)}; it must be an object: "
                '{"parts": [{"text": ...}]}'
            )
        else:
            yield from _parts(instruction.get("parts"), "systemInstruction", ("text",))


def _content(content: object, where: str) -> Iterator[str]:
    if not isinstance(content, dict):
        yield f'`{where}` is {kind(content)}; it must be an object: {{"role": ..., "parts": [...]}}'
        return
    role = content.get("role")
    if role is not None and role not in ROLES:
        alias = _ROLE_ALIASES.get(role) if isinstance(role, str) else None
        hint = f"; did you mean {alias!r}?" if alias else ""
        if not hint and isinstance(role, str):
            hint = did_you_mean(role, ROLES)
        yield f"`{where}.role` is {quote_value(role)}; Gemini's roles are user and model{hint}"
    yield from _parts(content.get("parts"), where, DATA_FIELDS)


def _parts(parts: object, where: str, allowed: tuple[str, ...]) -> Iterator[str]:
    if not isinstance(parts, list) or not parts:
        what = "empty" if isinstance(parts, list) else ("missing" if parts is None else kind(parts))
        yield f'`{where}.parts` is {what}; it must be a list of parts such as {{"text": ...}}'
        return
    for index, part in enumerate(parts):
        path = f"{where}.parts[{index}]"
        if not isinstance(part, dict):
            yield f'`{path}` is {kind(part)}; a part is an object such as {{"text": ...}}'
            continue
        fields = [field for field in DATA_FIELDS if field in part]
        if len(fields) != 1:
            what = "none" if not fields else " and ".join(fields)
            yield f"`{path}` holds {what}; a part holds exactly one of {', '.join(allowed)}"
            continue
        field = fields[0]
        if field not in allowed:
            yield f"`{path}` is a {field} part; only {', '.join(allowed)} parts go here"
        elif field == "text":
            if not isinstance(part["text"], str):
                yield f"`{path}.text` is {kind(part['text'])}; it must be a string"
        elif not isinstance(part[field], dict):
            yield f"`{path}.{field}` is {kind(part[field])}; it must be an object"
