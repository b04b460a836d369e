"""FT730-FT732: Amazon Bedrock's records for Claude (``system`` + ``messages``) and Nova.

Claude 3 Haiku's fine-tuning data is described in Anthropic's cookbook "Finetuning
Claude 3 Haiku on Bedrock"
(https://platform.claude.com/cookbook/finetuning-finetuning-on-bedrock); Nova's in the
Amazon Nova user guide, "Preparing data for fine-tuning Understanding models"
(https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html)
and "Preparing data for SFT on Amazon Nova 2"
(https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-data-prep-sft-2.html).
Both take conversations that start with the user, alternate, and end on the assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.wording import did_you_mean, kind, quote, quote_value

CLAUDE = frozenset({Format.CLAUDE})
NOVA = frozenset({Format.NOVA})
ROLES = ("user", "assistant")
CLAUDE_KEYS = frozenset({"system", "messages"})
MESSAGE_KEYS = frozenset({"role", "content"})
#: Nova's content blocks, and those an assistant turn may hold (Nova 2 adds documents,
#: reasoning and tool use to Nova 1's text, images and videos).
NOVA_BLOCKS = ("text", "image", "video", "document", "reasoningContent", "toolUse", "toolResult")
NOVA_ASSISTANT_BLOCKS = frozenset({"text", "reasoningContent", "toolUse"})
#: Words that fail a Nova training job when a user or system prompt holds them.
NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")


@register
class InvalidClaudeExample(Check):
    """A Claude record has keys, a system prompt or messages that Bedrock does not take.

    What it does:
        Checks Bedrock's Claude fine-tuning records as Anthropic's cookbook describes
        them: only the keys ``system`` (optional, a string) and ``messages``; each
        message only ``role`` (``user`` or ``assistant``) and ``content``, a string
        (or a list of text blocks, as the Messages API writes it).

    Why it matters:
        "No extraneous keys are allowed": Bedrock validates the file when the job
        starts and fails it, after the upload.

    Example:
        ``{"system": "Be brief.", "messages": [...], "id": 17}``

    Fix:
        Remove other keys (keep metadata in a separate file), and write the system
        prompt as one string.
    """

    code = "FT730"
    name = "invalid-claude-example"
    severity = Severity.ERROR
    formats = CLAUDE

    def visit(self, record: Record) -> None:
        for problem in claude_problems(record.data):
            self.report(record.line, problem)


def claude_problems(data: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the keys and types of one Claude record."""
    for key in data:
        if key not in CLAUDE_KEYS:
            yield f"{quote_value(key)} is not a key of Claude data (keys: messages, system)" + (
                did_you_mean(key, CLAUDE_KEYS) if isinstance(key, str) else ""
            )
    system = data.get("system")
    if system is not None and not isinstance(system, str) and not _text_blocks(system):
        yield f"`system` is {kind(system)}; it must be a string"
    messages = data.get("messages")
    if not isinstance(messages, list):
        yield f"`messages` is {kind(messages)}; it must be a list of messages"
        return
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            yield f"`{where}` is {kind(message)}, not a message object"
            continue
        for key in message:
            if key not in MESSAGE_KEYS:
                yield (
                    f"`{where}` has the key {quote_value(key)}; messages take role and content only"
                )
        if message.get("role") not in ROLES:
            yield _role_problem(message, where)
        content = message.get("content")
        if not isinstance(content, str) and not _text_blocks(content):
            yield (
                f"`{where}.content` is {kind(content)}; it must be a string "
                '(or a list of {"type": "text", "text": ...} blocks)'
            )


def _text_blocks(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
            for block in value
        )
    )


def _role_problem(message: dict[str, Any], where: str) -> str:
    if "role" not in message:
        return f"`{where}` has no role; give it user or assistant"
    role = message["role"]
    hint = ""
    if isinstance(role, str):
        hint = (
            "; the system prompt goes in the top-level `system`"
            if role == "system"
            else did_you_mean(role, ROLES)
        )
    return f"`{where}.role` is {quote_value(role)}; the roles are user and assistant{hint}"


@register
class InvalidNovaExample(Check):
    """A Nova record's schema version, system prompt or content blocks are not Nova's.

    What it does:
        Checks Nova's ``bedrock-conversation-2024`` records as the Amazon Nova user
        guide describes them: ``schemaVersion`` a string (any, the guide says; the
        samples write ``bedrock-conversation-2024``); ``system`` (optional) a
        list of ``{"text": ...}`` blocks; each message's ``role`` ``user`` or
        ``assistant`` and its ``content`` a list of blocks, each one of ``text``,
        ``image``, ``video``, ``document``, ``reasoningContent``, ``toolUse`` and
        ``toolResult``; assistant turns with text, reasoning and tool use only; at
        most one video per example, and not both images and videos; no reserved
        word (``User:``, ``Bot:``, ``Assistant:``, ``System:``, ``<image>``,
        ``<video>``, ``[EOS]``) in a user or system prompt.

    Why it matters:
        The guide says a training job whose prompts hold a reserved word fails
        "due to data issues"; the other rules are the schema Bedrock validates
        before training.

    Example:
        ``"messages": [{"role": "user", "content": "Hi"}, ...]`` (content is a list of
        blocks: ``[{"text": "Hi"}]``).

    Fix:
        Write every content as a list of blocks, keep images and videos in user
        turns, and reword prompts that use the reserved words.
    """

    code = "FT731"
    name = "invalid-nova-example"
    severity = Severity.ERROR
    formats = NOVA

    def visit(self, record: Record) -> None:
        for problem in nova_problems(record.data):
            self.report(record.line, problem)


def nova_problems(data: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the shape of one Nova record."""
    version = data.get("schemaVersion", "")
    if not isinstance(version, str):
        yield f"`schemaVersion` is {kind(version)}; it must be a string (bedrock-conversation-2024)"
    if "system" in data:
        system = data["system"]
        if not isinstance(system, list) or not all(
            isinstance(block, dict) and isinstance(block.get("text"), str) for block in system
        ):
            yield f'`system` is {quote_value(system)}; it must be a list of {{"text": ...}} blocks'
        else:
            for index, block in enumerate(system):
                yield from _reserved(block["text"], f"system[{index}].text")
    messages = data.get("messages")
    if not isinstance(messages, list):
        yield f"`messages` is {kind(messages)}; it must be a list of messages"
        return
    media: dict[str, int] = {"image": 0, "video": 0}
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            yield f"`{where}` is {kind(message)}, not a message object"
            continue
        role = message.get("role")
        if role not in ROLES:
            yield _role_problem(message, where)
        yield from _blocks(message.get("content"), where, role, media)
    if media["video"] > 1:
        yield f"The example holds {media['video']} videos; an example holds at most one"
    if media["video"] and media["image"]:
        yield (
            "The example holds both images and videos; a dataset is text with images "
            "or text with videos"
        )


def _blocks(content: object, where: str, role: object, media: dict[str, int]) -> Iterator[str]:
    if not isinstance(content, list) or not content:
        what = "empty" if isinstance(content, list) else kind(content)
        yield f'`{where}.content` is {what}; it must be a list of blocks such as {{"text": ...}}'
        return
    for index, block in enumerate(content):
        path = f"{where}.content[{index}]"
        if not isinstance(block, dict) or len(block) != 1:
            yield (
                f"`{path}` is {quote_value(block)}; a block is an object with one key, "
                'such as {"text": ...}'
            )
            continue
        name = next(iter(block))
        if name not in NOVA_BLOCKS:
            yield (
                f"`{path}` is a {quote_value(name)} block; "
                f"Nova's blocks are {', '.join(NOVA_BLOCKS)}"
            )
        elif role == "assistant" and name not in NOVA_ASSISTANT_BLOCKS:
            yield (
                f"`{path}` is {name} in an assistant turn; assistant turns hold text and reasoning"
            )
        elif name == "text":
            if not isinstance(block["text"], str):
                yield f"`{path}.text` is {kind(block['text'])}; it must be a string"
            elif role == "user":
                yield from _reserved(block["text"], f"{path}.text")
        elif name in media:
            media[name] += 1


def _reserved(text: str, where: str) -> Iterator[str]:
    for word in NOVA_RESERVED:
        if word in text:
            yield (
                f"`{where}` holds the reserved word {word!r} ({quote(text, 40)}); "
                "Nova fails the job"
            )
            return


@register
class BedrockRoleOrder(Check):
    """A Bedrock conversation does not start with the user, alternate and end on the assistant.

    What it does:
        Checks the messages of Claude and Nova records: at least two, the first from
        the user, the last from the assistant, and the roles alternating, as
        Anthropic's cookbook (Claude) and the Amazon Nova user guide require.
        Messages without a valid role are FT730's and FT731's.

    Why it matters:
        Bedrock refuses the data when the job starts; a conversation ending on a user
        turn has nothing to learn.

    Example:
        ``user``, ``user``, ``assistant``, or a conversation ending on ``user``.

    Fix:
        Merge consecutive turns of one role, and end on the assistant's reply.
    """

    code = "FT732"
    name = "bedrock-role-order"
    severity = Severity.ERROR
    formats = CLAUDE | NOVA

    def visit(self, record: Record) -> None:
        messages = record.data.get("messages")
        if not isinstance(messages, list):
            return
        roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
        if any(role not in ROLES for role in roles):
            return  # FT730's or FT731's
        problem = _order_problem(roles)
        if problem:
            self.report(record.line, problem)


def _order_problem(roles: list[Any]) -> str | None:
    if len(roles) < 2:
        return (
            f"`messages` holds {len(roles)} message(s); "
            "it needs a user turn and the assistant's reply"
        )
    if roles[0] != "user":
        return "`messages[0]` is from the assistant; the conversation starts with the user"
    for index in range(1, len(roles)):
        if roles[index] == roles[index - 1]:
            return (
                f"`messages[{index}]` is a second {roles[index]} message in a row; "
                "user and assistant turns alternate"
            )
    if roles[-1] != "assistant":
        return (
            f"`messages[{len(roles) - 1}]` is from the user; "
            "the conversation ends on the assistant's reply"
        )
    return None
