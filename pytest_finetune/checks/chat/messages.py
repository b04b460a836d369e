"""FT201-FT204: the list of messages, the role of each, and the keys of messages and examples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from pytest_finetune.chat_schema import Issue, UnknownKey, messages_problems
from pytest_finetune.chat_schema.roles import ROLE_KEYS
from pytest_finetune.checks.chat.survey import CHAT, IssueCheck
from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.wording import did_you_mean, kind, quote_value

if TYPE_CHECKING:
    from pytest_finetune.formats import Batch

#: Names that other tools and formats use for the roles.
_ROLE_ALIASES = {
    "human": "user",
    "prompter": "user",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "chatbot": "assistant",
    "ipython": "tool",
    "function_call": "assistant",
}


@register
class InvalidMessages(Check):
    """The example has no list of messages.

    What it does:
        Reports a chat example whose ``messages`` is missing (or spelled in another
        case), is not a list, is empty, or holds items that are not objects.

    Why it matters:
        The service rejects the file: every chat example is a list of message objects.

    Example:
        ``{"messages": {"role": "user", "content": "Hi"}}`` (one message, not a list).

    Fix:
        Write ``"messages": [{"role": ..., "content": ...}, ...]`` with at least a user
        message and the assistant reply to learn.
    """

    code = "FT201"
    name = "invalid-messages"
    severity = Severity.ERROR
    formats = CHAT

    def visit(self, record: Record) -> None:
        for problem in messages_problems(record.data, "messages"):
            self.report(record.line, problem)

    def batch_visitor(self, fmt: Format) -> Callable[[Batch], None]:
        return self._visit_batch

    def _visit_batch(self, batch: Batch) -> None:
        # Where every record holds a list of message objects (nearly every batch), there
        # is nothing to report: told in a few calls over the whole batch. A chat left
        # unparsed holds one (runs.read_run validated it): the others are looked at.
        parsed: Sequence[int] = range(len(batch.raws))
        if batch.unparsed:
            parsed = [index for index, data in enumerate(batch.objects) if data is not None]
            conversations: list[Any] = [batch.data(index).get("messages") for index in parsed]
        else:
            conversations = batch.column("messages")
        if (
            set(map(type, conversations)) <= {list}
            and all(conversations)
            and set(map(type, chain.from_iterable(conversations))) <= {dict}
        ):
            return
        for index in parsed:
            self.visit(batch.record(index))


@register
class InvalidRole(IssueCheck):
    """A message has no role, or one that chat data does not know.

    What it does:
        Reports messages whose ``role`` is missing, not a string, or not one of
        ``system``, ``developer``, ``user``, ``assistant``, ``tool`` and ``function``,
        suggesting the right one for names from other formats (``human``, ``gpt``,
        ``bot``, ``model``).

    Why it matters:
        The service rejects the example; ShareGPT-style names are the usual cause.

    Example:
        ``{"role": "human", "content": "Hi"}``

    Fix:
        Use one of the roles above (``human`` is ``user``; ``gpt`` and ``bot`` are
        ``assistant``).
    """

    code = "FT202"
    name = "invalid-role"
    severity = Severity.ERROR
    sees = (Issue.INVALID_ROLE,)

    def seen(self, line: int, where: str, detail: dict[str, Any]) -> None:
        # The detail: the message, which has no valid role.
        roles = ", ".join(ROLE_KEYS)
        if "role" not in detail:
            self.report(line, f"`{where}` has no role; give it one of {roles}")
            return
        role = detail["role"]
        if not isinstance(role, str):
            self.report(line, f"`{where}.role` is {kind(role)}; it must be one of {roles}")
            return
        lowered = role.strip().lower()
        suggestion = lowered if lowered in ROLE_KEYS else _ROLE_ALIASES.get(lowered)
        hint = f"; did you mean {suggestion!r}?" if suggestion else did_you_mean(role, ROLE_KEYS)
        self.report(
            line, f"`{where}` has the unknown role {quote_value(role)} (roles: {roles}){hint}"
        )


@register
class UnknownMessageKey(IssueCheck):
    """A message has a key that its role does not take.

    What it does:
        Compares each message's keys with those its role takes (``content`` and
        ``name`` for system, developer and user; also ``tool_calls``,
        ``function_call``, ``weight`` and ``refusal`` for assistant; ``tool_call_id``
        for tool), names the role a key belongs to and suggests close spellings. A
        ``name`` that is not a non-empty string is reported too.

    Why it matters:
        The message schema allows no other keys, so the service rejects the example.
        A misspelled key (``contents``, ``tool_call``) also loses what it holds.

    Example:
        ``{"role": "user", "content": "Hi", "tool_call_id": "call_1"}``

    Fix:
        Remove the key, or move or rename it as the message suggests.
    """

    code = "FT203"
    name = "unknown-message-key"
    severity = Severity.ERROR
    sees = (Issue.UNKNOWN_MESSAGE_KEY,)

    def seen(self, line: int, where: str, detail: UnknownKey | object) -> None:
        # ``where``: the message, and the detail the key it does not take; or a name
        # that is not a non-empty string (``where``: the name, the detail: its value).
        if not isinstance(detail, UnknownKey):
            self.report(line, f"`{where}` is {quote_value(detail)}; it must be a non-empty string")
            return
        key, allowed, role = detail.key, detail.known, detail.holder
        owners = [other for other, keys in ROLE_KEYS.items() if key in keys and other != role]
        if owners:
            hint = f"; it belongs on {' and '.join(owners)} messages"
        else:
            hint = did_you_mean(key, allowed)
        self.report(
            line,
            f"`{where}` has the key {quote_value(key)}, which {role} messages do not take "
            f"(keys: {', '.join(sorted(allowed))}){hint}",
        )


@register
class UnknownExampleKey(IssueCheck):
    """An example has a top-level key that is not part of its format.

    What it does:
        Reports keys beside ``messages``, ``tools``, ``parallel_tool_calls`` and
        ``functions`` in chat examples, and beside ``input``, ``preferred_output`` and
        ``non_preferred_output`` (or their older names) in preference pairs, with a
        did-you-mean for misspellings.

    Why it matters:
        The key does not train anything: at best the service ignores it, at worst it
        rejects the file. Often it is metadata (``id``, ``source``) that belongs in a
        separate file, or a misspelled ``tools``.

    Example:
        ``{"messages": [...], "source": "support-tickets"}``

    Fix:
        Remove the key (keep metadata in a separate file keyed by line), or correct
        its spelling.
    """

    code = "FT204"
    reads_views = False
    name = "unknown-example-key"
    severity = Severity.WARNING
    sees = (Issue.UNKNOWN_EXAMPLE_KEY,)

    def seen(self, line: int, where: str, detail: UnknownKey) -> None:
        # ``where``: the key's path (``input.source``); the detail: what holds it.
        if detail.case_of is not None:
            hint = f"; keys are case-sensitive: did you mean {detail.case_of!r}?"
        else:
            hint = did_you_mean(detail.key, detail.known)
        self.report(
            line,
            f"Key `{where}` is not part of {detail.holder} "
            f"(keys: {', '.join(sorted(detail.known))}): the service ignores or rejects it{hint}",
        )
