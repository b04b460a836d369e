"""The ``together`` backend: fine-tuning on Together AI through the ``together`` SDK.

Files are uploaded with the SDK's upload (which checks them first, as Together's CLI
does), jobs are created with ``fine_tuning.create`` (LoRA unless the provider says
otherwise; ``lora_rank``, ``lora_alpha`` and ``lora_dropout`` set it up), followed
with ``retrieve`` and ``list_events``, and measured with ``list_metrics``. Together
jobs carry no metadata, so the job key travels in the suffix of the job (and of the
model's name): ``find`` lists the jobs and matches it. The fine-tuned model answers
through Together's OpenAI-compatible API, on the serverless LoRA service or on the
dedicated endpoint a declaration names with ``deployment``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import together
from together.lib import FileTypeError

from pytest_finetune.formats import Format
from pytest_finetune.redact import redact
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

DEFAULT_BASE_URL = "https://api.together.ai"
PROVIDER = "Together AI"
#: Together's job statuses as the orchestration knows them.
STATUSES = {
    "pending": "queued",
    "queued": "queued",
    "running": "running",
    "compressing": "running",
    "uploading": "running",
    "cancel_requested": "cancelled",
    "cancelled": "cancelled",
    "error": "failed",
    "completed": "succeeded",
}
#: Together's suffix holds up to 40 characters; the key's tag takes the last 15.
_SUFFIX_LIMIT = 40
_TAG = "pf{}"
_TAG_CHARS = 12
_LEVELS = {
    "warning": "warning",
    "legacy_iwarning": "warning",
    "error": "error",
    "legacy_ierror": "error",
}
#: Together's metric names and the ones thresholds use.
_METRICS = {
    "global_step": "step",
    "loss": "train_loss",
    "train_loss": "train_loss",
    "eval_loss": "valid_loss",
    "valid_loss": "valid_loss",
}


def tag(key: str) -> str:
    """What of the job key goes into the job's suffix, so that ``find`` knows the job."""
    return _TAG.format(key[:_TAG_CHARS])


class TogetherBackend(Backend):
    """Fine-tuning on Together AI."""

    name = "together"
    hyperparameters = (
        "n_epochs",
        "batch_size",
        "learning_rate",
        "lora_rank",
        "lora_alpha",
        "lora_dropout",
    )
    #: Together trains one epoch unless told otherwise.
    default_epochs = 1

    def __init__(
        self,
        settings: TrainingSettings,
        *,
        deployment: str | None = None,
        client: together.Together | None = None,
    ) -> None:
        options = settings.together
        self.key_env = options.api_key_env
        key = api_key(PROVIDER, options.api_key_env, "together")
        self.base_url = (
            options.base_url or os.environ.get("TOGETHER_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.client = client or together.Together(
            api_key=key,
            base_url=self.base_url,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )
        self.errors = Errors(together, PROVIDER, options.api_key_env, self.base_url)
        self.deployment = deployment
        self._answers = answerer(
            settings,
            provider=PROVIDER,
            key=key,
            key_env=options.api_key_env,
            base_url=f"{self.base_url}/v1",
            timeout=options.timeout,
            serving_hint=(
                "Together serves a fine-tuned model serverless only for some base models: "
                "start a dedicated endpoint for it and name the endpoint with deployment='...'."
            ),
        )

    @classmethod
    def connect(cls, name: str, settings: TrainingSettings, spec: TrainSpec | None) -> Backend:
        return cls(settings, deployment=spec.deployment if spec else None)

    @property
    def identity(self) -> str:
        return f"{self.name} {self.base_url}"

    # -- training ------------------------------------------------------------------

    def upload(self, request: TrainingRequest) -> Uploaded:
        ids = []
        for path in (request.train_path, request.valid_path):
            with self.errors(f"uploading {path.name}"):
                try:
                    uploaded = self.client.files.upload(file=path, purpose="fine-tune", check=True)
                except FileTypeError as error:
                    raise Refused(
                        redact(f"{PROVIDER}'s file check refused {path.name}: {error}")
                    ) from None
            ids.append(uploaded.id)
        return Uploaded(ids[0], ids[1])

    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        given = request.hyperparameters
        options: dict[str, Any] = {
            name: given[ours]
            for ours, name in (
                ("n_epochs", "n_epochs"),
                ("batch_size", "batch_size"),
                ("learning_rate", "learning_rate"),
                ("lora_rank", "lora_r"),
                ("lora_alpha", "lora_alpha"),
                ("lora_dropout", "lora_dropout"),
            )
            if ours in given
        }
        if any(name.startswith("lora_") for name in given):
            options["lora"] = True
        if request.seed is not None:
            options["random_seed"] = request.seed
        if request.train.format is Format.PREFERENCE:
            options["training_method"] = "dpo"
        else:
            # Said, not left to the SDK, which warns on stderr when it picks it.
            options["train_on_inputs"] = "auto"
        marker = tag(request.metadata[METADATA_KEY])
        room = _SUFFIX_LIMIT - len(marker) - 1
        suffix = f"{request.suffix[:room]}-{marker}" if request.suffix else marker
        with self.errors(f"creating a fine-tuning job for {request.base_model}"):
            created = self.client.fine_tuning.create(
                training_file=files.training,
                validation_file=files.validation,
                # One evaluation on the validation file at the end: its loss is a figure
                # thresholds can assert (max_valid_loss).
                n_evals=1,
                model=str(request.base_model),
                suffix=suffix,
                **options,
            )
        return self.retrieve(created.id)

    def find(self, metadata: Mapping[str, str]) -> Job | None:
        marker = tag(metadata[METADATA_KEY])
        with self.errors("listing fine-tuning jobs"):
            listed = [_fields(job) for job in self.client.fine_tuning.list().data]
        listed.sort(key=lambda job: str(job.get("created_at") or ""), reverse=True)
        for job in listed:
            status = STATUSES.get(str(job.get("status")), "queued")
            if str(job.get("suffix") or "").endswith(marker) and status != "cancelled":
                return self.retrieve(str(job["id"]))
        return None

    def retrieve(self, job_id: str) -> Job:
        with self.errors(f"reading fine-tuning job {job_id}", missing=job_id):
            job = _fields(self.client.fine_tuning.retrieve(job_id))
        status = STATUSES.get(str(job.get("status")), "queued")
        message = None
        if status == "failed":
            errors = [e.message for e in self._events(job_id) if e.level == "error"]
            message = errors[-1] if errors else None
        epochs = job.get("epochs_completed") or job.get("n_epochs") or 1
        tokens = job.get("token_count")
        return Job(
            id=job_id,
            status=status,
            base_model=str(job.get("model")),
            fine_tuned_model=job.get("model_output_name") if status == "succeeded" else None,
            created_at=_seconds(job.get("created_at")),
            finished_at=_seconds(job.get("updated_at"))
            if status in ("succeeded", "failed")
            else None,
            trained_tokens=int(tokens) * int(epochs) if tokens else None,
            error_message=message,
        )

    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        fresh = [event for event in self._events(job_id) if event.id not in seen]
        seen.update(event.id for event in fresh)
        return fresh

    def _events(self, job_id: str) -> list[JobEvent]:
        with self.errors(f"reading the events of {job_id}"):
            listed = self.client.fine_tuning.list_events(job_id).data
        events = []
        # Together's events have no ids; the log only grows, so the place is one.
        for index, event in enumerate(listed):
            level = "error" if event.type == "job_error" else _LEVELS.get(event.level or "", "info")
            data = None
            if event.step is not None:
                data = {"step": event.step, "total_steps": event.total_steps}
            created = _seconds(event.created_at) or 0.0
            events.append(JobEvent(f"{index}", created, event.message, level, data))
        return events

    def results(self, job: Job) -> pd.DataFrame:
        with self.errors(f"reading the metrics of {job.id}"):
            rows = self.client.fine_tuning.list_metrics(job.id).metrics or []
        return metrics_frame(
            {_METRICS.get(name, name): value for name, value in row.items()} for row in rows
        )

    def cancel(self, job_id: str) -> Job:
        with self.errors(f"cancelling fine-tuning job {job_id}", missing=job_id):
            self.client.fine_tuning.cancel(job_id)
        return self.retrieve(job_id)

    def close(self) -> None:
        self.client.close()
        self._answers.close()

    # -- answering -----------------------------------------------------------------

    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        return self._answers.predict(self.deployment or model, example, stop, max_answer_chars)


def _fields(job: Any) -> dict[str, Any]:
    """A job's fields by their API names, whichever of the SDK's job types it is."""
    fields: dict[str, Any] = job.model_dump(by_alias=True, mode="json", warnings=False)
    return fields


def _seconds(value: object) -> float | None:
    """Seconds since the epoch of an ISO 8601 time (``None`` if there is none)."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
