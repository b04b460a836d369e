"""Per-record work that the checks of a family share, done once for all of them.

Many checks of a family look at the same parts of each record (the prompt, the
completion, the label). Called one by one, each would pay for a call and the same
lookups on every record; a survey does the looking once per record for all of them.
Its first member is its driver: the scan calls the survey through that check (see
:meth:`Check.visitor`), and no other member costs a call per record.

Every family speaks to its checks the same way, as a linter's shared walk speaks to its
rules. The survey is a detector: it does the cheap looking, and each kind of thing it
can see is a member of its family's :class:`enum.Enum` (its sights). A check declares
the sights it judges (``sees``); where the survey sees one, it calls that check's
``seen`` with the line, where in the record, and the detail, and the check decides
whether that is a finding and words it, in its own module. A check is called only
where its sight was seen, so it costs nothing on the other records. What needs the
whole file, the survey gathers (``enlist`` says what) and the check judges in
``judge``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_finetune.checks.registry import Check
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import Self  # typing's from Python 3.11

    from pytest_finetune.checks.context import ScanContext
    from pytest_finetune.formats import Batch, Format, Record


class Survey:
    """What one file's members of a family learn about it, record by record."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        self.context = context
        self.members: dict[str, Check] = {}
        #: The member told of each kind of sight (see :attr:`Surveyed.sees`).
        self.watchers: dict[enum.Enum, Surveyed] = {}
        self.driver: Check | None = None
        #: Whether the survey needs to see records at all (set while it is built).
        self.active = True
        self._concluded = False

    def join(self, check: Surveyed) -> None:
        """Add a member, told of its sights if it watches them here; the first drives."""
        self.members[type(check).code] = check
        if self.driver is None:
            self.driver = check
        check.enlist()
        if check.watches():
            for sight in type(check).sees:
                self.watchers[sight] = check
        self.ready()

    def applies_to(self, fmt: Format) -> bool:
        """Whether any member checks records of format ``fmt``."""
        return any(type(member).applies_to(fmt) for member in self.members.values())

    def ready(self) -> None:
        """Read the watchers into what the hot path tests (after each member joins)."""

    def visit(self, record: Record) -> None:
        """Look at one record for every member."""

    #: What :meth:`Surveyed.batch_visitor` offers the scan, if the survey has one: a
    #: method doing for a :class:`~pytest_finetune.formats.Batch` what :meth:`visit`
    #: does for each of its records (see ``Check.batch_visitor``).
    visit_batch: Callable[[Batch], None] | None = None

    def merge(self, later: Self) -> None:
        """Take in what the survey of a later chunk of the file learnt (see ``Check.merge``).

        Every survey keeps something across records, so each family says how it merges.
        """
        raise NotImplementedError(f"{type(self).__qualname__} cannot merge chunks")

    def conclude(self) -> None:
        """Work out, once, what needs the whole file (members then read it)."""

    def concluded(self) -> None:
        """Conclude if no member has yet; a member whose survey crashed cannot judge."""
        driver = self.driver
        if driver is not None and self.context.outcomes[driver.code].crash is not None:
            # The driver's item shows the traceback; the others must not pass unseen.
            raise RuntimeError(
                f"its family's survey crashed while {driver.code} drove it; see {driver.code}"
            )
        if not self._concluded:
            self._concluded = True
            self.conclude()


class Surveyed(Check):
    """A check whose per-record work is done by its family's survey."""

    survey_type: ClassVar[type[Survey]]
    survey: Any
    #: The kinds of thing, seen in a record, that this check judges: its family's
    #: sights. The survey calls :meth:`seen` for each one it sees.
    sees: ClassVar[tuple[enum.Enum, ...]] = ()

    def begin(self, head: list[Record]) -> None:
        self.survey = _survey_of(self.context, self.survey_type, head)
        self.survey.join(self)

    def enlist(self) -> None:
        """Tell the survey what to gather over the whole file for :meth:`judge`."""

    def watches(self) -> bool:
        """Whether to be told of ``sees`` in this file.

        ``False`` where the file's head shows that nothing seen could be a finding: the
        survey then calls for nothing.
        """
        return True

    def seen(self, line: int, where: str, detail: Any) -> None:
        """Judge what the survey saw at ``line``, in ``where``: report it if it is a finding.

        ``detail`` is what the sight's kind says it is (the text, the value, a count).
        """

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        # Only the driver is called per record, and it calls the survey directly.
        survey: Survey = self.survey
        if survey.driver is self and survey.active and survey.applies_to(fmt):
            return survey.visit
        return None

    def batch_visitor(self, fmt: Format) -> Callable[[Batch], None] | None:
        return self.survey.visit_batch if self.visitor(fmt) is not None else None

    def merge(self, later: Self) -> None:
        # The survey is merged once, by its driver (the members share it).
        if self.survey.driver is self:
            self.survey.merge(later.survey)

    def finish(self) -> None:
        self.survey.concluded()
        self.judge()

    def judge(self) -> None:
        """Report what the survey found for this check over the whole file."""


def _survey_of(context: ScanContext, kind: type[Survey], head: list[Record]) -> Survey:
    slot = _SLOTS.get(kind)
    if slot is None:
        slot = _SLOTS[kind] = Slot(f"survey:{kind.__module__}.{kind.__qualname__}")
    return context.cached(slot, lambda: kind(context, head))


#: Each kind of survey's slot in a file's cache.
_SLOTS: dict[type[Survey], Slot[Survey]] = {}
