"""The collection tree: a :class:`DatasetFile` per dataset, and its test items.

A dataset has one :class:`ChecksItem` that runs every check (``items = "file"``, the
default), or a :class:`CheckItem` per check (``items = "check"``, and any run with
``-k``, which selects checks by code or name). An item costs pytest about a
millisecond whatever it does: a folder of 2,000 small files is 2,000 items, not
100,000.

Collecting a file reads at most its first records (to know the format, hence which
checks apply), and only where its items depend on them: with an item per check, or
when no selected check runs on every file. Otherwise the first item to run reads them,
and collection (which each pytest-xdist worker does for every file) reads nothing.
The scan is done once per file, lazily, by the first of its items to run, and
shared by the others; only the checks whose items are still selected (after ``-k``
and deselection) run. A ``[[tool.pytest_finetune.train]]`` declaration whose training
file is this dataset adds a :class:`TrainItem` beside its check items.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_finetune.checks import Check
from pytest_finetune.chunks import scan_file
from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import render_list
from pytest_finetune.formats import Format
from pytest_finetune.lint import cannot_read, narrow, narrow_to, settings_of
from pytest_finetune.lookahead import Lookahead, Scanned, Upcoming
from pytest_finetune.outputs.progress import terminal_progress
from pytest_finetune.outputs.results import scan_payload
from pytest_finetune.pools import jobs_of
from pytest_finetune.redact import redact
from pytest_finetune.scan import ScanResult
from pytest_finetune.training.session import (
    SKIP_REASON,
    Outcome,
    entry_spec,
    entry_train_path,
    execute,
    item_name,
)
from pytest_finetune.wording import plural

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle


@dataclass
class RunState:
    """What the plugin keeps for one pytest run (one per process under xdist)."""

    #: ``None`` when the configuration is broken: then ``error`` says why.
    valid: Settings | None
    #: The configuration error found when pytest started: reported once finetune is used.
    error: str | None = None
    #: Whether a ``*.jsonl`` file was left uncollected because of ``error``.
    refused: bool = False
    #: Work shared across files within this process (tokenizers, split pairs, ...).
    shared: dict[str, Any] = field(default_factory=dict)
    #: Dataset node id -> the codes of its check items still selected, once known.
    _selected: dict[str, set[str]] | None = None
    #: Dataset node id -> how many of its check items have not reported yet.
    _unreported: dict[str, int] = field(default_factory=dict)
    #: The scans of the small datasets to come, once the first is asked for.
    _lookahead: Lookahead | None = None
    #: Whether the first dataset asked for has started it (or found it would not gain).
    _looked_ahead: bool = False

    @property
    def settings(self) -> Settings:
        """The configuration; a :class:`ConfigError` (the one found at start) if it is broken."""
        if self.valid is None:
            raise ConfigError(self.error or "invalid configuration")
        return self.valid

    def selected(self, session: pytest.Session, dataset: pytest.File) -> set[str]:
        """The codes of ``dataset``'s check items left after ``-k`` and deselection.

        Gathered from the session's items once for every dataset: asking each file to
        walk all items would cost files times items.
        """
        if self._selected is None:
            self._selected = {}
            for item in session.items:
                if isinstance(item, CheckItem):
                    self._selected.setdefault(item.parent.nodeid, set()).add(item.check.code)
                elif isinstance(item, ChecksItem):
                    codes = {check.code for check in item.parent.settings.checks}
                    self._selected.setdefault(item.parent.nodeid, set()).update(codes)
                else:
                    continue
                unreported = self._unreported.get(item.parent.nodeid, 0)
                self._unreported[item.parent.nodeid] = unreported + 1
        return self._selected.get(dataset.nodeid, set())

    def scanned_ahead(self, dataset: DatasetFile) -> Scanned | None:
        """``dataset``'s scan if it ran ahead in another process; ``None`` to scan it here.

        The first dataset asked for starts the scans of those after it, in the order
        their items run: each of the processes (one per core) scans small files while
        this one reports. Not in a pytest-xdist worker, whose workers are the processes.
        """
        if not self._looked_ahead:
            self._looked_ahead = True
            if not hasattr(dataset.config, "workerinput"):
                upcoming = list(self._upcoming(dataset.session))
                self._lookahead = Lookahead.start(upcoming, self.shared)
        # By path: two files whose names hold keys may have the same masked node id.
        return None if self._lookahead is None else self._lookahead.take(str(dataset.path))

    def _upcoming(self, session: pytest.Session) -> Iterator[Upcoming]:
        """The datasets whose items are to run, in their order, with the checks selected."""
        checking = (item for item in session.items if isinstance(item, CheckItem | ChecksItem))
        for dataset in dict.fromkeys(item.parent for item in checking):
            settings = self.selected_settings(session, dataset)
            yield Upcoming(
                str(dataset.path), dataset.path, dataset.display_path, dataset.format, settings
            )

    def selected_settings(self, session: pytest.Session, dataset: DatasetFile) -> FileSettings:
        """``dataset``'s settings with only the checks whose items are still selected."""
        selected = self.selected(session, dataset)
        checks = [check for check in dataset.settings.checks if check.code in selected]
        return dataclasses.replace(dataset.settings, checks=checks)

    def close(self) -> None:
        """Stop the scans ahead (the run ended, or stopped short)."""
        if self._lookahead is not None:
            self._lookahead.close()

    def reported(self, item: CheckItem | ChecksItem) -> None:
        """Count ``item``'s report; after the last of its dataset's items, drop the scan.

        The reports carry what the summary and the report files need: a folder of
        thousands of datasets would otherwise keep every scan until the run ends.
        Items that this process does not run (another xdist worker's) keep the
        scan: never dropped early, at worst kept.
        """
        dataset = item.parent
        left = self._unreported.get(dataset.nodeid)
        if left is None:
            return  # the file was never scanned
        if left > 1:
            self._unreported[dataset.nodeid] = left - 1
        else:
            del self._unreported[dataset.nodeid]
            dataset.forget()


STATE = pytest.StashKey[RunState]()


class ConfigProblem(Exception):
    """A configuration error found while collecting a file."""


class DatasetUnreadable(Exception):
    """The dataset could not be read: deleted since collection, or not readable."""


class FindingsFailed(Exception):
    """A check found problems at or above the fail-on severity."""


class DatasetFile(pytest.File):
    """A JSONL dataset: its children are the checks that apply to its format."""

    settings: FileSettings
    #: Read from the file's first records by collection, or by the first item to run.
    format: Format | None = None
    _result: ScanResult | None = None
    _unreadable: str | None = None

    @classmethod
    def from_parent(cls, parent: pytest.Collector, *, path: Path, **kwargs: Any) -> DatasetFile:  # type: ignore[override]
        """The file's node; its id masked if its path holds a secret (see ``display_path``)."""
        try:
            relative = path.relative_to(parent.config.rootpath).as_posix()
        except ValueError:
            relative = None
        if relative is not None and redact(relative) != relative:
            # The id shows in the progress, the summary and JUnit.
            kwargs["nodeid"] = redact(relative)
        return super().from_parent(parent, path=path, **kwargs)

    def collect(self) -> Iterator[pytest.Item]:
        try:
            self.settings = settings_of(self.path, self.config.stash[STATE].settings)
            if self.per_check or all(check.formats is not None for check in self.settings.checks):
                # Which items there are depends on the format.
                self.format = narrow(self.path, self.settings)
            else:
                # One item whatever the format: the first to run reads it (each of
                # pytest-xdist's workers collects every file, and runs only some).
                with self.path.open("rb"):
                    pass  # an unreadable file is still a collection error
        except ConfigError as error:
            raise ConfigProblem(str(error)) from None
        except OSError as error:
            raise DatasetUnreadable(cannot_read(self.display_path, error)) from None
        if self.per_check:
            for check in self.settings.checks:
                yield CheckItem.from_parent(self, name=check.slug(), check=check)
        elif self.settings.checks:
            yield ChecksItem.from_parent(self, name=ChecksItem.NAME)
        entries = self.settings.config.get("train", [])
        if not entries:
            return  # (resolving the path takes a stat for each of its parts: 25 µs a file)
        source = self.settings.source
        root = source.root if source else self.config.rootpath
        here = self.path.resolve()
        names: set[str] = set()
        for index, entry in enumerate(entries):
            if entry_train_path(entry, root) == here:
                name = item_name(entry)
                if name in names:
                    name = f"{name[:-1]}#{index + 1}]"
                names.add(name)
                yield TrainItem.from_parent(self, name=name, entry=entry, index=index, root=root)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ConfigProblem | DatasetUnreadable):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    @property
    def per_check(self) -> bool:
        """Whether the dataset has an item per check (else one for all of them)."""
        return self.settings.config.get("items") == "check" or bool(
            self.config.getoption("keyword", None)
        )

    @property
    def display_path(self) -> str:
        """The path as findings show it: relative to the rootdir, with forward slashes.

        Masked as any text from the data is: a key in a file name must not reach the
        report, SARIF, annotations or JUnit either.
        """
        try:
            shown = self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            shown = os.path.relpath(self.path).replace(os.sep, "/")
        return redact(shown)

    def forget(self) -> None:
        """Drop the scan: its items have reported (scanned again if one runs again)."""
        self._result = None

    def result(self) -> ScanResult:
        """The scan of this file, done on first use by the checks still selected.

        :class:`DatasetUnreadable` if the file cannot be read (deleted since collection):
        each of its items then fails with that line, and the other files run.
        """
        if self._unreadable is not None:
            raise DatasetUnreadable(self._unreadable)
        if self._result is None:
            state = self.config.stash[STATE]
            progress = None
            try:
                ahead = state.scanned_ahead(self)
                if ahead is not None:
                    if self.format is None:
                        self.format = ahead.format
                        narrow_to(self.settings, ahead.format)
                    self._result = ahead.result
                    return self._result
                if self.format is None:
                    self.format = narrow(self.path, self.settings)
                settings = state.selected_settings(self.session, self)
                args = (self.path, self.display_path, self.format, settings, state.shared)
                progress = terminal_progress(self.config, self.path.stat().st_size)
                self._result = scan_file(*args, jobs=jobs_of(settings), progress=progress)
            except OSError as error:
                self._unreadable = cannot_read(self.display_path, error)
                raise DatasetUnreadable(self._unreadable) from None
            finally:
                if progress is not None:
                    progress.close()
        return self._result


class CheckItem(pytest.Item):
    """One check on one dataset: fails when the check reports a failing finding."""

    parent: DatasetFile

    def __init__(self, *, check: type[Check], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        outcome = self.parent.result().outcomes[self.check.code]
        if outcome.crash is not None:
            raise RuntimeError(
                f"pytest-finetune bug: check {self.check.slug()} crashed {outcome.crash}\n"
                "Please report it with the lines above; the other checks are not affected."
            )
        if outcome.failing(self.parent.settings.fail_on):
            raise FindingsFailed()
        if outcome.skipped is not None and not outcome.count:
            pytest.skip(outcome.skipped)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, DatasetUnreadable):
            return str(excinfo.value)
        if not isinstance(excinfo.value, FindingsFailed):
            return super().repr_failure(excinfo, style)
        outcome = self.parent.result().outcomes[self.check.code]
        counts = ", ".join(
            plural(outcome.counts[severity], str(severity))
            for severity in sorted(outcome.counts, reverse=True)
        )
        header = f"{self.check.code} {self.check.name}: {counts} in {self.parent.display_path}"
        return "\n".join([header, *render_list(outcome.sorted_findings(), outcome.count)])

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The name alone, as pytest's own items give their function's: a domain that
        # ends the node id has its dots turned into "::" by ``-v`` (good::jsonl::...).
        # The first line of a failure names the file. Line 0 (shown as line 1): a skip
        # mark needs a location.
        return Path(redact(str(self.path))), 0, self.name

    def payloads(self) -> list[dict[str, Any]]:
        """What this item's report carries to the summary and the report files.

        Nothing when the file could not be read: the item's failure says so.
        """
        try:
            result = self.parent.result()
        except DatasetUnreadable:
            return []
        return [scan_payload(result.stats, [result.outcomes[self.check.code]])]


class ChecksItem(pytest.Item):
    """Every check on one dataset: fails when any check reports a failing finding.

    The failure lists each failing check's findings, as the items of those checks would.
    """

    NAME = "checks"
    parent: DatasetFile

    def runtest(self) -> None:
        outcomes = self.parent.result().outcomes.values()
        crashed = [outcome for outcome in outcomes if outcome.crash is not None]
        if crashed:
            raise RuntimeError(
                "\n".join(
                    f"pytest-finetune bug: check {outcome.code} crashed {outcome.crash}"
                    for outcome in crashed
                )
                + "\nPlease report it with the lines above; the other checks are not affected."
            )
        if any(outcome.failing(self.parent.settings.fail_on) for outcome in outcomes):
            raise FindingsFailed()

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, DatasetUnreadable):
            return str(excinfo.value)
        if not isinstance(excinfo.value, FindingsFailed):
            return super().repr_failure(excinfo, style)
        fail_on = self.parent.settings.fail_on
        sections = []
        for check in self.parent.settings.checks:
            outcome = self.parent.result().outcomes.get(check.code)
            if outcome is None or not outcome.failing(fail_on):
                continue
            counts = ", ".join(
                plural(outcome.counts[severity], str(severity))
                for severity in sorted(outcome.counts, reverse=True)
            )
            sections.append(
                "\n".join(
                    [
                        f"{check.code} {check.name}: {counts} in {self.parent.display_path}",
                        *render_list(outcome.sorted_findings(), outcome.count),
                    ]
                )
            )
        return "\n\n".join(sections)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The dataset: a domain that ends the node id (data/a.jsonl::checks) would have
        # its dots turned into "::" by ``-v``; the id itself is shown as it is. Line 0
        # (shown as line 1): a skip mark needs a location.
        return Path(redact(str(self.path))), 0, self.parent.display_path

    def payloads(self) -> list[dict[str, Any]]:
        """What this item's report carries: every check's findings on the dataset.

        Nothing when the file could not be read: the item's failure says so.
        """
        try:
            result = self.parent.result()
        except DatasetUnreadable:
            return []
        return [scan_payload(result.stats, result.outcomes.values())]


class TrainingGateFailed(Exception):
    """A trained model missed a threshold, or could not be trained or measured."""


class TrainItem(pytest.Item):
    """A ``[[train]]`` declaration on this dataset: trains, measures, asserts thresholds.

    Skipped unless ``--finetune-train`` is given.
    """

    parent: DatasetFile

    def __init__(self, *, entry: dict[str, Any], index: int, root: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.index = index
        self.root = root
        self.outcome: Outcome | None = None
        # As a marked test is: `-m finetune` and `-m "not finetune"` select it.
        self.add_marker("finetune")

    def setup(self) -> None:
        if not self.config.getoption("finetune_train"):
            raise pytest.skip.Exception(
                SKIP_REASON.format(nodeid=self.nodeid), _use_item_location=True
            )

    def runtest(self) -> None:
        settings = self.config.stash[STATE].settings
        try:
            spec = entry_spec(self.entry, self.index, self.root, settings)
        except ConfigError as error:
            self.outcome = Outcome(None, error=str(error))
        else:
            self.outcome = execute(spec, self.config, settings, self.nodeid)
        if not self.outcome.passed:
            raise TrainingGateFailed()

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, TrainingGateFailed) and self.outcome is not None:
            return self.outcome.failure()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # Line 0 (shown as line 1): the skip summary needs a location, and the
        # declaration's own line is in the configuration, not in this file.
        return Path(redact(str(self.path))), 0, self.name

    def payload(self) -> dict[str, Any] | None:
        """The report's ``training`` entry, once the item has run."""
        if self.outcome is None:
            return None
        return self.outcome.payload(self.nodeid, self.config.rootpath)
