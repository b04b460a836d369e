"""One pass over one file: every record to every selected check, findings out.

The scan reads the file once, whatever the number of checks. It holds the first
records (the head) until it has ``conventions.HEAD_RECORDS`` of them, so that checks can learn
the dataset's conventions (its separator, its stop sequence, whether it is
classification) before judging any record; after that, memory is whatever the checks
keep, which by contract does not grow with the file except for hashes of examples.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune.checks.registry import Check
from pytest_finetune.config import FileSettings
from pytest_finetune.conventions import HEAD_RECORDS
from pytest_finetune.findings import Finding, Severity
from pytest_finetune.formats import Format, Record, detect
from pytest_finetune.reader import Problem, Reader, SyntaxProblem
from pytest_finetune.redact import redact

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

    @property
    def count(self) -> int:
        """How many findings there were in all."""
        return sum(self.counts.values())

    def add(self, finding: Finding) -> None:
        """Count a finding, keeping it if there is room (always, if it is about the file)."""
        self.tally(finding.severity)
        if finding.line is None or not self.full:
            self.findings.append(finding)

    def tally(self, severity: Severity) -> None:
        """Count a finding without keeping it."""
        self.counts[severity] = self.counts.get(severity, 0) + 1

    @property
    def full(self) -> bool:
        """Whether findings about lines are only counted from now on."""
        return len(self.findings) >= MAX_STORED_FINDINGS

    def failing(self, fail_on: Severity) -> int:
        """How many findings are at least as severe as ``fail_on``."""
        return sum(count for severity, count in self.counts.items() if severity >= fail_on)

    def sorted_findings(self) -> list[Finding]:
        """Kept findings by line, file-level ones first."""
        return sorted(self.findings, key=lambda f: (f.line or 0, f.column or 0))


class ScanContext:
    """What checks of one file share: where the file is, its settings and statistics."""

    def __init__(
        self,
        path: Path,
        display_path: str,
        fmt: Format,
        settings: FileSettings,
        shared: dict[str, Any],
    ) -> None:
        self.path = path
        self.display_path = display_path
        self.format = fmt
        self.settings = settings
        self.stats = DatasetStats(display_path, fmt)
        #: Process-wide cache for work shared across files (tokenizers, split pairs).
        self.shared = shared
        #: Per-file results computed once and shared by its checks (conventions, ...).
        self.cache: dict[str, Any] = {}
        self.outcomes: dict[str, CheckOutcome] = {
            check.code: CheckOutcome(check.code) for check in settings.checks
        }

    def skip(self, check: Check, reason: str) -> None:
        """Record that ``check`` cannot run on this file, and why (what the user can do)."""
        self.outcomes[type(check).code].skipped = reason

    def report(
        self,
        check: Check,
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
        if line is not None and outcome.full:
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


@dataclass
class ScanResult:
    """Everything one scan found out about one file."""

    stats: DatasetStats
    outcomes: dict[str, CheckOutcome]


def scan(
    path: Path,
    display_path: str,
    fmt: Format,
    settings: FileSettings,
    shared: dict[str, Any] | None = None,
) -> ScanResult:
    """Read ``path`` once and run every check of ``settings`` on it."""
    context = ScanContext(path, display_path, fmt, settings, {} if shared is None else shared)
    runner = _Runner(
        context, [check(context, settings.options[check.code]) for check in settings.checks]
    )
    reader = Reader(
        path,
        max_line_bytes=settings.max_line_bytes,
        duplicate_keys=runner.reports(Problem.DUPLICATE_KEY),
    )
    head: list[Record] | None = []
    examples = 0
    visitors = runner.visitors
    for item in reader:
        if type(item) is tuple:
            examples += 1
            line, raw, data = item
            fmt = detect(data)
            if head is None:
                # The hot path: no record is built for a format no check visits.
                if visitors(fmt):
                    runner.visit(Record(line, raw, data, fmt))
                continue
            head.append(Record(line, raw, data, fmt))
            if len(head) >= HEAD_RECORDS:
                runner.start(head)
                head = None
        else:
            runner.problem(item)  # type: ignore[arg-type]
    context.stats.examples = examples
    context.stats.lines = reader.lines
    context.stats.size = reader.size
    if head is not None:
        runner.start(head)
    runner.finish()
    return ScanResult(context.stats, context.outcomes)


class _Runner:
    """Calls checks, isolating each: a check that crashes stops, and only its item fails."""

    def __init__(self, context: ScanContext, checks: list[Check]) -> None:
        self.context = context
        self.checks = checks
        #: Per format: what to call for each record, and the check each call belongs to.
        self._visitors: dict[Format, list[Callable[[Record], None]]] = {}
        self._owners: dict[Format, list[Check]] = {}
        self._problem_checks: dict[Problem, list[Check]] = {}
        for check in checks:
            for kind in type(check).problems:
                self._problem_checks.setdefault(kind, []).append(check)

    def reports(self, kind: Problem) -> bool:
        """Whether a selected check reports syntax problems of ``kind``."""
        return bool(self._problem_checks.get(kind))

    def visitors(self, fmt: Format) -> list[Callable[[Record], None]]:
        """What to call for each record of format ``fmt`` (see ``Check.visitor``)."""
        found = self._visitors.get(fmt)
        if found is None:
            found, owners = [], []
            for check in self.checks:
                visit = check.visitor(fmt)
                if visit is not None:
                    found.append(visit)
                    owners.append(check)
            self._visitors[fmt] = found
            self._owners[fmt] = owners
        return found

    def visit(self, record: Record) -> None:
        visitors = self.visitors(record.format)
        # The hot loop: one try for all checks; on a crash, find out which one from
        # the loop variable, drop it, and give the rest this record.
        visit = None
        try:
            for visit in visitors:
                visit(record)
        except Exception:
            index = visitors.index(visit)  # type: ignore[arg-type]
            owners = self._owners[record.format]
            self._crashed(owners[index], f"at line {record.line}:\n{traceback.format_exc()}")
            for rest, owner in zip(visitors[index + 1 :], owners[index + 1 :], strict=True):
                self._call(owner, rest, record)

    def start(self, head: list[Record]) -> None:
        for check in self.checks:
            self._call(check, check.begin, head)
        for record in head:
            self.visit(record)

    def problem(self, problem: SyntaxProblem) -> None:
        for check in self._problem_checks.get(problem.kind, ()):
            self._call(check, check.on_problem, problem)

    def finish(self) -> None:
        for check in self.checks:
            self._call(check, check.finish)

    def _call(self, check: Check, method: Callable[..., None], *args: Any) -> None:
        if self.context.outcomes[type(check).code].crash is not None:
            return
        try:
            method(*args)
        except Exception:
            self._crashed(check, traceback.format_exc())

    def _crashed(self, check: Check, where: str) -> None:
        self.context.outcomes[type(check).code].crash = where
        self.checks = [other for other in self.checks if other is not check]
        self._visitors.clear()
        self._owners.clear()
        for kind, checks in self._problem_checks.items():
            self._problem_checks[kind] = [other for other in checks if other is not check]
