"""What the checks of one file share while it is scanned: the check context.

It sits below the scan (:mod:`pytest_finetune.scan`, which builds one per file and
runs the checks) and below the configuration (:mod:`pytest_finetune.config`, which
imports the checks to select them): a check, and the helpers that take a context
(:mod:`pytest_finetune.file_conventions`, :mod:`pytest_finetune.splits`), import this
module and never the scan or the configuration. What a check reads of a file's
settings is :class:`CheckSettings`, which :class:`~pytest_finetune.config.FileSettings`
provides.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pytest_finetune.findings import Finding, Severity
from pytest_finetune.formats import Format
from pytest_finetune.redact import redact
from pytest_finetune.slots import Slot

if TYPE_CHECKING:
    from pytest_finetune.targets import Target

T = TypeVar("T")


class Declared(Protocol):
    """What the context reads of a check's declaration (see ``checks.registry.Check``)."""

    code: ClassVar[str]
    name: ClassVar[str]
    fixable: ClassVar[bool]


class ConfigOrigin(Protocol):
    """Where a file's configuration came from (see ``config_file.ConfigSource``)."""

    @property
    def path(self) -> Path | None:
        """The configuration file (``None``: built-in defaults, ini or command line)."""

    @property
    def root(self) -> Path:
        """The folder that relative paths in the configuration start from."""


class CheckSettings(Protocol):
    """What checks read of one file's settings (see ``config.FileSettings``)."""

    @property
    def checks(self) -> Sequence[type[Declared]]:
        """The checks selected for the file."""

    @property
    def options(self) -> dict[str, Any]:
        """Each check's options, by code."""

    @property
    def severities(self) -> dict[str, Severity]:
        """Each check's severity, by code."""

    @property
    def model(self) -> str | None:
        """The model the data trains, if configured."""

    @property
    def target(self) -> Target:
        """Where the data goes: its formats, limits and severities."""

    @property
    def max_line_bytes(self) -> int:
        """The longest line read as a record."""

    @property
    def config(self) -> dict[str, Any]:
        """The merged configuration table, for feature keys (training, splits, ...)."""

    @property
    def source(self) -> ConfigOrigin | None:
        """Where the configuration came from (``None``: no configuration file)."""


#: Findings kept per check and file; beyond this they are only counted.
MAX_STORED_FINDINGS = 1000


@dataclass
class DatasetStats:
    """What the summary and the report say about a file besides its findings."""

    path: str
    format: Format
    examples: int = 0
    lines: int = 0
    size: int = 0
    classes: dict[str, int] | None = None
    tokens: dict[str, Any] | None = None
    #: Further figures checks contribute (``length_bias``, ...), reported as they are.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report's view (schema version 1, without findings)."""
        data: dict[str, Any] = {
            "path": self.path,
            "format": self.format.value,
            "examples": self.examples,
            "classes": self.classes,
            "tokens": self.tokens,
        }
        data.update(self.extra)
        return data


@dataclass
class CheckOutcome:
    """The findings of one check on one file: the first ones kept, all of them counted."""

    code: str
    findings: list[Finding] = field(default_factory=list)
    #: How many findings there were of each severity, kept or not.
    counts: dict[Severity, int] = field(default_factory=dict)
    #: A crash of the check itself (a bug in pytest-finetune, not in the data).
    crash: str | None = None
    #: Why the check could not run on this file (its item is skipped, not passed).
    skipped: str | None = None
    #: The kept findings about lines, as a heap with the last by line on top.
    _last: list[_Kept] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        """How many findings there were in all."""
        return sum(self.counts.values())

    def add(self, finding: Finding) -> None:
        """Count a finding, keeping it if it is among the first by line (always, if about the file).

        Past the cap, a finding on an earlier line takes the place of the last one
        kept: what is kept depends on the data only, not on the order a check reports
        in (a set's, which changes from run to run), so reports diff cleanly.
        """
        self.tally(finding.severity)
        if finding.line is None:
            self.findings.append(finding)
            return
        kept = _Kept((finding.line, finding.column or 0, finding.message), len(self.findings))
        if len(self._last) < MAX_STORED_FINDINGS:
            heapq.heappush(self._last, kept)
            self.findings.append(finding)
        elif kept.order < self._last[0].order:
            kept.index = self._last[0].index
            heapq.heapreplace(self._last, kept)
            self.findings[kept.index] = finding

    def merge(self, later: CheckOutcome) -> None:
        """Take in the findings of the same check on a later chunk of the file.

        Kept findings are kept by line, whatever the order they come in, so the merge
        keeps what one scan of the file would have kept.
        """
        counts = dict(self.counts)
        for finding in later.findings:
            self.add(finding)
        for severity, count in later.counts.items():  # kept or not, every one counts once
            counts[severity] = counts.get(severity, 0) + count
        self.counts = counts
        self.crash = self.crash or later.crash
        self.skipped = self.skipped or later.skipped

    def tally(self, severity: Severity) -> None:
        """Count a finding without keeping it."""
        self.counts[severity] = self.counts.get(severity, 0) + 1

    def keeps(self, line: int) -> bool:
        """Whether a finding at ``line`` may be kept (else it is only counted)."""
        return len(self._last) < MAX_STORED_FINDINGS or line <= self._last[0].order[0]

    def failing(self, fail_on: Severity) -> int:
        """How many findings are at least as severe as ``fail_on``."""
        if not self.counts:  # most checks on most files (asked once per check per file)
            return 0
        return sum(count for severity, count in self.counts.items() if severity >= fail_on)

    def sorted_findings(self) -> list[Finding]:
        """Kept findings by line, file-level ones first."""
        return sorted(self.findings, key=lambda f: (f.line or 0, f.column or 0))


@dataclass(slots=True)
class _Kept:
    """A kept finding's place in the heap of :class:`CheckOutcome`: the last by line on top."""

    order: tuple[int, int, str]
    #: Where the finding is in ``CheckOutcome.findings``.
    index: int

    def __lt__(self, other: _Kept) -> bool:
        return self.order > other.order


class ScanContext:
    """What checks of one file share: where the file is, its settings and statistics."""

    def __init__(
        self,
        path: Path,
        display_path: str,
        fmt: Format,
        settings: CheckSettings,
        shared: dict[str, Any],
    ) -> None:
        self.path = path
        self.display_path = display_path
        self.format = fmt
        self.settings = settings
        self.stats = DatasetStats(display_path, fmt)
        #: Process-wide cache for work shared across files (tokenizers, split pairs).
        self.shared = shared
        #: Per-file results computed once and shared by its checks (see :meth:`cached`).
        self.cache: dict[Slot[Any], Any] = {}
        self.outcomes: dict[str, CheckOutcome] = {
            check.code: CheckOutcome(check.code) for check in settings.checks
        }

    def __getstate__(self) -> dict[str, Any]:
        # The process-wide cache stays in its process (tokenizers are large and
        # rebuilt where needed); a chunk's state travels without it.
        return {**self.__dict__, "shared": {}}

    def cached(self, slot: Slot[T], make: Callable[[], T]) -> T:
        """What ``slot`` holds for this file: made on first use, then shared by its checks."""
        if slot in self.cache:
            found: T = self.cache[slot]
            return found
        made = self.cache[slot] = make()
        return made

    def cached_for_file(self, slot: Slot[T], path: Path, make: Callable[[], T]) -> T:
        """What ``slot`` holds for the file at ``path``: made once per process and version.

        A version is the file's size and modification time: a file rewritten between
        two runs in one process (pytest's ``--looponfail``, a test) is read again.
        """
        stat = path.stat()
        key = f"{slot.name}:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        if key in self.shared:
            found: T = self.shared[key]
            return found
        made = self.shared[key] = make()
        return made

    def skip(self, check: Declared, reason: str) -> None:
        """Record that ``check`` cannot run on this file, and why (what the user can do)."""
        self.outcomes[type(check).code].skipped = reason

    def report(
        self,
        check: Declared,
        line: int | None,
        message: str,
        *,
        column: int | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Add a finding of ``check`` (its message redacted of secrets)."""
        code = type(check).code
        outcome = self.outcomes[code]
        severity = severity or self.settings.severities[code]
        if line is not None and not outcome.keeps(line):
            # Counted, not kept: skip building it (a file broken on every line of a
            # million would otherwise pay for a million redactions).
            outcome.tally(severity)
            return
        outcome.add(
            Finding(
                code=code,
                name=type(check).name,
                severity=severity,
                path=self.display_path,
                line=line,
                message=redact(message),
                fixable=type(check).fixable,
                column=column,
            )
        )
