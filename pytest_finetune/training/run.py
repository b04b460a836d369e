"""One declaration, end to end: train or reuse, follow, read metrics, measure.

The job key decides everything about reuse: a finished job for the same key is
reused without a new job, a running one is followed again (after Ctrl-C or a CI
timeout), and a job is created only when neither the saved state nor the provider's
job list (through the key in the job's metadata) knows one. State is saved after the
upload and again as soon as the job exists, before any waiting.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_finetune import conventions
from pytest_finetune.redact import redact
from pytest_finetune.training.backends import make_backend
from pytest_finetune.training.backends.base import (
    Backend,
    Job,
    JobNotFound,
    Refused,
    Retryable,
    TrainingRequest,
    follow,
)
from pytest_finetune.training.cost import CostEstimate, CostRefused, estimate, guard, price
from pytest_finetune.training.evaluate import (
    Evaluation,
    PerClass,
    Prediction,
    gather_answers,
    measure,
    to_dict,
)
from pytest_finetune.training.examples import Example, ExampleSet, read_examples
from pytest_finetune.training.progress import Progress
from pytest_finetune.training.results import final_metrics
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.spec import TrainSpec
from pytest_finetune.training.state import (
    METADATA_KEY,
    JobEntry,
    JobStore,
    StateError,
    job_key,
)

if TYPE_CHECKING:
    import pandas as pd


class TrainingFailed(Exception):
    """Training or measuring could not be done: one paragraph saying why and what to do."""

    def __init__(self, message: str, job: str | None = None) -> None:
        super().__init__(message)
        #: The job, when one existed (the report names it).
        self.job = job


@dataclass
class FinetuneResult:
    """What the ``finetune`` fixture gives a test: the model and how well it does."""

    spec: TrainSpec
    backend: str
    #: The fine-tuned model's id (what to call it with).
    model: str
    base_model: str | None
    job: str | None
    #: A finished job for the same data and parameters was reused: nothing was trained.
    reused: bool
    #: The job's figures by step (``step``, ``train_loss``, ``valid_loss``, ...).
    metrics: pd.DataFrame
    #: The last value of each figure the job reported (``valid_loss``, ...).
    final: dict[str, float]
    evaluation: Evaluation
    cost: CostEstimate | None = None
    log: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of validation examples the model answered right."""
        return self.evaluation.accuracy

    @property
    def f1(self) -> float | None:
        """Macro-averaged F1 (``None`` unless the data is classification)."""
        return self.evaluation.f1

    @property
    def precision(self) -> float | None:
        """Macro-averaged precision."""
        return self.evaluation.precision

    @property
    def recall(self) -> float | None:
        """Macro-averaged recall."""
        return self.evaluation.recall

    @property
    def per_class(self) -> PerClass:
        """Precision, recall, F1 and support by class label."""
        return self.evaluation.per_class

    @property
    def confusion(self) -> pd.DataFrame:
        """Counts by expected class (rows) and predicted class (columns)."""
        return self.evaluation.confusion()

    @property
    def predictions(self) -> list[Prediction]:
        """Every validation example with the model's answer."""
        return self.evaluation.predictions

    def figures(self) -> dict[str, float | None]:
        """Every figure a threshold can assert, by metric name."""
        return {
            "accuracy": self.accuracy,
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            **self.final,
        }

    def to_dict(self) -> dict[str, Any]:
        """The report's view: model, job, figures, per-class figures, confusion matrix."""
        return {
            "backend": self.backend,
            "base_model": self.base_model,
            "model": self.model,
            "job": self.job,
            "reused": self.reused,
            "metrics": {k: v for k, v in self.figures().items() if v is not None},
            "evaluation": to_dict(self.evaluation),
            "cost": self.cost.to_dict() if self.cost else None,
        }


@dataclass
class RunOptions:
    """How to run: settings, where state lives, where progress goes, limits."""

    settings: TrainingSettings
    store: JobStore
    progress: Progress = field(default_factory=Progress)
    max_cost: float | None = None
    #: Start a new job even if one exists for the same key.
    retrain: bool = False
    #: The configuration table of the training file (declared conventions, models).
    config: Mapping[str, Any] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    #: The configuration file's folder: the state file names data relative to it.
    root: Path | None = None
    #: The configuration file the settings came from (printed commands name it).
    config_file: Path | None = None


@dataclass
class _Known:
    """What is known of a run so far, for a failure to say."""

    job: str | None = None


def run(spec: TrainSpec, options: RunOptions) -> FinetuneResult:
    """Train (or reuse) the model ``spec`` declares and measure it on its validation file."""
    train = read_examples(spec.train, limit=conventions.HEAD_RECORDS, config=options.config)
    valid = read_examples(spec.valid, train.conventions)
    if not valid.examples:
        raise TrainingFailed(
            f"{spec.valid.name} has no example to measure the model on: each record needs "
            "an input and an expected answer."
        )
    try:
        backend = make_backend(spec.backend, options.settings, spec)
    except Refused as refused:
        raise TrainingFailed(str(refused)) from None
    known = _Known()
    try:
        return _run(spec, options, backend, train, valid, known=known)
    except TrainingFailed as failed:
        failed.job = failed.job or known.job
        raise
    except (Refused, CostRefused) as refused:
        raise TrainingFailed(redact(str(refused)), known.job) from None
    except Retryable as gave_up:
        raise TrainingFailed(redact(gave_up.final), known.job) from None
    except StateError as unreadable:
        raise TrainingFailed(str(unreadable), known.job) from None
    finally:
        backend.close()


def _run(
    spec: TrainSpec,
    options: RunOptions,
    backend: Backend,
    train: ExampleSet,
    valid: ExampleSet,
    *,
    known: _Known,
) -> FinetuneResult:
    progress = options.progress
    foreign = [name for name in spec.hyperparameters if name not in backend.hyperparameters]
    if foreign:
        raise TrainingFailed(
            f"The {backend.name} backend does not take {', '.join(foreign)}: its "
            f"hyperparameters are {', '.join(backend.hyperparameters) or 'none'}."
        )
    key = job_key(spec.train, spec.valid, backend.identity, spec.job_parameters())
    request = TrainingRequest(
        base_model=spec.model,
        train=train,
        train_path=spec.train,
        valid_path=spec.valid,
        hyperparameters=spec.hyperparameters,
        seed=spec.seed,
        suffix=spec.suffix,
        metadata={METADATA_KEY: key},
    )
    job, reused, cost = _obtain(backend, request, key, options)
    if not backend.persistent:
        # A job that finished at once (local, endpoint): its log is news.
        for event in backend.events(job.id, set()):
            progress.event(event)
    else:
        known.job = job.id
        if not reused:
            job = _follow(backend, job, key, options)
    if job.status != "succeeded" or not job.fine_tuned_model:
        raise TrainingFailed(_failure(backend, job, spec))
    if backend.paid:
        cost = _billed(cost, job, spec, options, _billed_as(backend, request))
    model = job.fine_tuned_model
    metrics = backend.results(job)
    stop = train.stop
    longest = max(len(example.expected) for example in valid.examples) + len(stop)
    progress.line(f"Measuring {model} on {len(valid.examples)} examples of {spec.valid.name}")
    concurrency, retries = options.settings.answering(backend.name)
    retried: Counter[str] = Counter()

    def on_retry(example: Example, error: Retryable, wait: float) -> None:
        # The first retry for each reason is shown; the rest are counted.
        retried[str(error)] += 1
        if retried[str(error)] == 1:
            progress.line(f"Line {example.line}: {error} Retrying in {wait:g}s.")

    answers = gather_answers(
        lambda example: backend.predict(model, example, stop, longest),
        valid.examples,
        concurrency=max(1, concurrency),
        retries=retries,
        sleep=options.sleep,
        on_retry=on_retry,
    )
    if retried.total() > len(retried):
        reasons = ", ".join(f"{count} after {reason!r}" for reason, count in retried.items())
        progress.line(f"Retried {retried.total()} requests: {reasons}")
    evaluation = measure(valid.examples, answers, train.is_classification, train.answers)
    return FinetuneResult(
        spec=spec,
        backend=backend.name,
        model=model,
        base_model=spec.model,
        job=job.id if backend.persistent else None,
        reused=reused,
        metrics=metrics,
        final=final_metrics(metrics),
        evaluation=evaluation,
        cost=cost,
        log=progress.lines,
    )


def _obtain(
    backend: Backend, request: TrainingRequest, key: str, options: RunOptions
) -> tuple[Job, bool, CostEstimate | None]:
    """The job for ``key``: saved, found at the provider, or created (in that order).

    Also whether it is a finished job reused as it is, and the cost estimate when
    one was needed to create it.
    """
    progress = options.progress
    if not backend.persistent:
        return backend.start(request, backend.upload(request)), False, None
    store = options.store
    with store.claim(key):
        saved = None if options.retrain else store.get(key)
        job = _saved_job(backend, saved.job, progress) if saved and saved.job else None
        if job is None and not options.retrain:
            job = backend.find(request.metadata)
            if job is not None:
                progress.line(
                    f"Found job {job.id} ({job.status}) for the same data and parameters "
                    "in the provider's job list."
                )
        entry = saved or JobEntry(
            key,
            backend.name,
            _relative(request.train_path, options.root),
            _relative(request.valid_path, options.root),
            base_model=request.base_model,
        )
        cost = None
        if job is not None:
            if job.status == "succeeded":
                progress.line(
                    f"Reusing {job.fine_tuned_model} from job {job.id}: the data and "
                    "parameters are unchanged."
                )
            elif job.status == "failed":
                progress.line(
                    f"Job {job.id} for the same data and parameters failed; reporting it "
                    "without starting another (the same data would fail the same way)."
                )
            else:
                progress.line(f"Resuming job {job.id} ({job.status}).")
        else:
            cost = estimate(
                request.train_path, request.base_model, _billed_as(backend, request), options.config
            )
            guard(cost, options.max_cost)
            files = backend.upload(request)
            entry.training_file, entry.validation_file = files.training, files.validation
            store.put(entry)
            job = backend.start(request, files)
            progress.line(
                f"Created fine-tuning job {job.id} for {request.base_model}; estimated cost "
                f"{cost.describe()}"
            )
        _save(store, entry, job)
    return job, cost is None and job.status == "succeeded", cost


def _saved_job(backend: Backend, job_id: str, progress: Progress) -> Job | None:
    """The saved job, unless the provider lost it or it was cancelled."""
    try:
        job = backend.retrieve(job_id)
    except JobNotFound:
        progress.line(f"The saved job {job_id} is unknown to {backend.name}.")
        return None
    if job.status == "cancelled":
        progress.line(f"The saved job {job.id} was cancelled; starting a new one.")
        return None
    return job


def _billed_as(backend: Backend, request: TrainingRequest) -> Mapping[str, Any]:
    """The hyperparameters the provider bills: its default epochs when none are given."""
    if backend.default_epochs is None or "n_epochs" in request.hyperparameters:
        return request.hyperparameters
    return {**request.hyperparameters, "n_epochs": backend.default_epochs}


def _billed(
    cost: CostEstimate | None,
    job: Job,
    spec: TrainSpec,
    options: RunOptions,
    hyperparameters: Mapping[str, Any],
) -> CostEstimate:
    """What the job cost: the provider's trained tokens, priced; else the estimate."""
    if cost is not None:
        return dataclasses.replace(cost, trained_tokens=job.trained_tokens)
    if job.trained_tokens:
        # No need to count the file again: the provider says what it billed.
        return CostEstimate(
            spec.model,
            None,
            None,
            None,
            True,
            price(spec.model, options.config),
            job.trained_tokens,
        )
    return estimate(spec.train, spec.model, hyperparameters, options.config)


def _follow(backend: Backend, job: Job, key: str, options: RunOptions) -> Job:
    """Follow a job to its end, showing the events not shown before (a finished one's too)."""
    progress = options.progress
    if not job.finished:
        progress.line(f"Following job {job.id} (Ctrl-C leaves it running)")
    store = options.store
    saved = store.get(key)

    def save_status(current: Job) -> None:
        entry = store.get(key)
        if entry is not None:
            _save(store, entry, current)

    def save_shown(event_id: str) -> None:
        entry = store.get(key)
        if entry is not None:
            entry.last_event = event_id
            store.put(entry)

    try:
        return follow(
            backend,
            job.id,
            progress.event,
            poll_interval=options.settings.poll_interval,
            sleep=options.sleep,
            on_status=save_status,
            after=saved.last_event if saved and saved.job == job.id else None,
            on_shown=save_shown,
        )
    except KeyboardInterrupt:
        progress.line(
            f"Interrupted: job {job.id} keeps running at {backend.name}; its state is saved "
            f"in {options.store.path}. Run the same pytest command again to resume following "
            f"it. To cancel it instead: {_cancel_command(job.id, options.config_file)}"
        )
        # Raised anew from here: the signal may have landed on an instruction without a
        # line (in the HTTP client, on Python 3.11), whose traceback pytest fails to show
        # (a TypeError, and exit code 1 where an interrupted run gives 2).
        raise KeyboardInterrupt from None


def _cancel_command(job_id: str, config_file: Path | None) -> str:
    """The command that cancels ``job_id`` with the configuration this run read."""
    command = f"pytest-finetune jobs cancel {job_id}"
    if config_file is None or config_file.parent.resolve() == Path.cwd().resolve():
        return command
    return f"{command} --config {_relative(config_file, Path.cwd())}"


def _relative(path: Path, root: Path | None) -> str:
    """``path`` relative to ``root`` (the configuration's folder), as the state file keeps it.

    Relative paths keep a committed state file the same on every machine.
    """
    if root is None:
        return path.as_posix()
    try:
        return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _save(store: JobStore, entry: JobEntry, job: Job) -> None:
    entry.job = job.id
    entry.status = job.status
    entry.fine_tuned_model = job.fine_tuned_model
    store.put(entry)


def _failure(backend: Backend, job: Job, spec: TrainSpec) -> str:
    if job.status == "cancelled":
        return f"Job {job.id} was cancelled before it finished; run again to start a new one."
    code = f" ({job.error_code})" if job.error_code else ""
    words = (job.error_message or "no reason given").strip()
    if not words.endswith((".", "!", "?")):
        words += "."
    return (
        f"The {backend.name} fine-tuning job {job.id} for {spec.train.name} failed{code}: "
        f"{words} Fix the data and run again (changed data starts a new job), or run "
        "with --finetune-retrain to try the same data again."
    )
