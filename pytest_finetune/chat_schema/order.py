"""Role order: who speaks when, which calls are answered, and what the example trains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_finetune.chat_schema.analysis import Analysis, Issue, Unanswered
from pytest_finetune.chat_schema.roles import INSTRUCTION_ROLES, RESULT_ROLES
from pytest_finetune.wording import did_you_mean


class Conversation:
    """The order of one conversation's messages: roles, calls and their answers."""

    __slots__ = (
        "analysis",
        "answered",
        "assistants",
        "calling",
        "has_user",
        "known",
        "last",
        "last_trained",
        "pending",
        "pending_function",
        "previous",
        "roles_valid",
        "started",
        "where",
    )

    def __init__(self, analysis: Analysis, where: str) -> None:
        self.analysis = analysis
        self.where = where
        self.previous: str | None = None
        self.started = False
        self.roles_valid = True
        self.has_user = False
        self.assistants = 0
        self.last_trained = -1
        self.last = -1
        # The calls of the latest calling assistant turn still waiting for an answer.
        self.pending: dict[str, None] = {}
        self.pending_function: str | None = None
        self.calling = -1
        self.known: set[str] = set()
        self.answered: set[str] = set()

    def invalid(self, message: dict[str, Any], index: int) -> None:
        """A message without a valid role: seen, and left out of the order checks."""
        self.analysis.see(Issue.INVALID_ROLE, f"{self.where}[{index}]", message)
        self.roles_valid = False
        self.previous = None
        self.last = index

    def step(
        self,
        message: dict[str, Any],
        role: str,
        index: int,
        path: str,
        calls: tuple[Sequence[str], str | None],
    ) -> None:
        """Take the next message, with the ids of its tool calls and its function call."""
        self.last = index
        if self.pending or self.pending_function is not None or role in RESULT_ROLES:
            self._results(message, role, path)
        if role == "assistant":
            ids, function_name = calls
            if ids:
                self.pending = dict.fromkeys(ids)
                self.known.update(ids)
                self.calling = index
            if function_name is not None:
                self.pending_function = function_name
                self.calling = index
            self.assistants += 1
            # An invalid weight is reported as such; the reply counts as trained.
            weight = message.get("weight")
            if weight != 0 or isinstance(weight, bool):
                self.last_trained = index
        elif role == "user":
            self.has_user = True
        if role == self.previous and role != "tool":
            self.analysis.see(Issue.CONSECUTIVE_ROLE, path, role)
        if role not in INSTRUCTION_ROLES:
            self.started = True
        elif self.started:
            self.analysis.see(Issue.MISPLACED_SYSTEM, path, role)
        self.previous = role

    def _results(self, message: dict[str, Any], role: str, path: str) -> None:
        """Match tool and function results with the calls just before them."""
        if role == "tool":
            self._answer(message, path)
        elif self.pending:
            self._unanswered(path)
            self.pending = {}
        if role == "function":
            self._function_result(message, path)
            self.pending_function = None
        elif self.pending_function is not None:
            self._unanswered_function(path)
            self.pending_function = None

    def end(self, messages: list[Any], *, chat: bool) -> None:
        """Report what the whole conversation lacks."""
        # The last message may make calls: it is the turn being trained.
        if self.pending and self.calling != self.last:
            self._unanswered(None)
        if self.pending_function is not None and self.calling != self.last:
            self._unanswered_function(None)
        if not self.roles_valid or self.last < 0:
            return
        if not self.has_user:
            self.analysis.see(Issue.NO_USER, self.where)
        if chat:
            self._trained(messages[self.last])

    def _trained(self, last: dict[str, Any]) -> None:
        see = self.analysis.see
        if not self.assistants:
            see(Issue.NO_ASSISTANT, self.where)
        elif self.last_trained < 0:
            see(Issue.NOTHING_TRAINED, self.where, self.assistants)
        elif self.last_trained != self.last:
            # The detail: the role of the last message, which is not a trained reply.
            see(Issue.LAST_NOT_TRAINED, f"{self.where}[{self.last}]", last.get("role"))

    def _answer(self, message: dict[str, Any], path: str) -> None:
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            problem = "has no tool_call_id; a tool message answers one call by its id"
        elif call_id in self.pending:
            del self.pending[call_id]
            self.answered.add(call_id)
            return
        elif call_id in self.answered:
            problem = f"answers call {call_id!r} a second time"
        elif call_id in self.known:
            problem = f"answers call {call_id!r}, but other messages come between the call and it"
        else:
            hint = did_you_mean(call_id, self.pending) if self.pending else ""
            problem = f"answers call {call_id!r}, which no earlier assistant message makes{hint}"
        self.analysis.see(Issue.UNMATCHED_TOOL_RESPONSE, path, f"{problem}")

    def _function_result(self, message: dict[str, Any], path: str) -> None:
        name = message.get("name")
        pending = self.pending_function
        if pending is None:
            problem = "gives a function result, but the message before it calls no function"
        elif not isinstance(name, str) or not name:
            problem = f"has no name; it must name the function called, {pending!r}"
        elif name != pending:
            problem = f"gives the result of {name!r}, but the call before it is to {pending!r}"
        else:
            return
        self.analysis.see(Issue.UNMATCHED_TOOL_RESPONSE, path, f"{problem}")

    def _unanswered(self, before: str | None) -> None:
        self.analysis.see(
            Issue.UNANSWERED_TOOL_CALL,
            f"{self.where}[{self.calling}]",
            Unanswered(tuple(self.pending), None, before),
        )

    def _unanswered_function(self, before: str | None) -> None:
        self.analysis.see(
            Issue.UNANSWERED_TOOL_CALL,
            f"{self.where}[{self.calling}]",
            Unanswered((), self.pending_function, before),
        )
