"""The walk over a record: every message in order, each checked once for every concern."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_finetune.chat_schema import tools
from pytest_finetune.chat_schema.analysis import Analysis, InRole, Issue
from pytest_finetune.chat_schema.content import check_content, is_blank
from pytest_finetune.chat_schema.order import Conversation
from pytest_finetune.chat_schema.roles import (
    CHAT_KEYS,
    OUTPUT_KEYS,
    PREFERENCE_INPUT_KEYS,
    PREFERENCE_KEYS,
    ROLE_KEYS,
    message_keys,
    unknown_example_keys,
)
from pytest_finetune.formats import Format, Record

#: What a message without calls returns: no call ids, no function call.
_NO_CALLS: tuple[Sequence[str], None] = ((), None)


def analyse(record: Record) -> Analysis:
    """The message-level problems of a chat or preference record."""
    analysis = Analysis()
    if record.format is Format.PREFERENCE:
        _analyse_preference(record.data, analysis)
    else:
        _analyse_chat(record.data, analysis)
    return analysis


def _analyse_chat(data: dict[str, Any], analysis: Analysis) -> None:
    unknown_example_keys(data, CHAT_KEYS, "a chat example", analysis)
    declared, parallel = tools.declarations(data, "", analysis)
    messages = data.get("messages")
    if isinstance(messages, list):
        Walk(analysis, declared, parallel).conversation(messages, "messages", chat=True)


def _analyse_preference(data: dict[str, Any], analysis: Analysis) -> None:
    unknown_example_keys(data, PREFERENCE_KEYS, "a preference pair", analysis)
    source = data.get("input")
    declared: frozenset[str] | None = None
    parallel = True
    if isinstance(source, dict):
        unknown_example_keys(source, PREFERENCE_INPUT_KEYS, "the input", analysis)
        declared, parallel = tools.declarations(source, "input.", analysis)
    walk = Walk(analysis, declared, parallel)
    if isinstance(source, dict) and isinstance(source.get("messages"), list):
        walk.conversation(source["messages"], "input.messages", chat=False)
    # The outputs' count, role and emptiness are the FT3xx checks' to report; here
    # they are assistant messages like any other.
    for key in OUTPUT_KEYS:
        output = data.get(key)
        if isinstance(output, list):
            for index, message in enumerate(output):
                if isinstance(message, dict):
                    walk.message(message, "assistant", f"{key}[{index}]", output=True)


class Walk:
    """One pass over the messages of a record, in order."""

    __slots__ = ("analysis", "declared", "parallel")

    def __init__(self, analysis: Analysis, declared: frozenset[str] | None, parallel: bool) -> None:
        self.analysis = analysis
        self.declared = declared
        self.parallel = parallel

    def conversation(self, messages: list[Any], where: str, *, chat: bool) -> None:
        """Check every message and their order; ``chat``: also what a chat example needs."""
        conversation = Conversation(self.analysis, where)
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue  # reported with the list itself
            role = message.get("role")
            if not isinstance(role, str) or role not in ROLE_KEYS:
                conversation.invalid(message, index)
                continue
            path = f"{where}[{index}]"
            conversation.step(message, role, index, path, self.message(message, role, path))
        conversation.end(messages, chat=chat)

    def message(
        self, message: dict[str, Any], role: str, path: str, *, output: bool = False
    ) -> tuple[Sequence[str], str | None]:
        """Check one message's keys, content and calls; return its call ids and function call."""
        # The usual message, {"role": ..., "content": "some text"}, has nothing else to check.
        content = message.get("content")
        if len(message) == 2 and type(content) is str and not is_blank(content) and not output:
            return _NO_CALLS
        analysis = self.analysis
        message_keys(analysis, message, role, path, output=output)
        ids: Sequence[str] = ()
        function_name: str | None = None
        has_call = False
        if role == "assistant":
            if message.get("tool_calls") is not None:
                has_call = True
                ids = tools.tool_calls(
                    analysis, message["tool_calls"], path, self.declared, self.parallel
                )
            function_call = message.get("function_call")
            if function_call is not None:
                has_call = True
                function_name = tools.function_call(
                    analysis, function_call, f"{path}.function_call", self.declared
                )
            refusal = message.get("refusal")
            if refusal is not None and not isinstance(refusal, str):
                analysis.see(Issue.INVALID_CONTENT, f"{path}.refusal", InRole(role, refusal))
            # A refusal or an audio reply stands in for the text.
            has_call = has_call or isinstance(refusal, str) or message.get("audio") is not None
        check_content(analysis, message, role, path, has_call=has_call, output=output)
        return ids, function_name
