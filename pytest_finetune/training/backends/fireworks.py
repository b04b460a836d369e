"""The ``fireworks`` backend: supervised fine-tuning on Fireworks AI through ``fireworks-ai``.

Each file becomes a dataset named after a hash of its bytes (``datasets.create``, then
``datasets.upload``), so the same bytes are uploaded once per account; a job is
``supervised_fine_tuning_jobs.create`` with the dataset, the validation dataset and the
hyperparameters Fireworks takes (``epochs``, ``learning_rate``, ``lora_rank``,
``batch_size_samples``). Fireworks jobs carry no metadata: the job key's tag ends the
job's display name, and ``find`` lists the account's jobs for it. Fireworks reports a
job's state and progress, not its log: events are its changes of state and progress.

Fireworks serves a LoRA model only on a deployment of its base model: the declaration
names it with ``deployment``, the backend loads the model there (``lora.load``) and asks
``<model>#<deployment>`` through Fireworks' OpenAI-compatible inference API.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import fireworks
import pandas as pd

from pytest_finetune.formats import Format
from pytest_finetune.training.backends.base import (
    Backend,
    Job,
    JobEvent,
    Refused,
    TrainingRequest,
    Uploaded,
)
from pytest_finetune.training.backends.hosted import Errors, answerer, api_key
from pytest_finetune.training.examples import Example
from pytest_finetune.training.results import metrics_frame
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.state import METADATA_KEY

if TYPE_CHECKING:
    from pytest_finetune.training.spec import TrainSpec

DEFAULT_BASE_URL = "https://api.fireworks.ai"
PROVIDER = "Fireworks AI"
#: Fireworks' job states as the orchestration knows them (others are queued).
STATES = {
    "JOB_STATE_RUNNING": "running",
    "JOB_STATE_WRITING_RESULTS": "running",
    "JOB_STATE_COMPLETED": "succeeded",
    "JOB_STATE_EARLY_STOPPED": "succeeded",
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_EXPIRED": "failed",
    "JOB_STATE_CANCELLED": "cancelled",
    "JOB_STATE_CANCELLING": "cancelled",
    "JOB_STATE_DELETING": "cancelled",
    "JOB_STATE_DELETING_CLEANING_UP": "cancelled",
}
_TAG_CHARS = 12
#: Jobs looked at when searching the account's list for one with our key.
_FIND_LIMIT = 200
#: How long to wait for a LoRA model to be loaded on its deployment.
_LOAD_TIMEOUT = 600.0
_LOAD_POLL = 5.0


def tag(key: str) -> str:
    """What of the job key ends the job's display name, so that ``find`` knows the job."""
    return f"pf{key[:_TAG_CHARS]}"


class FireworksBackend(Backend):
    """Supervised fine-tuning on Fireworks AI."""

    name = "fireworks"
    hyperparameters = ("n_epochs", "batch_size", "learning_rate", "lora_rank")
    #: Fireworks trains one epoch unless told otherwise.
    default_epochs = 1

    def __init__(
        self,
        settings: TrainingSettings,
        *,
        deployment: str | None = None,
        client: fireworks.Fireworks | None = None,
    ) -> None:
        options = settings.fireworks
        self.key_env = options.api_key_env
        key = api_key(PROVIDER, options.api_key_env, "fireworks")
        account = options.account_id or os.environ.get("FIREWORKS_ACCOUNT_ID")
        if not account:
            raise Refused(
                "Fireworks AI needs the account id: set FIREWORKS_ACCOUNT_ID, or account-id "
                "in [tool.pytest_finetune.training.fireworks]."
            )
        self.account = account
        self.base_url = (
            options.base_url or os.environ.get("FIREWORKS_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.client = client or fireworks.Fireworks(
            api_key=key,
            account_id=account,
            base_url=self.base_url,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )
        self.errors = Errors(fireworks, PROVIDER, options.api_key_env, self.base_url)
        self.deployment = (
            None
            if deployment is None
            else deployment
            if deployment.startswith("accounts/")
            else f"accounts/{account}/deployments/{deployment}"
        )
        self._answers = answerer(
            settings,
            provider=PROVIDER,
            key=key,
            key_env=options.api_key_env,
            base_url=options.inference_url or f"{self.base_url}/inference/v1",
            timeout=options.timeout,
            serving_hint="Check that the deployment serves the base model with add-ons enabled.",
        )
        #: Each job as last retrieved: its events are read from it.
        self._seen: dict[str, Any] = {}
        self._loaded: set[str] = set()
        self._loading = threading.Lock()

    @classmethod
    def connect(cls, name: str, settings: TrainingSettings, spec: TrainSpec | None) -> Backend:
        return cls(settings, deployment=spec.deployment if spec else None)

    @property
    def identity(self) -> str:
        return f"{self.name} {self.base_url} {self.account}"

    # -- training ------------------------------------------------------------------

    def upload(self, request: TrainingRequest) -> Uploaded:
        if request.train.format is not Format.CHAT:
            raise Refused(
                "The fireworks backend runs supervised fine-tuning, which takes chat data "
                f"({request.train_path.name} is not): convert it with pytest-finetune prepare."
            )
        if self.deployment is None:
            # Refused before anything is uploaded or paid: the model could not answer.
            raise Refused(
                "Fireworks AI serves a fine-tuned LoRA model only on a deployment of its base "
                f"model, and accuracy is measured from its answers: create one (firectl "
                f"create deployment {request.base_model} --enable-addons) and name it with "
                "deployment='...'."
            )
        names = [
            self._dataset(path.name, path.read_bytes())
            for path in (request.train_path, request.valid_path)
        ]
        return Uploaded(names[0], names[1])

    def _dataset(self, filename: str, content: bytes) -> str:
        """The dataset holding ``content``: found by its hash, else created and uploaded."""
        dataset_id = f"pf-{hashlib.sha256(content).hexdigest()[:24]}"
        dataset = None
        with (
            self.errors(f"reading dataset {dataset_id}"),
            contextlib.suppress(fireworks.NotFoundError),
        ):
            dataset = self.client.datasets.get(dataset_id)
        if dataset is None:
            with self.errors(f"creating the dataset for {filename}"):
                dataset = self.client.datasets.create(
                    dataset_id=dataset_id,
                    dataset={
                        "display_name": filename,
                        "example_count": str(content.count(b"\n") + (not content.endswith(b"\n"))),
                        "user_uploaded": {},
                    },
                )
        if dataset.state != "READY":
            with self.errors(f"uploading {filename}"):
                self.client.datasets.upload(dataset_id, file=(filename, content))
        return str(dataset.name or f"accounts/{self.account}/datasets/{dataset_id}")

    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        given = request.hyperparameters
        options: dict[str, Any] = {
            name: given[ours]
            for ours, name in (
                ("n_epochs", "epochs"),
                ("batch_size", "batch_size_samples"),
                ("learning_rate", "learning_rate"),
                ("lora_rank", "lora_rank"),
            )
            if ours in given
        }
        if files.validation:
            options["evaluation_dataset"] = files.validation
        marker = tag(request.metadata[METADATA_KEY])
        display = f"{request.suffix}-{marker}" if request.suffix else marker
        with self.errors(f"creating a fine-tuning job for {request.base_model}"):
            job = self.client.supervised_fine_tuning_jobs.create(
                dataset=files.training,
                base_model=str(request.base_model),
                display_name=display,
                **options,
            )
        return self._job(job)

    def find(self, metadata: Mapping[str, str]) -> Job | None:
        marker = tag(metadata[METADATA_KEY])
        with self.errors("listing fine-tuning jobs"):
            listed = self.client.supervised_fine_tuning_jobs.list(
                order_by="create_time desc", page_size=_FIND_LIMIT
            )
            for index, job in enumerate(listed):
                if index >= _FIND_LIMIT:
                    break
                found = self._job(job)
                if (job.display_name or "").endswith(marker) and found.status != "cancelled":
                    return found
        return None

    def retrieve(self, job_id: str) -> Job:
        with self.errors(f"reading fine-tuning job {job_id}", missing=job_id):
            return self._job(self.client.supervised_fine_tuning_jobs.get(job_id))

    def _job(self, job: Any) -> Job:
        job_id = str(job.name or "").rsplit("/", 1)[-1]
        self._seen[job_id] = job
        status = STATES.get(job.state or "", "queued")
        failure = job.status if status == "failed" else None
        return Job(
            id=job_id,
            status=status,
            base_model=str(job.base_model),
            fine_tuned_model=job.output_model if status == "succeeded" else None,
            created_at=job.create_time.timestamp() if job.create_time else None,
            finished_at=job.completed_time.timestamp() if job.completed_time else None,
            error_code=failure.code if failure and failure.code else None,
            error_message=failure.message if failure and failure.message else None,
        )

    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        job = self._seen.get(job_id)
        if job is None:
            return []
        stamp = job.update_time or job.create_time
        when = stamp.timestamp() if stamp else time.time()
        state = (job.state or "JOB_STATE_UNSPECIFIED").removeprefix("JOB_STATE_")
        events = [JobEvent(f"state:{state}", when, f"Job {state.lower().replace('_', ' ')}")]
        progress = job.job_progress
        if progress is not None and progress.percent is not None:
            epoch = f"epoch {progress.epoch + 1}, " if progress.epoch is not None else ""
            events.append(
                JobEvent(
                    f"progress:{progress.epoch}:{progress.percent}",
                    when,
                    f"Training: {epoch}{progress.percent}% done",
                )
            )
        if (
            job.status is not None
            and job.status.message
            and STATES.get(job.state or "") == "failed"
        ):
            events.append(
                JobEvent(f"error:{job.status.message}", when, job.status.message, "error")
            )
        fresh = [event for event in events if event.id not in seen]
        seen.update(event.id for event in fresh)
        return fresh

    def results(self, job: Job) -> pd.DataFrame:
        # Fireworks publishes a job's losses to Weights & Biases only, not through its API.
        return metrics_frame(())

    def cancel(self, job_id: str) -> Job:
        with self.errors(f"cancelling fine-tuning job {job_id}", missing=job_id):
            self.client.supervised_fine_tuning_jobs.cancel(job_id, body={})
        return self.retrieve(job_id)

    def close(self) -> None:
        self.client.close()
        self._answers.close()

    # -- answering -----------------------------------------------------------------

    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        assert self.deployment is not None  # upload refuses to train without one
        self._load(model, self.deployment)
        return self._answers.predict(f"{model}#{self.deployment}", example, stop, max_answer_chars)

    def _load(self, model: str, deployment: str) -> None:
        """Load the LoRA model on the deployment (once), and wait until it is served."""
        with self._loading:
            if model in self._loaded:
                return
            with self.errors(f"loading {model} on {deployment}"):
                try:
                    loaded = self.client.lora.load(model=model, deployment=deployment)
                except fireworks.ConflictError:
                    loaded = None  # loaded there already
                deadline = time.monotonic() + _LOAD_TIMEOUT
                while loaded is not None and loaded.state != "DEPLOYED":
                    if time.monotonic() > deadline:
                        raise Refused(
                            f"{PROVIDER} did not finish loading {model} on {deployment} in "
                            f"{_LOAD_TIMEOUT:g}s (state {loaded.state}); run again later."
                        )
                    time.sleep(_LOAD_POLL)
                    loaded = self.client.lora.get(str(loaded.name).rsplit("/", 1)[-1])
            self._loaded.add(model)
