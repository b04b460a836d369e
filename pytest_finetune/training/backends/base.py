"""The small interface every training backend implements, and what crosses it.

A backend uploads files, starts a job, reports the job's status and events, gives
the job's metrics over steps, and answers prompts with the trained model. The
orchestration (reuse, resume, follow, evaluate) is written once against it, in
:mod:`pytest_finetune.training.run`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from pytest_finetune.training.examples import Example, ExampleSet
    from pytest_finetune.training.settings import TrainingSettings
    from pytest_finetune.training.spec import TrainSpec

#: Statuses after which a job changes no more.
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


class Refused(Exception):
    """The provider refused or failed: one paragraph for the user, in its own words."""


class Unsupported(Exception):
    """The backend cannot train this data (the item is skipped with this reason)."""


class Retryable(Exception):
    """A request worth repeating later (rate limit, server error, dropped connection)."""

    def __init__(
        self, message: str, retry_after: float | None = None, final: str | None = None
    ) -> None:
        super().__init__(message)
        #: Seconds the provider asked to wait, if it said.
        self.retry_after = retry_after
        #: What to tell the user when retries run out.
        self.final = final or message


class JobNotFound(Exception):
    """The provider does not know a job id that was saved earlier."""


@dataclass(frozen=True)
class Job:
    """A fine-tuning job as last seen."""

    id: str
    status: str
    base_model: str
    fine_tuned_model: str | None = None
    created_at: float | None = None
    finished_at: float | None = None
    trained_tokens: int | None = None
    result_files: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the job will change no more."""
        return self.status in TERMINAL


@dataclass(frozen=True)
class JobEvent:
    """One line of a job's log."""

    id: str
    created_at: float
    message: str
    level: str = "info"
    #: Metrics events carry the step's figures.
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Uploaded:
    """The provider's ids of the training and validation files."""

    training: str
    validation: str | None = None


@dataclass
class TrainingRequest:
    """Everything a backend needs to start a job."""

    base_model: str | None
    train: ExampleSet
    train_path: Path
    valid_path: Path
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    suffix: str | None = None
    #: Stored on the job so that it can be found again (see ``Backend.find``).
    metadata: Mapping[str, str] = field(default_factory=dict)


class Backend(ABC):
    """Training and answering through one provider."""

    #: The name declarations use (``backend="openai"``).
    name: str = ""
    #: Whether jobs outlive the process, so that their state is worth saving.
    persistent: bool = True
    #: Whether jobs cost money (the cost guard applies).
    paid: bool = True
    #: The hyperparameters a declaration may give (see ``spec.HYPERPARAMETERS``).
    hyperparameters: tuple[str, ...] = ("n_epochs", "batch_size", "learning_rate_multiplier")
    #: Epochs the provider trains when none are given (``None``: OpenAI's rule by the
    #: number of examples); the cost guard bills these.
    default_epochs: int | None = None

    @classmethod
    def connect(cls, name: str, settings: TrainingSettings, spec: TrainSpec | None) -> Backend:
        """The backend ``name`` of the table, ready (:class:`Refused` without a key).

        ``spec`` is the declaration being run (``None``: ``pytest-finetune jobs``).
        """
        return cls()

    @property
    def identity(self) -> str:
        """What distinguishes this backend's models from another's: part of the job key."""
        return self.name

    @abstractmethod
    def upload(self, request: TrainingRequest) -> Uploaded:
        """Send the training and validation files."""

    @abstractmethod
    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        """Create a job; called at most once per job key."""

    @abstractmethod
    def find(self, metadata: Mapping[str, str]) -> Job | None:
        """A job created earlier with this metadata, not cancelled, if the provider has one."""

    @abstractmethod
    def retrieve(self, job_id: str) -> Job:
        """The job as it is now (:class:`JobNotFound` if the provider does not know it)."""

    @abstractmethod
    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        """Events not in ``seen``, oldest first; their ids are added to ``seen``."""

    @abstractmethod
    def results(self, job: Job) -> pd.DataFrame:
        """The job's metrics by step (from its results file, events and checkpoints)."""

    @abstractmethod
    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        """The trained model's answer to one example's input.

        ``stop`` is the dataset's stop sequence (``""``: none); the answer is expected
        within ``max_answer_chars`` characters (the longest expected answer).
        """

    def cancel(self, job_id: str) -> Job:
        """Cancel a job left running (``pytest-finetune jobs cancel``); the job as it is now."""
        raise Refused(f"The {self.name} backend has no jobs to cancel.")

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections."""


def follow(
    backend: Backend,
    job_id: str,
    on_event: Callable[[JobEvent], None],
    *,
    poll_interval: float,
    sleep: Callable[[float], None],
    on_status: Callable[[Job], None] | None = None,
    after: str | None = None,
    on_shown: Callable[[str], None] | None = None,
) -> Job:
    """Poll a job until it finishes, passing each new event to ``on_event``.

    ``after`` is the last event an earlier run showed: it and the events before it are
    not shown again. ``on_shown`` gets the id of the last event shown after each poll.
    """
    seen: set[str] = set()
    last_status = None
    while True:
        job = backend.retrieve(job_id)
        if on_status is not None and job.status != last_status:
            on_status(job)
            last_status = job.status
        fresh = backend.events(job_id, seen)
        if after is not None:
            ids = [event.id for event in fresh]
            if after in ids:
                fresh = fresh[ids.index(after) + 1 :]
            after = None
        shown = None
        try:
            for event in fresh:
                on_event(event)
                shown = event.id
        finally:
            # Also when interrupted: the next run goes on after what was shown.
            if shown is not None and on_shown is not None:
                on_shown(shown)
        if job.finished:
            return job
        sleep(poll_interval)
