"""The schema walk over each record, shared by every message-level FT2xx check.

One walk per record (:func:`pytest_finetune.chat_schema.analyse`) finds every issue;
each is reported by the member check of its kind, if that check is selected and
applies to the record's format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pytest_finetune.chat_schema import Issue, analyse
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.formats import Format, Record

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext

CHAT = frozenset({Format.CHAT})
MESSAGES = frozenset({Format.CHAT, Format.PREFERENCE})


class _ImageCount(Protocol):
    """What the walk asks of the check of images per example (FT2xx in ``content.py``)."""

    options: Any

    @property
    def reads_views(self) -> bool:
        """Whether the check judges records viewed from another format."""

    def found(self, line: int, images: int) -> None:
        """Report an example with ``images`` images at ``line``."""


class _Walk(Survey):
    """The schema walk over each record, reported by the members of each issue's kind."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.by_issue: dict[Issue, IssueCheck] = {}
        self.images: _ImageCount | None = None

    def visit(self, record: Record) -> None:
        analysis = analyse(record)
        view = record.source is not None
        if analysis.issues:
            fmt = record.format
            for issue, messages in analysis.issues.items():
                member = self.by_issue.get(issue)
                if member is not None and type(member).applies_to(fmt):
                    if view and not member.reads_views:
                        continue
                    for message in messages:
                        member.report(record.line, message)
        images = self.images
        if images is None or (view and not images.reads_views):
            return
        if analysis.images > images.options.max_images:
            images.found(record.line, analysis.images)

    def merge(self, later: _Walk) -> None:
        """Nothing to merge: the walk reports each record as it visits it."""


class Walked(Surveyed):
    """A check of chat messages: the file's schema walk visits the records for it."""

    formats = MESSAGES
    survey_type = _Walk
    survey: _Walk


class IssueCheck(Walked):
    """A check that reports the issues of one kind that the schema walk finds."""

    issue: ClassVar[Issue]

    def begin(self, head: list[Record]) -> None:
        super().begin(head)
        self.survey.by_issue[self.issue] = self
