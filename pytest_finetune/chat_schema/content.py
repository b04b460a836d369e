"""Content and its parts: text, images and refusals, which roles take which, and emptiness."""

from __future__ import annotations

import re
from typing import Any

from pytest_finetune.chat_schema.analysis import Analysis, InRole, Issue
from pytest_finetune.chat_schema.roles import RESULT_ROLES
from pytest_finetune.wording import file_size, kind, quote_value

#: The content part types each role takes; others are reported.
PART_TYPES: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "developer": frozenset({"text"}),
    "user": frozenset({"text", "image_url"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
    "function": frozenset(),
}
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
_IMAGE_DETAIL = frozenset({"auto", "low", "high"})
#: OpenAI's limit on one image in fine-tuning data.
MAX_IMAGE_BYTES = 10 * 1000 * 1000


def content_text(content: object) -> str | None:
    """The text of a message's content: the string, or its text parts joined.

    ``None`` when the content holds no text at all (null, a number, only images).
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
        return "".join(texts) if texts else None
    return None


def is_blank(text: str) -> bool:
    """Whether ``text`` is empty or only whitespace (without copying it)."""
    return not text or text.isspace()


def check_content(
    analysis: Analysis,
    message: dict[str, Any],
    role: str,
    path: str,
    *,
    has_call: bool,
    output: bool,
) -> None:
    """See a message's content of the wrong type, missing where needed, or empty."""
    see = analysis.see
    content = message.get("content")
    if content is None:
        if has_call or role == "function" or output:
            return  # outputs without text are the preference checks' to report
        # The detail's value: whether the key is there (null) or not.
        see(Issue.INVALID_CONTENT, path, InRole(role, "content" in message))
        return
    if isinstance(content, str):
        blank = is_blank(content)
    elif isinstance(content, list) and role != "function":
        blank = _parts(analysis, content, role, path)
    else:
        see(Issue.INVALID_CONTENT, f"{path}.content", InRole(role, content))
        return
    if not blank or has_call or output or role in RESULT_ROLES:
        return
    if role == "assistant":
        see(Issue.EMPTY_ASSISTANT, path)
    else:
        see(Issue.EMPTY_MESSAGE, path, role)


def _parts(analysis: Analysis, parts: list[Any], role: str, path: str) -> bool:
    """Check content parts; return whether they are empty (only blank text)."""
    see = analysis.see
    allowed = PART_TYPES[role]
    empty = True
    for index, part in enumerate(parts):
        where = f"{path}.content[{index}]"
        # A malformed part is reported as such, not as emptiness.
        empty = empty and isinstance(part, dict) and part.get("type") in ("text", "refusal")
        if not isinstance(part, dict):
            see(
                Issue.INVALID_PART,
                where,
                f'is {kind(part)}, not a content part; write {{"type": "text", "text": ...}}',
            )
            continue
        part_type = part.get("type")
        if part_type == "image_url":
            analysis.images += 1
        if part_type is None:
            see(Issue.INVALID_PART, where, "has no type")
        elif not isinstance(part_type, str) or part_type not in allowed:
            analysis.see(Issue.UNSUPPORTED_PART, where, InRole(role, part_type))
            empty = False
        elif part_type in ("text", "refusal"):
            value = part.get(part_type)
            if not isinstance(value, str):
                see(
                    Issue.INVALID_PART,
                    where,
                    f"is a {part_type} part whose {part_type} is {kind(value)}",
                )
                empty = False
            elif not is_blank(value):
                empty = False
        else:
            problem = _image_problem(part.get("image_url"))
            if problem:
                see(Issue.INVALID_PART, where, problem)
    return empty


def _image_problem(image: object) -> str | None:
    if isinstance(image, str):
        return 'has image_url as a string; it must be an object: {"url": ...}'
    if not isinstance(image, dict):
        return "is an image part without an image_url object"
    url = image.get("url")
    if not isinstance(url, str) or not url:
        return "is an image part without a url"
    detail = image.get("detail")
    if detail is not None and (not isinstance(detail, str) or detail not in _IMAGE_DETAIL):
        return f"has the image detail {quote_value(detail)}; use low, high or auto"
    if url.startswith(("https://", "http://")):
        host = url.partition("://")[2][:1]
        return None if host not in ("", "/") else f"has the url {quote_value(url)} without a host"
    if not url.startswith("data:"):
        return f"has the url {quote_value(url)}, which is neither http(s) nor a base64 data URL"
    comma = url.find(",")
    header = url[5:comma] if comma >= 0 else url[5:100]
    # data:image/png[;name=value...];base64,DATA
    mime, *parameters = header.split(";")
    encoding = parameters[-1] if parameters else ""
    if comma < 0 or comma == len(url) - 1:
        return f"has a data URL without image data: {quote_value(url)}"
    if encoding != "base64":
        return (
            f"has a data URL that is not base64 ({quote_value(url[: comma + 1])}); "
            "use data:image/png;base64,..."
        )
    if mime.lower() not in _IMAGE_TYPES:
        return f"has a data URL of type {quote_value(mime)}; images must be JPEG, PNG or WEBP"
    if not _BASE64.fullmatch(url, comma + 1):
        return "has a data URL whose data is not base64"
    size = (len(url) - comma - 1) * 3 // 4
    if size > MAX_IMAGE_BYTES:
        return f"holds an image of {file_size(size)}; the limit is {file_size(MAX_IMAGE_BYTES)}"
    return None
