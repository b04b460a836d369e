"""One pass over one file: every record to every selected check, findings out.

The scan reads the file once, whatever the number of checks; a large file may be read
as chunks in parallel, whose checks' states merge into the same findings (the
splitting and the processes are :mod:`pytest_finetune.chunks`'s). It holds the first
records (the head) until it has ``conventions.HEAD_RECORDS`` of them, so that checks can learn
the dataset's conventions (its separator, its stop sequence, whether it is
classification) before judging any record. After the head, records reach the checks
in batches of one format, which a check may take in one call (``Check.batch_visitor``)
where it can test all of them at once over whole lists. Memory is whatever the checks
keep, which by contract does not grow with the file except for hashes of examples.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress, groupby, repeat
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

from pytest_finetune.batching import Batches, records, stretches
from pytest_finetune.checks.context import CheckOutcome, DatasetStats, ScanContext
from pytest_finetune.checks.registry import Check
from pytest_finetune.config import FileSettings
from pytest_finetune.conventions import HEAD_RECORDS
from pytest_finetune.conversions import OPENAI, READABLE, openai_shape, to_openai
from pytest_finetune.duplicate_keys import duplicate_key, suspects
from pytest_finetune.formats import Batch, Format, Record
from pytest_finetune.reader import WHOLE, Problem, Reader, Run, Span, SyntaxProblem
from pytest_finetune.runs import PLAIN_CHAT, PLAIN_NONE, PLAIN_PROMPT_COMPLETION

#: Records between two calls of a scan's ``progress``: a few a second on a large file.
PROGRESS_RECORDS = 8192
#: Records of one format given to the checks at a time (the head's records go in one
#: batch a run of one format): enough that a test over whole lists costs little a
#: record, few enough that they stay in the cache.
BATCH_RECORDS = 256
#: The plain lines a file of each format may leave unparsed (see ``runs.read_run``).
_PLAIN_LINES = {Format.PROMPT_COMPLETION: PLAIN_PROMPT_COMPLETION, Format.CHAT: PLAIN_CHAT}
#: Containers made between two runs of the cyclic garbage collector, while a file is
#: read (see ``_spaced_collections``).
COLLECTION_THRESHOLD = 20_000


@dataclass
class ScanResult:
    """Everything one scan found out about one file."""

    stats: DatasetStats
    outcomes: dict[str, CheckOutcome]


@dataclass(frozen=True)
class Chunk:
    """One part of one file to scan: where it is, how to check it, which bytes.

    A whole file is one chunk (``span`` :data:`~pytest_finetune.reader.WHOLE`);
    :func:`pytest_finetune.chunks.split` cuts a large JSON Lines file into several, to
    scan in parallel processes (or on other machines) and :func:`merge`.
    """

    path: Path
    display_path: str
    format: Format
    settings: FileSettings
    span: Span = WHOLE


@dataclass
class ChunkState:
    """What the checks learnt from one chunk, findings included: picklable, mergeable.

    ``checks`` are the check instances in the order of the file's settings, holding
    what each keeps across records; ``complete`` is false when the chunk's reading
    stopped at a problem that ends the file, after which later chunks are ignored.
    """

    context: ScanContext
    checks: list[Check]
    examples: int
    lines: int
    size: int
    complete: bool


def scan(
    path: Path,
    display_path: str,
    fmt: Format,
    settings: FileSettings,
    shared: dict[str, Any] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Read ``path`` once and run every check of ``settings`` on it, in this process.

    ``progress``, if given, is called every :data:`PROGRESS_RECORDS` records with the
    records and the bytes read so far.
    """
    shared = {} if shared is None else shared
    chunk = Chunk(path, display_path, fmt, settings)
    return merge([scan_chunk(chunk, shared, progress=progress)], shared)


def scan_chunk(
    chunk: Chunk,
    shared: dict[str, Any] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ChunkState:
    """Run the checks of ``chunk`` on its records, without concluding (see :func:`merge`).

    Every chunk learns the dataset's conventions from the same records, the file's
    first :data:`~pytest_finetune.conventions.HEAD_RECORDS`, and reports findings on
    its own records only. ``progress`` is as for :func:`scan`, counting from the chunk's
    start.
    """
    return ChunkScan(chunk, shared).run(progress)


class ChunkScan:
    """One chunk's scan in two steps: its checks made, then its records read.

    A part of a file learns from the file's head when its checks are made. Made before
    processes are forked, its checks load what they need (a tokenizer) once, into
    ``shared``, which the processes inherit.
    """

    def __init__(self, chunk: Chunk, shared: dict[str, Any] | None = None) -> None:
        self.chunk = chunk
        settings = chunk.settings
        self.context = ScanContext(
            chunk.path, chunk.display_path, chunk.format, settings, {} if shared is None else shared
        )
        self.checks = [
            check(self.context, settings.options[check.code]) for check in settings.checks
        ]
        self.runner = _Runner(self.context, self.checks)
        # One chunk, the whole file: the head is the first records read, held until the
        # checks have learnt from them. A part of a file reads the file's head first.
        self.head: list[Record] | None = [] if chunk.span == WHOLE else None
        if self.head is None:
            self.runner.begin(_head(chunk.path, settings.max_line_bytes))

    def run(self, progress: Callable[[int, int], None] | None = None) -> ChunkState:
        """Read the chunk's records: what the checks kept of them."""
        with _spaced_collections():
            return self._run(progress)

    def _run(self, progress: Callable[[int, int], None] | None) -> ChunkState:
        chunk, runner, head = self.chunk, self.runner, self.head
        # The runner looks for duplicate keys, a batch at a time, rather than the reader
        # a line at a time: most batches are cleared in a few calls.
        reader = Reader(
            chunk.path,
            max_line_bytes=chunk.settings.max_line_bytes,
            duplicate_keys=False,
            span=chunk.span,
        )
        examples = 0
        batches = Batches(runner.visit_batch, BATCH_RECORDS)
        # Plain prompt/completion and chat lines are left unparsed, for the checks that
        # read them in C (see ``formats.Batch``): where the file holds them.
        for run in reader.runs(lazy=_PLAIN_LINES.get(chunk.format, PLAIN_NONE)):
            if type(run) is SyntaxProblem:
                batches.flush()  # the records before the problem are seen first
                runner.problem(run)
                continue
            assert isinstance(run, Run)
            # A line's ending is about no record: FT008 counts the lines that end with
            # CRLF, in whatever order, and a file saved on Windows keeps its batches.
            for index in run.crlf:
                runner.problem(SyntaxProblem(Problem.CRLF, run.first_line + index))
            for fmt, start, stop in stretches(run):
                rest = start  # where the records past the head start
                if head is not None:
                    rest = min(stop, start + HEAD_RECORDS - len(head))
                    head += records(run, fmt, start, rest)
                    if len(head) >= HEAD_RECORDS:
                        runner.start(head)
                        head = None
                batches.add(fmt, run, rest, stop)
            before = examples
            examples += len(run.raws)
            if progress is not None and examples // PROGRESS_RECORDS > before // PROGRESS_RECORDS:
                progress(examples, reader.position() - chunk.span.start)
        batches.flush()
        if head is not None:
            runner.start(head)
        return ChunkState(
            self.context, self.checks, examples, reader.lines, reader.size, not reader.stopped
        )


def merge(states: list[ChunkState], shared: dict[str, Any] | None = None) -> ScanResult:
    """Merge the states of a file's chunks, in file order, and conclude the checks.

    Each check takes in the state of the same check on the chunk after its own
    (``Check.merge``); then every check reports what needs the whole file, as after a
    scan of the file in one go: the findings are the same.
    """
    first = states[0]
    context = first.context
    context.shared = {} if shared is None else shared
    runner = _Runner(context, first.checks)
    stats = context.stats
    stats.examples, stats.lines, stats.size = first.examples, first.lines, first.size
    complete = first.complete
    for later in states[1:]:
        if not complete:
            break  # the file ended for the checks where reading stopped
        for code, outcome in later.context.outcomes.items():
            context.outcomes[code].merge(outcome)
        for check, other in zip(first.checks, later.checks, strict=True):
            runner.call(check, check.merge, other)
        stats.examples += later.examples
        stats.lines, stats.size = later.lines, later.size
        complete = later.complete
    runner.finish()
    return ScanResult(stats, context.outcomes)


@contextmanager
def _spaced_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while a file is read.

    A scan makes millions of containers (each record's objects), which reference
    counting frees; the collector, run every 700 of them by default, found nothing to
    collect and took 8% of a chat file's time. It runs every
    :data:`COLLECTION_THRESHOLD` containers during the scan, and as before after it.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], COLLECTION_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _head(path: Path, max_line_bytes: int) -> list[Record]:
    """The file's first records, as a scan of the whole file holds them for ``begin``."""
    head: list[Record] = []
    for run in Reader(path, max_line_bytes=max_line_bytes, duplicate_keys=False).runs():
        if type(run) is Run:
            for fmt, start, stop in stretches(run):
                head += records(run, fmt, start, min(stop, start + HEAD_RECORDS - len(head)))
        if len(head) >= HEAD_RECORDS:
            break
    return head


class _Runner:
    """Calls checks, isolating each: a check that crashes stops, and only its item fails."""

    def __init__(self, context: ScanContext, checks: list[Check]) -> None:
        self.context = context
        self.checks = checks
        #: Per format: what to call for each record, and the check each call belongs to.
        self._visitors: dict[Format, list[Callable[[Record], None]]] = {}
        self._owners: dict[Format, list[Check]] = {}
        #: Per format: the batch visitors and their checks, then the per-record
        #: visitors of the other checks (see :meth:`visit_batch`).
        self._batched: dict[Format, _BatchPlan] = {}
        #: Per (format, format of its view): the checks that judge the view, and how.
        self._view_visitors: dict[tuple[Format, Format], list[tuple[Check, Any]]] = {}
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
            if _has_view(fmt) and any(type(check).reads_views for check in self.checks):
                # Converting never raises (conversions' contract), so this never crashes.
                found.append(self._visit_view)
                owners.append(self.checks[0])
            self._visitors[fmt] = found
            self._owners[fmt] = owners
        return found

    def visit_batch(self, batch: Batch) -> None:
        """Give ``batch`` to each check's batch visitor, and its records to the others.

        First, the keys repeated in its records go to the checks that report them.
        """
        objects = batch.objects
        # A line left unparsed was read in C, two different keys: the others are looked at.
        unparsed = objects.count(None) if batch.unparsed else 0
        if unparsed == 0:
            self._duplicates(batch.lines, batch.raws, objects)  # type: ignore[arg-type]
        elif unparsed < len(objects):
            parsed = list(compress(range(len(objects)), map(is_not, objects, repeat(None))))
            self._duplicates(
                [batch.lines[index] for index in parsed],
                [batch.raws[index] for index in parsed],
                [objects[index] for index in parsed],  # type: ignore[misc]
            )
        self._visit_batch(batch)

    def _visit_batch(self, batch: Batch) -> None:
        fmt = batch.format
        plan = self._batched.get(fmt)
        if plan is None:
            plan = self._plan_batches(fmt)
        for visit, owner in plan.batched:
            try:
                visit(batch)
            except Exception:
                first, last = batch.lines[0], batch.lines[-1]
                where = f"at line {first}" if first == last else f"in lines {first} to {last}"
                self._crashed(owner, f"{where}:\n{traceback.format_exc()}")
        if plan.each:
            for record in batch.records():
                # A crash clears the plans: the next record finds the checks left.
                plan = self._batched.get(fmt) or self._plan_batches(fmt)
                self._visit(record, plan.each, plan.owners)

    def _plan_batches(self, fmt: Format) -> _BatchPlan:
        plan = _BatchPlan([], [], [])
        for visit, owner in zip(self.visitors(fmt), self._owners[fmt], strict=True):
            batch_visit = None if visit == self._visit_view else owner.batch_visitor(fmt)
            if batch_visit is None:
                plan.each.append(visit)
                plan.owners.append(owner)
            else:
                plan.batched.append((batch_visit, owner))
        self._batched[fmt] = plan
        return plan

    def _visit(
        self, record: Record, visitors: list[Callable[[Record], None]], owners: list[Check]
    ) -> None:
        # The hot loop: one try for all checks; on a crash, find out which one from
        # the loop variable, drop it, and give the rest this record.
        visit = None
        try:
            for visit in visitors:
                visit(record)
        except Exception:
            index = visitors.index(visit)  # type: ignore[arg-type]
            self._crashed(owners[index], f"at line {record.line}:\n{traceback.format_exc()}")
            for rest, owner in zip(visitors[index + 1 :], owners[index + 1 :], strict=True):
                self.call(owner, rest, record)

    def start(self, head: list[Record]) -> None:
        """Let the checks learn from the head, then visit its records.

        First, the keys repeated in its records go to the checks that report them.
        """
        self._duplicates(
            [record.line for record in head],
            [record.raw for record in head],
            [record.data for record in head],
        )
        self.begin(head)
        # Then in batches of one format, as the records after the head: a small file is
        # all head.
        for fmt, group in groupby(head, key=attrgetter("format")):
            records = list(group)
            self._visit_batch(
                Batch(
                    fmt,
                    [record.line for record in records],
                    [record.raw for record in records],
                    [record.data for record in records],
                )
            )

    def begin(self, head: list[Record]) -> None:
        # Checks of chat and preference data learn from the head as they will judge it:
        # records of the trainers' formats as OpenAI data.
        views = [view(record) if _has_view(record.format) else record for record in head]
        for check in self.checks:
            self.call(check, check.begin, head if type(check).formats is None else views)

    def _visit_view(self, record: Record) -> None:
        """Give the checks of OpenAI data a record of another format, read as OpenAI data.

        Only checks that do not look at the record's own format take the view, so that
        nothing is judged twice; findings keep the record's line.
        """
        seen = view(record)
        key = (record.format, seen.format)
        visitors = self._view_visitors.get(key)
        if visitors is None:
            visitors = self._view_visitors[key] = [
                (check, visit)
                for check in self.checks
                # A check of every format (formats None) saw the record itself.
                if type(check).reads_views
                and type(check).formats is not None
                and check.visitor(record.format) is None
                and (visit := check.visitor(seen.format)) is not None
            ]
        for check, visit in visitors:
            self.call(check, visit, seen)

    def _duplicates(self, lines: list[int], raws: list[bytes], datas: list[dict[str, Any]]) -> None:
        if not self.reports(Problem.DUPLICATE_KEY):
            return
        for index in suspects(raws, datas):
            key = duplicate_key(raws[index], datas[index])
            if key is not None:
                self.problem(SyntaxProblem(Problem.DUPLICATE_KEY, lines[index], key))

    def problem(self, problem: SyntaxProblem) -> None:
        for check in self._problem_checks.get(problem.kind, ()):
            self.call(check, check.on_problem, problem)

    def finish(self) -> None:
        for check in self.checks:
            self.call(check, check.finish)

    def call(self, check: Check, method: Callable[..., None], *args: Any) -> None:
        """Call a method of ``check``; if it raises, the check has crashed and stops."""
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
        self._batched.clear()
        self._view_visitors.clear()
        for kind, checks in self._problem_checks.items():
            self._problem_checks[kind] = [other for other in checks if other is not check]


@dataclass
class _BatchPlan:
    """How the checks of one format take a batch: in one call, or record by record."""

    batched: list[tuple[Callable[[Batch], None], Check]]
    each: list[Callable[[Record], None]]
    owners: list[Check]


def _has_view(fmt: Format) -> bool:
    """Whether records of ``fmt`` are also read as OpenAI data (the trainers' formats)."""
    return fmt not in OPENAI and fmt in READABLE


def runs_on(check: type[Check], fmt: Format) -> bool:
    """Whether ``check`` runs on a file of format ``fmt``: on its records, or their views."""
    known = _RUNS_ON.get((check, fmt))
    if known is None:
        known = _RUNS_ON[check, fmt] = check.applies_to(fmt) or (
            _has_view(fmt)
            and check.reads_views
            and check.formats is not None
            and check.applies_to(openai_shape(fmt))
        )
    return known


#: What :func:`runs_on` answered, asked of every selected check for each file collected.
_RUNS_ON: dict[tuple[type[Check], Format], bool] = {}


def view(record: Record) -> Record:
    """``record`` read as OpenAI data: chat, preference or prompt/completion, same line.

    What has no OpenAI equivalent is left out of the view; the format's own checks
    (FT7xx) report what is malformed.
    """
    converted = to_openai(record.format, record.data)
    return Record(record.line, record.raw, converted.data, converted.format, record.format)
