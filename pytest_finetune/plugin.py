"""pytest hooks: options, ini keys, markers, collection, header and summary.

Everything else lives in the modules these hooks call (the options and ini keys are
declared, read and checked in :mod:`pytest_finetune.plugin_options`). Under
pytest-xdist, workers collect and run items; each check item's report carries its
findings (see ``CheckItem.payloads``) so that the controller alone writes the summary
and the reports.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_finetune import plugin_options, quick_exit
from pytest_finetune.checks import REGISTRY
from pytest_finetune.config import Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.datasets_alone import workers_to_spare
from pytest_finetune.lint import named_dataset
from pytest_finetune.nodes import STATE, CheckItem, ChecksItem, DatasetFile, RunState, TrainItem
from pytest_finetune.outputs import github, plots, report, sarif, summary
from pytest_finetune.outputs.results import RunResults
from pytest_finetune.pools import jobs_of
from pytest_finetune.training.session import (
    SKIP_REASON,
    Outcome,
    entry_train_path,
    execute,
    marker_spec,
)

MARKER = (
    "finetune(train, valid=None, backend='openai', model=None, n_epochs=None, batch_size=None, "
    "learning_rate_multiplier=None, learning_rate=None, lora_rank=None, lora_alpha=None, "
    "lora_dropout=None, seed=None, suffix=None, deployment=None, "
    "allow_check_errors=False, min_accuracy=None, min_f1=None, min_precision=None, "
    "min_recall=None, min_class_f1=None, max_valid_loss=None, min_valid_token_accuracy=None, "
    "max_train_loss=None): train a model on a dataset (or reuse the one trained on the same "
    "bytes), measure it on the validation split and assert the thresholds; the finetune "
    "fixture gives the result; runs only with --finetune-train"
)
#: The outcome of a marked test's training, kept on the item for its report.
OUTCOME = pytest.StashKey[Outcome]()
#: How many of pytest-xdist's workers a run of datasets alone did not start.
SPARED_WORKERS = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    plugin_options.add(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    settings, error = _settings(config)
    # Before xdist's own pytest_configure (trylast), which starts the workers.
    spared = 0 if settings is None else workers_to_spare(config, settings)
    if spared:
        config.option.dist, config.option.tx, config.option.numprocesses = "no", [], 0
        settings, error = _settings(config, jobs=spared)
        config.stash[SPARED_WORKERS] = spared
    if error is not None and _distributes(config) and not _informs(config):
        # The workers collect, not this process: it cannot tell whether datasets are
        # among the tests, and says so at once rather than from every worker.
        raise pytest.UsageError(error)
    plugin_options.check_rootdir(config)
    plugin_options.check_output_paths(config)
    config.stash[STATE] = RunState(settings, error)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Reporter(config), "finetune-reporter")


def _settings(
    config: pytest.Config, *, jobs: int | None = None
) -> tuple[Settings | None, str | None]:
    """The project's configuration, or why it is broken (reported once datasets are collected).

    A broken configuration does not stop ``--help``, ``--markers``, ``--fixtures``,
    ``--no-finetune`` or a run of Python tests only: like the configuration of a
    linter, it matters when there is something to lint. ``jobs``: the default of the
    ``jobs`` key (``-n``'s workers, which the plugin's processes stand in for).
    """
    defaults = plugin_options.ini_table(config)
    if jobs is not None:
        defaults = {"jobs": jobs, **defaults}
    try:
        settings = Settings(defaults=defaults, overrides=plugin_options.cli_table(config))
        # Check the project's file once now, not once per dataset.
        _table, source = settings.table_for(config.rootpath / "pyproject.toml")
        settings.target_for(config.rootpath / "pyproject.toml")
        for index, entry in enumerate(source.table.get("train", []) if source else []):
            train = entry_train_path(entry, source.root) if source else None
            if source is not None and train is not None and not train.is_file():
                raise ConfigError(
                    f"{source.name}: [[train]] #{index + 1}: train file {entry['train']!r} "
                    f"not found (looked for {train})"
                )
    except ConfigError as error:
        return None, str(error)
    return settings, None


def _distributes(config: pytest.Config) -> bool:
    """Whether this is the controller of pytest-xdist workers."""
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


def _informs(config: pytest.Config) -> bool:
    """Whether pytest only shows help, markers or fixtures (or collects no dataset)."""
    option = config.option
    return any(
        getattr(option, name, False)
        for name in ("help", "markers", "showfixtures", "show_fixtures_per_test", "no_finetune")
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[STATE]
    if state.error is not None and state.refused and not _informs(config):
        # Datasets are among the tests: the broken configuration is a usage error, as
        # it would be for `pytest-finetune check`.
        raise pytest.UsageError(state.error)
    outputs = {
        path.resolve(): f"{option}: {path}"
        for option in ("--finetune-report", "--finetune-sarif")
        if (path := config.getoption(option)) is not None
    }
    if outputs:
        for dataset in {item.path for item in items if isinstance(item.parent, DatasetFile)}:
            given = outputs.get(dataset.resolve())
            if given is not None:
                # Even with --finetune-force: the report would replace what it reports on.
                raise pytest.UsageError(
                    f"{given} is a dataset of this run; write the report elsewhere"
                )


def pytest_sessionfinish(session: pytest.Session) -> None:
    session.config.stash[STATE].close()
    ours = (CheckItem, ChecksItem, TrainItem)
    # A session with no items may have run the user's tests elsewhere (a pytest-xdist
    # controller, whose hooks see their reports): not known to have run only datasets.
    items = session.items
    quick_exit.session_ran(bool(items) and all(isinstance(item, ours) for item in items))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist load`` (what ``-n`` uses) that keeps each dataset's items on one worker."""
    if config.getvalue("dist") != "load":
        return None  # the user chose how to spread the items
    from pytest_finetune.distribution import DatasetScheduling  # noqa: PLC0415 (needs xdist)

    return DatasetScheduling(config, log)


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    state = config.stash[STATE]
    if state.valid is None:
        return "finetune: configuration: invalid (an error once datasets are collected)"
    # The checks the root's configuration selects; a folder's own file may select others.
    here = config.rootpath / "pyproject.toml"
    source = state.valid.source_for(here)
    where = source.name if source else "defaults"
    root = state.valid.for_file(here)
    lines = [
        f"finetune: {len(root.checks)} of {len(REGISTRY)} checks selected, configuration: {where}"
    ]
    spared = config.stash.get(SPARED_WORKERS, 0)
    if spared:
        jobs = jobs_of(root)
        lines.append(
            f"finetune: datasets alone: scanned by {jobs} process{'es' if jobs > 1 else ''} "
            f"(jobs), pytest-xdist's {spared} worker{'s' if spared > 1 else ''} (-n) not started"
        )
    return lines


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DatasetFile | None:
    if parent.config.getoption("no_finetune"):
        return None
    state = parent.config.stash[STATE]
    if state.valid is None:
        # Which files are datasets is the broken configuration's to say; a file by the
        # default include makes the error a usage error after collection.
        state.refused = state.refused or file_path.suffix in (".jsonl", ".json")
        return None
    try:
        wanted = state.valid.is_dataset(file_path)
    except ConfigError:
        # Collect it anyway so that the configuration error is reported on it.
        wanted = file_path.suffix == ".jsonl"
    if not wanted and file_path.suffix != ".py" and parent.session.isinitpath(file_path):
        # A file named on the command line is checked if it is a dataset by its name or
        # content, whatever include and exclude say; pytest reports any other file
        # named ("found no collectors") unless another plugin collects it.
        wanted = named_dataset(file_path, state.valid) is None
    if wanted:
        return DatasetFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture
def finetune(request: pytest.FixtureRequest) -> Any:
    """The model trained (or reused) for this test's ``@pytest.mark.finetune``.

    A :class:`~pytest_finetune.training.run.FinetuneResult`: ``model``, ``metrics``
    (DataFrame by step), ``accuracy``, ``f1``, ``per_class``, ``confusion``, ``cost``.
    """
    item = request.node
    if item.get_closest_marker("finetune") is None:
        pytest.fail(
            "The finetune fixture needs @pytest.mark.finetune(train='...') on the test.",
            pytrace=False,
        )
    return _marked_outcome(item).result


def _marked_outcome(item: pytest.Item) -> Outcome:
    """Train once for a marked test (in the fixture, or before the test body)."""
    if OUTCOME not in item.stash:
        try:
            settings = item.config.stash[STATE].settings  # a broken configuration fails it
            spec = marker_spec(item, settings)
        except ConfigError as error:
            item.stash[OUTCOME] = Outcome(None, error=str(error))
        else:
            item.stash[OUTCOME] = execute(spec, item.config, settings, item.nodeid)
    return item.stash[OUTCOME]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if (
        item.get_closest_marker("finetune") is not None
        and not isinstance(item, TrainItem)
        and not item.config.getoption("finetune_train")
    ):
        raise pytest.skip.Exception(SKIP_REASON.format(nodeid=item.nodeid), _use_item_location=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if isinstance(item, pytest.Function) and item.get_closest_marker("finetune") is not None:
        outcome = _marked_outcome(item)
        if not outcome.passed:
            # Before the test body: its assertions would only repeat the failure.
            pytest.fail(outcome.failure(), pytrace=False)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if isinstance(item, CheckItem | ChecksItem) and call.when != "call":
        # A setup or teardown with nothing to show (see Reporter.pytest_runtest_logreport).
        report.finetune_quiet = report.passed and not report.sections  # type: ignore[attr-defined]
    if call.when == "call":
        if isinstance(item, CheckItem | ChecksItem):
            report.finetune = item.payloads()  # type: ignore[attr-defined]
            item.config.stash[STATE].reported(item)
            if report.skipped and isinstance(report.longrepr, tuple):
                # The skip summary names the item, not the line of nodes.py that skipped.
                # Absolute: pytest shows it relative to where it was run from.
                where = f"{item.path}::{item.name}"
                report.longrepr = (where, None, report.longrepr[2])  # type: ignore[assignment]
        elif isinstance(item, TrainItem):
            report.finetune_training = item.payload()  # type: ignore[attr-defined]
        elif OUTCOME in item.stash:
            outcome = item.stash[OUTCOME]
            report.finetune_training = outcome.payload(item.nodeid, item.config.rootpath)  # type: ignore[attr-defined]
    return report


class Reporter:
    """The controller's side: gathers payloads, prints the summary, writes the reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = RunResults()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            if getattr(report, "finetune_quiet", False):
                self._forget(report)
            return
        for payload in getattr(report, "finetune", None) or ():
            self.results.add(payload)
        training = getattr(report, "finetune_training", None)
        if training is not None:
            # The item's outcome, final only here (a marked test's body runs after the
            # thresholds are judged); a copy, as other plugins read the report too.
            self.results.training.append(
                {**training, "passed": report.passed, "outcome": _outcome(report)}
            )

    def _forget(self, report: pytest.TestReport) -> None:
        """Drop a dataset item's passed setup or teardown report from the terminal's stats.

        pytest keeps them all, and looks each failure's teardown up among them: with
        20,000 datasets failing, hours of the summary (and their memory). Ours have
        nothing to show; the terminal has counted and shown them already.
        """
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        kept = getattr(terminal, "stats", {}).get("")
        if kept and kept[-1] is report:
            kept.pop()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results.datasets and not self.results.training:
            return
        write = terminalreporter.write_line
        # Ends the progress line first, or the section's first line starts with a blank.
        terminalreporter.ensure_newline()
        # As pytest's own summary: -q shortens it, -qq leaves one line.
        verbosity = self.config.get_verbosity()
        if verbosity <= -2:
            write(summary.one_line(self.results))
        else:
            self._summary(terminalreporter, quiet=verbosity < 0)
        plots_folder = self.config.getoption("finetune_plots")
        if plots_folder:
            self._plots(plots_folder, write)
        if self._github():
            for line in github.commands(self.results.findings()):
                write(line)

    def _summary(self, terminalreporter: Any, *, quiet: bool) -> None:
        """The section: training, datasets, figures, statistics, warnings (``quiet``: -q)."""
        write = terminalreporter.write_line
        terminalreporter.section("pytest-finetune")
        training = summary.training_table(self.results)
        for line in training:
            write(line)
        if not self.results.datasets:
            return
        if training:
            write("")
        for line in summary.dataset_table(self.results, quiet=quiet):
            write(line)
        for line in summary.estimates(self.results):
            write(line)
        figures = [] if quiet else summary.figures(self.results)
        if figures:
            write("")
            for line in figures:
                write(line)
        statistics = summary.statistics(self.results)
        if statistics:
            write("")
            for line in statistics:
                write(line)
        unrun = summary.skipped(self.results)
        if unrun:
            write("")
            write("skipped (these checks could not run: they did not pass):")
            for line in unrun:
                write(line)
        warnings = [] if quiet else summary.warnings(self.results)
        if warnings:
            write("")
            write('warnings (they do not fail the run unless fail-on = "warning"):')
            for line in warnings:
                write(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if session.exitstatus == pytest.ExitCode.USAGE_ERROR:
            return  # nothing ran: a report would say the datasets were clean
        # Ctrl-C, or -x: the report lists only the datasets that finished, and says so.
        interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED or bool(
            session.shouldstop or session.shouldfail
        )
        for option, build in (
            ("finetune_report", lambda r: report.build(r, interrupted=interrupted)),
            ("finetune_sarif", sarif.build),
        ):
            path = self.config.getoption(option)
            if not path:
                continue
            try:
                report.write_json(path, build(self.results))
            except OSError as error:  # a full disk, a folder gone read-only
                # Paths were checked before the run; what fails now is the machine's.
                terminal = self.config.pluginmanager.get_plugin("terminalreporter")
                if terminal is not None:
                    where = (
                        f" ({error.filename})" if error.filename not in (None, str(path)) else ""
                    )
                    terminal.write_line(
                        f"finetune: cannot write {path}: {error.strerror or error}{where}", red=True
                    )
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _plots(self, folder: Path, write: Any) -> None:
        """Write the class balance chart; say where every chart of the run is."""
        embed = self.config.getoption("finetune_plots_offline")
        charts = [
            (f"charts of {entry['nodeid']}", entry["plot"])
            for entry in sorted(self.results.training, key=lambda e: str(e.get("nodeid")))
            if entry.get("plot")
        ]
        try:
            chart = plots.write_class_balance(self.results, folder, embed=embed)
        except plots.PlotsUnavailable as missing:
            write(str(missing))
        except OSError as error:  # a full disk, a folder gone read-only
            where = folder / plots.CLASS_BALANCE
            write(f"finetune: cannot write {where}: {error.strerror or error}", red=True)
        else:
            if chart is not None:
                charts.insert(0, ("class balance", str(chart)))
        if charts:
            write("")
            for what, path in charts:
                write(f"{what}: {path}")

    def _github(self) -> bool:
        chosen = self.config.getoption("finetune_github")
        if chosen is None:
            return os.environ.get("GITHUB_ACTIONS") == "true"
        return bool(chosen)


def _outcome(report: pytest.TestReport) -> str:
    """The outcome as pytest's summary words it: passed, failed, skipped, x(fail|pass)ed."""
    if hasattr(report, "wasxfail"):
        return "xpassed" if report.passed else "xfailed"
    return report.outcome
