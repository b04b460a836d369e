"""What the walk over a record finds: problems sorted by :class:`Issue`, and images."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Issue(enum.Enum):
    """A kind of message-level problem; each is reported by one FT2xx check."""

    INVALID_ROLE = enum.auto()
    UNKNOWN_MESSAGE_KEY = enum.auto()
    UNKNOWN_EXAMPLE_KEY = enum.auto()
    INVALID_CONTENT = enum.auto()
    EMPTY_ASSISTANT = enum.auto()
    EMPTY_MESSAGE = enum.auto()
    INVALID_PART = enum.auto()
    UNSUPPORTED_PART = enum.auto()
    NO_ASSISTANT = enum.auto()
    NO_USER = enum.auto()
    INVALID_WEIGHT = enum.auto()
    NOTHING_TRAINED = enum.auto()
    INVALID_TOOL_CALL = enum.auto()
    UNDECLARED_TOOL = enum.auto()
    INVALID_TOOL_NAME = enum.auto()
    INVALID_TOOL_DEFINITION = enum.auto()
    UNMATCHED_TOOL_RESPONSE = enum.auto()
    UNANSWERED_TOOL_CALL = enum.auto()
    TOO_MANY_TOOL_CALLS = enum.auto()
    CONSECUTIVE_ROLE = enum.auto()
    MISPLACED_SYSTEM = enum.auto()
    LAST_NOT_TRAINED = enum.auto()


@dataclass(slots=True)
class Analysis:
    """What the walk over one record found: issues by kind, and the images it counted."""

    issues: dict[Issue, list[str]] = field(default_factory=dict)
    images: int = 0

    def add(self, issue: Issue, message: str) -> None:
        """Note one problem."""
        self.issues.setdefault(issue, []).append(message)
