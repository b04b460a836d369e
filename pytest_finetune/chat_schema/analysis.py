"""What the walk over a record sees: problems sorted by :class:`Issue`, and images.

Each issue is one FT2xx check's sight: the walk notes where it saw one and the detail,
and the check (in ``checks/chat/``) judges and words it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Issue(enum.Enum):
    """A kind of message-level problem; each is judged by one FT2xx check."""

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
    #: Not a problem by itself: an example's images, counted (FT210 judges how many).
    IMAGES = enum.auto()


class UnknownKey(NamedTuple):
    """The detail of a key where it is not taken, in an example or a message."""

    key: str
    #: The keys taken there.
    known: frozenset[str]
    #: What holds it: ``a chat example``, ``the input``, or a message's role.
    holder: str
    #: The known key it spells in another case, where the record lacks that key.
    case_of: str | None = None


class InRole(NamedTuple):
    """The detail of a sight in a message: the message's role, and the value seen."""

    role: str
    value: object


class Unanswered(NamedTuple):
    """The detail of calls that no result answers: their ids, or the function called."""

    calls: tuple[str, ...]
    function: str | None
    #: The message before which the results were due (``None``: the example's end).
    before: str | None


@dataclass(slots=True)
class Analysis:
    """What the walk over one record saw: by issue, where and the detail of each sight."""

    issues: dict[Issue, list[tuple[str, Any]]] = field(default_factory=dict)
    images: int = 0

    def see(self, issue: Issue, where: str, detail: Any = None) -> None:
        """Note one sight of ``issue`` at ``where`` (a path in the record)."""
        self.issues.setdefault(issue, []).append((where, detail))
