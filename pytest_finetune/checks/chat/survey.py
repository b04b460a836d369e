"""The schema walk over each record, shared by every message-level FT2xx check.

One walk per record (:func:`pytest_finetune.chat_schema.analyse`) sees every issue;
each is told to the member check that judges its kind (its sight, an :class:`Issue`),
if that check is selected and applies to the record's format.
"""

from __future__ import annotations

from itertools import chain, compress, repeat
from typing import TYPE_CHECKING, Any

from pytest_finetune import extensions
from pytest_finetune.chat_schema import Issue, analyse
from pytest_finetune.chat_schema.analysis import Analysis
from pytest_finetune.chat_schema.content import is_blank
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.formats import Format, Record

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext
    from pytest_finetune.formats import Batch

CHAT = frozenset({Format.CHAT})
#: Orders of roles remembered clean, at most: a conversation's length is unbounded.
MAX_CLEAN_ROLES = 10_000
MESSAGES = frozenset({Format.CHAT, Format.PREFERENCE})


class _Walk(Survey):
    """The schema walk over each record, told to the members that judge what it sees."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.images: Surveyed | None = None
        #: The roles, in order, of plain chats walked clean (see :meth:`visit_batch`).
        self.clean_roles: set[tuple[str, ...]] = set()

    def ready(self) -> None:
        self.images = self.watchers.get(Issue.IMAGES)

    def visit(self, record: Record) -> None:
        self._tell(record, analyse(record))

    def visit_batch(self, batch: Batch) -> None:
        """What :meth:`visit` does for each record of ``batch``, walking fewer of them.

        Where the extension is built, its screen (``extensions.chats_to_walk``) leaves
        out the chats of the usual shapes, with or without tools, in which the walk would
        certainly see nothing. In pure Python, plain chats (only ``messages``, each a role
        and a text that is not blank) are left out instead: the walk can see nothing in
        one but what the order of its roles shows, so once a plain chat is walked clean,
        the plain chats with the same roles are clean too.
        """
        if batch.format is not Format.CHAT:
            for record in batch.records():
                self.visit(record)
            return
        screen = extensions.chats_to_walk
        if screen is not None:
            # A chat left unparsed (a plain one: see runs.read_run) is read from its line.
            for index in screen(batch.objects, batch.raws):
                self.visit(batch.record(index))
            return
        clean = self.clean_roles
        for index, roles in enumerate(_plain_roles(batch.datas, batch.column("messages"))):
            if roles is not None and roles in clean:
                continue
            record = batch.record(index)
            analysis = analyse(record)
            walked_clean = not analysis.issues and not analysis.images
            if roles is not None and walked_clean and len(clean) < MAX_CLEAN_ROLES:
                clean.add(roles)
            self._tell(record, analysis)

    def _tell(self, record: Record, analysis: Analysis) -> None:
        """Tell the members what the walk saw in ``record``."""
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


def _plain_roles(
    datas: list[dict[str, Any]], conversations: list[Any]
) -> list[tuple[str, ...] | None]:
    """For each chat, its roles in order if it is plain (see ``_Walk.visit_batch``)."""
    plain = [
        len(data) == 1 and type(messages) is list
        for data, messages in zip(datas, conversations, strict=True)
    ]
    messages = list(chain.from_iterable(compress(conversations, plain)))
    if set(map(type, messages)) - {dict}:
        return [None] * len(datas)
    # A message is plain with a role and a text that is not blank, and nothing else.
    plain_messages = [
        len(message) == 2
        and type(text := message.get("content")) is str
        and not is_blank(text)
        and type(message.get("role")) is str
        for message in messages
    ]
    roles: list[Any] = list(map(dict.get, messages, repeat("role")))
    found: list[tuple[str, ...] | None] = []
    start = 0
    for chat, messages_of in zip(plain, conversations, strict=True):
        if not chat:
            found.append(None)
            continue
        end = start + len(messages_of)
        found.append(tuple(roles[start:end]) if all(plain_messages[start:end]) else None)
        start = end
    return found


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
