"""FT205-FT210: what messages hold: text of the right type, not empty, and valid parts."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_finetune.chat_schema import InRole, Issue
from pytest_finetune.chat_schema.content import PART_TYPES
from pytest_finetune.checks.chat.survey import IssueCheck, Walked
from pytest_finetune.checks.registry import option, register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import article, kind, quote_value

#: Part types of other APIs (Responses API, Anthropic) and what chat data calls them.
_PART_ALIASES = {
    "input_text": "text",
    "output_text": "text",
    "input_image": "image_url",
    "image": "image_url",
}


@register
class InvalidContent(IssueCheck):
    """A message's content has the wrong type, or is missing where it is required.

    What it does:
        Reports content that is neither a string nor a list of content parts, and
        content that is missing or null on a message that needs it: only an assistant
        message that calls a tool (``tool_calls``, ``function_call``) or refuses
        (``refusal``) may go without. A ``refusal`` that is not a string is reported
        too.

    Why it matters:
        The service rejects the example. A number or an object as content usually
        means a value was not converted to text.

    Example:
        ``{"role": "user", "content": 42}``, or ``{"role": "assistant", "content": null}``
        without a tool call.

    Fix:
        Give the message its text as a string, or as ``[{"type": "text", "text": ...}]``.
    """

    code = "FT205"
    name = "invalid-content"
    severity = Severity.ERROR
    sees = (Issue.INVALID_CONTENT,)

    def seen(self, line: int, where: str, detail: InRole) -> None:
        # ``where``: the content or the refusal, and the detail's value is it; or the
        # message without content, and the value says whether the key is there (null).
        role, value = detail
        if where.endswith(".refusal"):
            self.report(line, f"`{where}` is {kind(value)}; it must be a string")
        elif where.endswith(".content"):
            expected = "a string" if role == "function" else "a string or a list of content parts"
            self.report(line, f"`{where}` is {kind(value)}; it must be {expected}")
        else:
            what = "null content" if value else "no content"
            if role == "assistant":
                what += " and no tool_calls or function_call"
            self.report(line, f"`{where}` is {article(role)} message with {what}")


@register
class EmptyAssistantMessage(IssueCheck):
    """An assistant reply has empty content and calls no tool.

    What it does:
        Reports assistant messages whose content is empty or only whitespace (or a
        list of parts without text) and that make no tool or function call.

    Why it matters:
        The example trains the model to answer with nothing; the service rejects
        assistant messages without content or calls.

    Example:
        ``{"role": "assistant", "content": " "}``

    Fix:
        Write the reply, or drop the example.
    """

    code = "FT206"
    name = "empty-assistant-message"
    severity = Severity.ERROR
    sees = (Issue.EMPTY_ASSISTANT,)

    def seen(self, line: int, where: str, detail: None) -> None:
        self.report(
            line,
            f"`{where}` is an assistant reply with empty content: "
            "the model learns to answer nothing",
        )


@register
class EmptyMessage(IssueCheck):
    """A system, developer or user message has empty content.

    What it does:
        Reports system, developer and user messages whose content is empty or only
        whitespace. Tool and function results may be empty: a call can return nothing.

    Why it matters:
        An empty instruction or question is usually a template whose value was never
        filled in; the model learns to answer a question nobody asked.

    Example:
        ``{"role": "user", "content": ""}``

    Fix:
        Fill in the message, or remove it (an empty system message says nothing).
    """

    code = "FT207"
    name = "empty-message"
    severity = Severity.WARNING
    sees = (Issue.EMPTY_MESSAGE,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the message's role.
        self.report(line, f"`{where}` is {article(detail)} message with empty content")


@register
class InvalidContentPart(IssueCheck):
    """A content part is malformed.

    What it does:
        Checks each part of a list content: it must be an object with a ``type``; a
        text part needs a string ``text``; an image part needs ``image_url`` as an
        object with a ``url`` that is http(s) or a base64 data URL of a JPEG, PNG or
        WEBP image of at most 10 MB, and a ``detail`` (if any) of low, high or auto.

    Why it matters:
        The service rejects the example, or cannot fetch or decode the image.

    Example:
        ``{"type": "image_url", "image_url": "https://example.com/cat.png"}`` (the url
        must be inside an object).

    Fix:
        Write parts as ``{"type": "text", "text": ...}`` and
        ``{"type": "image_url", "image_url": {"url": ...}}``.
    """

    code = "FT208"
    name = "invalid-content-part"
    severity = Severity.ERROR
    sees = (Issue.INVALID_PART,)


@register
class UnsupportedContentPart(IssueCheck):
    """A content part has a type that its role does not take.

    What it does:
        Checks part types per role: user messages take text and images, assistant
        messages text and refusals, the other roles text only. Images in assistant
        messages, audio and file parts (not supported for fine-tuning) and part types
        of other APIs (``input_text``, ``image``) are reported.

    Why it matters:
        The service rejects the example: fine-tuning does not train on images the
        assistant produces, nor on audio or files.

    Example:
        An assistant message with ``{"type": "image_url", ...}`` in its content.

    Fix:
        Move images into user messages; convert other parts to text.
    """

    code = "FT209"
    name = "unsupported-content-part"
    severity = Severity.ERROR
    sees = (Issue.UNSUPPORTED_PART,)

    def seen(self, line: int, where: str, detail: InRole) -> None:
        # The detail's value: the part's type.
        role, part_type = detail
        if part_type == "image_url":
            message = (
                f"`{where}` is an image in {article(role)} message; "
                "only user messages may hold images"
            )
        elif part_type == "refusal":
            message = (
                f"`{where}` is a refusal part in {article(role)} message; "
                "only assistant messages refuse"
            )
        elif part_type in ("input_audio", "file"):
            message = (
                f"`{where}` is {article(str(part_type))} part; "
                "fine-tuning data takes text and images only"
            )
        else:
            alias = _PART_ALIASES.get(part_type) if isinstance(part_type, str) else None
            hint = f"; chat messages call it {alias!r}" if alias else ""
            message = (
                f"`{where}` has type {quote_value(part_type)}, which {role} messages do not "
                f"take (types: {', '.join(sorted(PART_TYPES[role])) or 'none'}){hint}"
            )
        self.report(line, message)


@dataclass(frozen=True)
class _ImageOptions:
    max_images: int = option(10, "The most images one example may hold.", minimum=0)


@register
class TooManyImages(Walked):
    """An example holds more images than fine-tuning accepts.

    What it does:
        Counts the image parts of each example (input messages for preference data)
        and reports more than ``max-images`` (10, OpenAI's limit).

    Why it matters:
        Examples with more images are rejected or skipped.

    Example:
        A user message with twelve ``image_url`` parts.

    Fix:
        Split the example, or keep the images that matter.
    """

    code = "FT210"
    reads_views = False
    name = "too-many-images"
    severity = Severity.ERROR
    Options = _ImageOptions

    sees = (Issue.IMAGES,)

    def seen(self, line: int, where: str, detail: int) -> None:
        # The detail: how many images the example holds.
        if detail > self.options.max_images:
            self.report(
                line,
                f"The example holds {detail} images; at most {self.options.max_images} are "
                "allowed: split it or drop some",
            )
