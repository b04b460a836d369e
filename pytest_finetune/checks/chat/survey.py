"""The schema walk over each record, shared by every message-level FT2xx check.

One walk per record (:func:`pytest_finetune.chat_schema.analyse`) sees every issue;
each is told to the member check that judges its kind (its sight, an :class:`Issue`),
if that check is selected and applies to the record's format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_finetune.chat_schema import Issue, analyse
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.formats import Format, Record

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext

CHAT = frozenset({Format.CHAT})
MESSAGES = frozenset({Format.CHAT, Format.PREFERENCE})


class _Walk(Survey):
    """The schema walk over each record, told to the members that judge what it sees."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.images: Surveyed | None = None

    def ready(self) -> None:
        self.images = self.watchers.get(Issue.IMAGES)

    def visit(self, record: Record) -> None:
        analysis = analyse(record)
        view = record.source is not None
        line = record.line
        if analysis.issues:
            fmt = record.format
            watchers = self.watchers
            for issue, sights in analysis.issues.items():
                member = watchers.get(issue)
                if member is not None and type(member).applies_to(fmt):
                    if view and not member.reads_views:
                        continue
                    for where, detail in sights:
                        member.seen(line, where, detail)
        images = self.images
        if images is None or not analysis.images or (view and not images.reads_views):
            return
        images.seen(line, "", analysis.images)

    def merge(self, later: _Walk) -> None:
        """Nothing to merge: the walk reports each record as it visits it."""


class Walked(Surveyed):
    """A check of chat messages: the file's schema walk visits the records for it."""

    formats = MESSAGES
    survey_type = _Walk
    survey: _Walk


class IssueCheck(Walked):
    """A check that judges the issues of one kind that the schema walk sees."""

    def seen(self, line: int, where: str, detail: Any) -> None:
        # What a validator of the schema sees (a malformed part, call, tool definition or
        # result) is what is wrong with ``where``, in words: the detail is that phrase.
        self.report(line, f"`{where}` {detail}")
