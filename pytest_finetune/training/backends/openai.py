"""The ``openai`` and ``azure`` backends: fine-tuning through the openai package.

OpenAI and Azure OpenAI speak the same API through the package's ``OpenAI`` and
``AzureOpenAI`` clients; Azure serves a fine-tuned model only once it is deployed,
under the ``deployment`` the declaration names. Models are asked, and errors read,
as :mod:`.openai_compatible` does for every OpenAI-compatible service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import openai
import pandas as pd

from pytest_finetune.formats import Format
from pytest_finetune.redact import remember
from pytest_finetune.training.backends.base import (
    Backend,
    Job,
    JobEvent,
    JobNotFound,
    Refused,
    TrainingRequest,
    Uploaded,
)
from pytest_finetune.training.backends.openai_compatible import Errors, ask
from pytest_finetune.training.examples import Example
from pytest_finetune.training.results import (
    ResultsError,
    combine,
    metrics_frame,
    read_results_file,
)
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.state import METADATA_KEY

if TYPE_CHECKING:
    from pytest_finetune.training.spec import TrainSpec

DEFAULT_AZURE_API_VERSION = "2024-10-21"
#: Jobs looked at when searching the provider's list for one with our key.
_FIND_LIMIT = 100
_PAGE = 100


class OpenAIBackend(Backend):
    """Fine-tuning on OpenAI, or on Azure OpenAI with ``azure=True``."""

    def __init__(
        self,
        settings: TrainingSettings,
        *,
        azure: bool = False,
        deployment: str | None = None,
        client: openai.OpenAI | None = None,
    ) -> None:
        self.name = "azure" if azure else "openai"
        self.provider = "Azure OpenAI" if azure else "OpenAI"
        self.azure = azure
        self.deployment = deployment
        self.settings = settings
        self.client = client or (self._azure_client() if azure else self._openai_client())
        options = self.settings.azure if azure else self.settings.openai
        #: The variable the key came from, named when the provider refuses it.
        self.key_env = options.api_key_env
        #: Whether chat answers are limited with ``max_tokens``, which OpenAI-compatible
        #: services take, rather than OpenAI's current ``max_completion_tokens``.
        self.compatible_limit = False
        #: What to do when the provider does not serve the model asked (HTTP 404).
        self.serving_hint = (
            "Azure serves a fine-tuned model only once it is deployed: deploy it and "
            "name the deployment with deployment='...'."
            if azure
            else ""
        )
        # The evaluator retries answers itself, honouring the provider's waits.
        self._answering_client = self.client.with_options(max_retries=0)

    @classmethod
    def connect(cls, name: str, settings: TrainingSettings, spec: TrainSpec | None) -> Backend:
        return cls(settings, azure=name == "azure", deployment=spec.deployment if spec else None)

    @property
    def identity(self) -> str:
        return f"{self.name} {self.client.base_url}"

    def _openai_client(self) -> openai.OpenAI:
        options = self.settings.openai
        key = os.environ.get(options.api_key_env)
        if not key:
            raise Refused(
                f"No OpenAI API key: set the {options.api_key_env} environment variable "
                "(or name another one with api-key-env in [tool.pytest_finetune.training.openai])."
            )
        remember(key)
        return openai.OpenAI(
            api_key=key,
            base_url=options.base_url or os.environ.get("OPENAI_BASE_URL") or None,
            organization=options.organization,
            project=options.project,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )

    def _azure_client(self) -> openai.OpenAI:
        options = self.settings.azure
        key = os.environ.get(options.api_key_env)
        endpoint = options.endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not key or not endpoint:
            missing = [
                what
                for what, value in (
                    (f"the {options.api_key_env} environment variable", key),
                    (
                        "an endpoint (AZURE_OPENAI_ENDPOINT, or endpoint in "
                        "[tool.pytest_finetune.training.azure])",
                        endpoint,
                    ),
                )
                if not value
            ]
            raise Refused(f"Azure OpenAI needs {' and '.join(missing)}.")
        remember(key)
        return openai.AzureOpenAI(
            api_key=key,
            azure_endpoint=endpoint,
            api_version=options.api_version
            or os.environ.get("OPENAI_API_VERSION")
            or DEFAULT_AZURE_API_VERSION,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )

    # -- training ------------------------------------------------------------------

    def upload(self, request: TrainingRequest) -> Uploaded:
        ids = []
        for path in (request.train_path, request.valid_path):
            with self.errors(f"uploading {path.name}"), path.open("rb") as stream:
                ids.append(
                    self.client.files.create(file=(path.name, stream), purpose="fine-tune").id
                )
        return Uploaded(ids[0], ids[1])

    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        method_type = "dpo" if request.train.format is Format.PREFERENCE else "supervised"
        method: dict[str, Any] = {"type": method_type}
        if request.hyperparameters:
            method[method_type] = {"hyperparameters": dict(request.hyperparameters)}
        options: dict[str, Any] = {}
        if request.seed is not None:
            options["seed"] = request.seed
        if request.suffix:
            options["suffix"] = request.suffix
        if request.metadata:
            options["metadata"] = dict(request.metadata)
        with self.errors(f"creating a fine-tuning job for {request.base_model}"):
            job = self.client.fine_tuning.jobs.create(
                model=str(request.base_model),
                training_file=files.training,
                validation_file=files.validation,
                method=method,  # type: ignore[arg-type]
                **options,
            )
        return _job(job)

    def find(self, metadata: Mapping[str, str]) -> Job | None:
        key = metadata.get(METADATA_KEY)
        with self.errors("listing fine-tuning jobs"):
            page = self.client.fine_tuning.jobs.list(limit=_PAGE, metadata=dict(metadata))
            for index, job in enumerate(page):
                if index >= _FIND_LIMIT:
                    break
                # Check the field ourselves: a service that ignores the filter must
                # not make us adopt someone else's job.
                if (job.metadata or {}).get(METADATA_KEY) == key and job.status != "cancelled":
                    return _job(job)
        return None

    def retrieve(self, job_id: str) -> Job:
        with self.errors(f"reading fine-tuning job {job_id}"):
            try:
                return _job(self.client.fine_tuning.jobs.retrieve(job_id))
            except openai.NotFoundError:
                raise JobNotFound(job_id) from None

    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        fresh: list[JobEvent] = []
        with self.errors(f"reading the events of {job_id}"):
            # Newest first: stop at the first event already shown.
            for event in self.client.fine_tuning.jobs.list_events(job_id, limit=_PAGE):
                if event.id in seen:
                    break
                data = event.data if isinstance(event.data, dict) else None
                fresh.append(
                    JobEvent(event.id, float(event.created_at), event.message, event.level, data)
                )
        seen.update(event.id for event in fresh)
        fresh.reverse()
        return fresh

    def results(self, job: Job) -> pd.DataFrame:
        frames = []
        for file_id in job.result_files[:1]:
            with self.errors(f"downloading the results file {file_id}"):
                content = self.client.files.content(file_id).content
            try:
                frames.append(read_results_file(content))
            except ResultsError as error:
                raise Refused(
                    f"{self.provider} returned a results file {file_id} that cannot be "
                    f"read: {error}"
                ) from None
        checkpoints = []
        with self.errors(f"listing the checkpoints of {job.id}"):
            for checkpoint in self.client.fine_tuning.jobs.checkpoints.list(job.id, limit=_PAGE):
                figures = checkpoint.metrics.model_dump(exclude_none=True)
                figures.setdefault("step", checkpoint.step_number)
                checkpoints.append(figures)
        frames.append(metrics_frame(checkpoints))
        events: list[JobEvent] = self.events(job.id, set())
        frames.append(metrics_frame(event.data for event in events if event.data))
        return combine(*frames)

    def cancel(self, job_id: str) -> Job:
        with self.errors(f"cancelling fine-tuning job {job_id}"):
            try:
                return _job(self.client.fine_tuning.jobs.cancel(job_id))
            except openai.NotFoundError:
                raise JobNotFound(job_id) from None

    def close(self) -> None:
        self.client.close()

    # -- answering -----------------------------------------------------------------

    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        served = self.deployment or model
        with self.errors(f"asking {served}", retryable=True):
            return ask(
                self._answering_client,
                served,
                example,
                stop,
                max_answer_chars,
                legacy_limit=self.compatible_limit,
            )

    # -- errors --------------------------------------------------------------------

    def errors(self, action: str, *, retryable: bool = False) -> AbstractContextManager[None]:
        """Turn the client's exceptions into :class:`Refused` (or :class:`Retryable`)."""
        # Built on each use: the hosted backends rename the provider and its key's variable.
        errors = Errors(
            self.provider,
            f"{self.provider} at {self.client.base_url}",
            key_advice=f"Check the key in {self.key_env}.",
            reach_advice="Check the network and the base URL; the job state is saved, so "
            "running again resumes.",
            advice=self._advice,
        )
        return errors.translated(action, retryable=retryable)

    def _advice(self, error: openai.APIStatusError, words: str) -> str | None:
        if (
            error.status_code == 404
            and self.serving_hint
            and (not self.azure or "deployment" in words.lower())
        ):
            return self.serving_hint
        return None


def _job(job: Any) -> Job:
    error = job.error
    return Job(
        id=job.id,
        status=job.status,
        base_model=job.model,
        fine_tuned_model=job.fine_tuned_model,
        created_at=job.created_at,
        finished_at=job.finished_at,
        trained_tokens=job.trained_tokens,
        result_files=tuple(job.result_files or ()),
        error_code=error.code if error and error.code else None,
        error_message=error.message if error and error.message else None,
    )
