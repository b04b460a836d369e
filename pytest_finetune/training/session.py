"""Training inside a pytest run, for marked tests and ``TrainItem``s alike.

A declaration becomes a :class:`~pytest_finetune.training.spec.TrainSpec`; its
datasets pass the checks first (errors stop the training unless the declaration says
``allow_check_errors``); then it trains or reuses, is measured, and its thresholds
give verdicts. The :class:`Outcome` says all of it, in the words of a failure, the
report payload, and the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_finetune import models
from pytest_finetune.config import Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import Finding
from pytest_finetune.lint import lint
from pytest_finetune.redact import redact, redact_keys
from pytest_finetune.training.backends.base import Unsupported
from pytest_finetune.training.backends.table import BACKENDS
from pytest_finetune.training.progress import Progress, terminal
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.spec import TrainSpec, parse
from pytest_finetune.training.state import JobStore
from pytest_finetune.training.thresholds import Verdict, check
from pytest_finetune.wording import plural, with_rest

if TYPE_CHECKING:
    # Only for annotations: importing it loads pandas, which the lint path must not.
    from pytest_finetune.training.run import FinetuneResult

SKIP_REASON = (
    "Training runs only with --finetune-train (it takes time and, except with "
    "backend='local', money): pytest --finetune-train {nodeid}"
)
#: Check findings quoted when check errors stop a training.
_QUOTED_FINDINGS = 5
_STATE_FILE = "jobs.json"


@dataclass
class Outcome:
    """What came of one declaration: a result and verdicts, or why there is none."""

    spec: TrainSpec | None
    result: FinetuneResult | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    error: str | None = None
    plot: str | None = None
    #: The job, when training failed after one existed (the result names it otherwise).
    job: str | None = None

    @property
    def passed(self) -> bool:
        """No error and every threshold met."""
        return self.error is None and all(verdict.passed for verdict in self.verdicts)

    def failure(self) -> str:
        """The failure as the user reads it: what failed, by how much, the evidence."""
        if self.error is not None:
            return self.error
        failed = [verdict for verdict in self.verdicts if not verdict.passed]
        result = self.result
        spec = self.spec
        assert result is not None and spec is not None
        where = f"model {result.model}" + (f", job {result.job}" if result.job else "")
        lines = [
            f"{plural(len(failed), 'threshold')} not met by {spec.label} on {spec.valid.name} "
            f"({where}):",
            *(f"  {verdict.describe()}" for verdict in failed),
            *_evidence(result),
        ]
        return redact("\n".join(lines))

    def payload(self, nodeid: str, rootpath: Path) -> dict[str, Any]:
        """The JSON report's ``training`` entry (plain data: it crosses from xdist workers)."""
        spec = self.spec
        data: dict[str, Any] = {
            "nodeid": nodeid,
            "backend": spec.backend if spec else None,
            "model": None,
            "job": self.job,
            "train": _display(spec.train, rootpath) if spec else None,
            "valid": _display(spec.valid, rootpath) if spec else None,
            "metrics": {},
            # min_class_f1 may name classes: labels are data, masked as in messages.
            "thresholds": {
                name: redact_keys(limit) if isinstance(limit, dict) else limit
                for name, limit in (spec.thresholds if spec else {}).items()
            },
            "verdicts": [verdict.to_dict() for verdict in self.verdicts],
            # The controller replaces it with the test's outcome (see Reporter), which
            # a marked test's body may fail after every threshold was met.
            "passed": self.passed,
            "thresholds_passed": self.passed,
            "error": None if self.error is None else redact(self.error),
            "plot": self.plot,
        }
        if self.result is not None:
            data.update(self.result.to_dict())
        return data


def _evidence(result: FinetuneResult) -> list[str]:
    evaluation = result.evaluation
    lines = [
        f"Measured on {len(evaluation.predictions)} validation examples: accuracy "
        f"{evaluation.accuracy:.3f}"
        + (f", macro F1 {evaluation.f1:.3f}" if evaluation.f1 is not None else "")
    ]
    if evaluation.per_class:
        width = max(len(repr(label)) for label in evaluation.per_class)
        lines.append("Per class: precision, recall, F1 (examples)")
        for label, metrics in evaluation.per_class.items():
            lines.append(
                f"  {repr(label).ljust(width)}  {metrics.precision:.3f}  {metrics.recall:.3f}  "
                f"{metrics.f1:.3f}  ({metrics.support})"
            )
        confusion = evaluation.confusion()
        lines.append("Confusion matrix (rows: expected, columns: predicted)")
        lines.extend(f"  {row}" for row in confusion.to_string().splitlines())
    return lines


# -- declarations --------------------------------------------------------------------


def marker_spec(item: pytest.Item, settings: Settings) -> TrainSpec:
    """The declaration of a test marked ``@pytest.mark.finetune(...)``."""
    marker = item.get_closest_marker("finetune")
    assert marker is not None
    options = dict(marker.kwargs)
    where = f"{item.nodeid}: @pytest.mark.finetune"
    if len(marker.args) > 1 or (marker.args and "train" in options):
        raise ConfigError(f"{where}: give the training file once, as train='...'")
    if marker.args:
        options["train"] = marker.args[0]
    bases = (item.config.rootpath, item.path.parent)
    return parse(
        options, where=where, bases=bases, default_model=_default_model(options, bases, settings)
    )


def entry_spec(entry: Mapping[str, Any], index: int, root: Path, settings: Settings) -> TrainSpec:
    """The declaration of the ``index``-th ``[[train]]`` table of a config under ``root``."""
    where = f"[[tool.pytest_finetune.train]] #{index + 1}"
    return parse(
        entry, where=where, bases=(root,), default_model=_default_model(entry, (root,), settings)
    )


def entry_train_path(entry: Mapping[str, Any], root: Path) -> Path | None:
    """Where a ``[[train]]`` table's training file is (``None`` if it names none)."""
    train = entry.get("train")
    return (root / train).resolve() if isinstance(train, str) else None


def item_name(entry: Mapping[str, Any]) -> str:
    """The name of a config declaration's item: ``finetune[<name or backend:model>]``."""
    label = entry.get("name") or ":".join(
        str(part) for part in (entry.get("backend", "openai"), entry.get("model")) if part
    )
    return f"finetune[{label}]"


def _default_model(
    options: Mapping[str, Any], bases: tuple[Path, ...], settings: Settings
) -> str | None:
    train = options.get("train")
    if not isinstance(train, str):
        return None
    for base in bases:
        candidate = base / train
        if candidate.is_file():
            model = settings.table_for(candidate)[0].get("model")
            return model if isinstance(model, str) else None
    return None


# -- running -------------------------------------------------------------------------


def execute(spec: TrainSpec, config: pytest.Config, settings: Settings, nodeid: str) -> Outcome:
    """Run one declaration: gate on check errors, train or reuse, measure, judge, plot."""
    # Imported here, not above: they load pandas and the backends, which the lint
    # path (every run of the plugin) must not pay for.
    from pytest_finetune.training.plots import (  # noqa: PLC0415
        PlotsUnavailable,
        plot_file_name,
        write_plots,
    )
    from pytest_finetune.training.run import RunOptions, TrainingFailed, run  # noqa: PLC0415

    unknown = _unknown_model(spec, settings)
    if unknown:
        return Outcome(spec, error=unknown)
    if not spec.allow_check_errors:
        blocked = _check_errors(spec, settings, config.rootpath)
        if blocked:
            return Outcome(spec, error=blocked)
    table, source = settings.table_for(spec.train)
    root = source.root if source else config.rootpath
    training = TrainingSettings.from_table(table.get("training"), root)
    max_cost = config.getoption("finetune_max_cost")
    screen = terminal(config)
    progress = Progress(
        screen.write if screen else None,
        every=training.progress_every,
        rewrite=screen.rewrite if screen and screen.isatty else None,
    )
    progress.line(f"finetune: {spec.label} on {_display(spec.train, config.rootpath)}")
    options = RunOptions(
        settings=training,
        store=JobStore(training.state_file or _cache_dir(config) / _STATE_FILE),
        progress=progress,
        max_cost=training.max_cost if max_cost is None else max_cost,
        retrain=bool(config.getoption("finetune_retrain")),
        config=table,
        root=root,
        config_file=source.path if source else None,
    )
    try:
        result = run(spec, options)
    except TrainingFailed as failed:
        return Outcome(spec, error=str(failed), job=failed.job)
    except Unsupported as unsupported:
        raise pytest.skip.Exception(str(unsupported), _use_item_location=True) from None
    outcome = Outcome(spec, result, check(spec.thresholds, result.figures(), result.per_class))
    plots = config.getoption("finetune_plots")
    if plots:
        chart = Path(plots) / plot_file_name(nodeid)
        embed = bool(config.getoption("finetune_plots_offline"))
        try:
            outcome.plot = str(write_plots(result, chart, embed=embed))
        except PlotsUnavailable as missing:
            progress.line(str(missing))
        except OSError as error:  # a full disk, a folder gone read-only
            progress.line(f"finetune: cannot write {chart}: {error.strerror or error}")
    # Printed before a marked test's body runs: it tells the thresholds, not the test.
    if not outcome.verdicts:
        verdict = "no thresholds"
    else:
        verdict = "thresholds met" if outcome.passed else "thresholds not met"
    progress.line(
        f"finetune: {spec.label} {verdict}: accuracy {result.accuracy:.3f} on "
        f"{len(result.predictions)} examples"
    )
    return outcome


def _unknown_model(spec: TrainSpec, settings: Settings) -> str | None:
    """Why the declaration's model is unknown (also to the project's ``models``), or ``None``.

    Checked for every backend: a local baseline declared with a model that the paid
    run could not train would pass today and fail the night it matters. A backend
    whose models only the server or provider knows (``endpoint``) is the exception.
    """
    if not spec.model or not BACKENDS[spec.backend].model_table:
        return None
    table, _source = settings.table_for(spec.train)
    try:
        models.model_spec(spec.model, table)
    except ConfigError as error:
        return f"{spec.label}: model: {error}"
    return None


def _check_errors(spec: TrainSpec, settings: Settings, rootpath: Path) -> str | None:
    """Why the datasets must not be trained yet (their failing findings), or ``None``.

    The checks judge the data for the model being trained (token limits, labels
    sharing a first token), which may not be the project's ``model``.
    """
    if spec.model and spec.backend != "local" and BACKENDS[spec.backend].model_table:
        settings = Settings(
            defaults=settings.defaults, overrides={**settings.overrides, "model": spec.model}
        )
    problems: list[Finding] = []
    total = 0
    for path in dict.fromkeys((spec.train, spec.valid)):
        display = _display(path, rootpath)
        result = lint(path, settings, display_path=display)
        fail_on = settings.for_file(path).fail_on
        for outcome in result.outcomes.values():
            total += outcome.failing(fail_on)
            problems.extend(f for f in outcome.sorted_findings() if f.severity >= fail_on)
    if not total:
        return None
    problems.sort(key=lambda finding: (finding.path, finding.line or 0))
    codes = sorted({finding.code for finding in problems})
    shown = with_rest(
        [f"  {finding.render()}" for finding in problems[:_QUOTED_FINDINGS]], total, indent="  "
    )
    return redact(
        "\n".join(
            [
                f"Not trained: the data has {plural(total, 'check error')} "
                f"({', '.join(codes)}), and a model trained on it would be measured on "
                "broken examples. Fix them (the dataset's check items list them all), or "
                "pass allow_check_errors=True (allow-check-errors = true in config) to "
                "train anyway.",
                *shown,
            ]
        )
    )


def _cache_dir(config: pytest.Config) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("finetune"))
    return config.rootpath / ".pytest_cache" / "d" / "finetune"


def _display(path: Path, rootpath: Path) -> str:
    try:
        return path.relative_to(rootpath.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
