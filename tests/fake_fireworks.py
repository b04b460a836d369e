"""A stateful stand-in for the Fireworks AI API on 127.0.0.1, for the fireworks backend's tests.

Written from Fireworks' public API reference (docs.fireworks.ai/api-reference), for the
endpoints the ``fireworks-ai`` SDK calls on the backend's behalf, under
``/v1/accounts/{account}/``:

- ``datasets`` (``POST``: ``datasetId`` and ``dataset``; 409 when it exists),
  ``datasets/{id}`` (``GET``), ``datasets/{id}:upload`` (multipart ``file``)
- ``supervisedFineTuningJobs`` (``POST``, and ``GET`` with ``pageSize`` / ``pageToken``),
  ``supervisedFineTuningJobs/{id}`` (``GET``), ``supervisedFineTuningJobs/{id}:cancel``
- ``deployedModels`` (``POST``: load a LoRA model on a deployment), ``deployedModels/{id}``
- ``/inference/v1/completions`` and ``/inference/v1/chat/completions`` (OpenAI-compatible),
  which answer ``<model>#<deployment>`` once the model is loaded there.

Errors are google.rpc statuses (``{"code": 5, "message": ...}``). A job moves one state
each time it is read: ``JOB_STATE_CREATING``, ``JOB_STATE_VALIDATING``,
``JOB_STATE_RUNNING`` (where a local classifier is trained on the dataset, so accuracy
is real; ``jobProgress.percent`` rises while it runs), then ``JOB_STATE_COMPLETED`` with
``outputModel``. With ``crash`` set a running job ends ``JOB_STATE_FAILED`` with that
``status.message``.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from fake_openai import FakeModel, FakeOpenAI, _trained

ACCOUNT = "fake-account"
DEPLOYMENT = f"accounts/{ACCOUNT}/deployments/intent-base"
FINE_TUNABLE = ("accounts/fireworks/models/llama-v3p1-8b-instruct",)
#: google.rpc codes by HTTP status.
_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13}


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


def _status(status: int, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"code": _CODES.get(status, 2), "message": message, "details": []}, {}


@dataclass
class Dataset:
    id: str
    body: dict[str, Any]
    content: bytes = b""
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": f"accounts/{ACCOUNT}/datasets/{self.id}",
            "displayName": self.body.get("displayName", ""),
            "createTime": _iso(self.created),
            "state": "READY" if self.content else "UPLOADING",
            "exampleCount": self.body.get("exampleCount", "0"),
            "userUploaded": {},
        }


@dataclass
class SftJob:
    id: str
    body: dict[str, Any]
    created: float
    state: str = "JOB_STATE_CREATING"
    updated: float = 0.0
    completed: float | None = None
    percent: int | None = None
    running_polls: int = 0
    output_model: str | None = None
    status: dict[str, str] | None = None
    trained: FakeModel | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.body,
            "name": f"accounts/{ACCOUNT}/supervisedFineTuningJobs/{self.id}",
            "state": self.state,
            "createTime": _iso(self.created),
            "updateTime": _iso(self.updated or self.created),
            "createdBy": "tester@example.com",
        }
        if self.completed is not None:
            data["completedTime"] = _iso(self.completed)
        if self.percent is not None:
            data["jobProgress"] = {"percent": self.percent, "epoch": 0}
        if self.output_model:
            data["outputModel"] = self.output_model
        if self.status:
            data["status"] = self.status
        return data


class FakeFireworks(FakeOpenAI):
    """The service: Fireworks' fine-tuning API on top of the fake OpenAI inference."""

    def __init__(self, api_key: str, *, running_polls: int = 2, page_cap: int = 200) -> None:
        super().__init__(api_key, running_polls=running_polls, page_cap=page_cap)
        self.datasets: dict[str, Dataset] = {}
        self.sft_jobs: dict[str, SftJob] = {}
        self.deployed: dict[str, dict[str, Any]] = {}
        #: When set, a running job fails with this message.
        self.crash: str | None = None

    @property
    def url(self) -> str:
        return self.origin

    def job(self, job_id: str | None = None) -> SftJob:  # type: ignore[override]
        if job_id is None:
            [only] = self.sft_jobs.values()
            return only
        return self.sft_jobs[job_id]

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/inference/v1/"):
            return super()._dispatch(method, path.removeprefix("/inference/v1"), query, body)
        prefix = f"/accounts/{ACCOUNT}/"
        if not path.startswith(prefix):
            return _status(404, f"No route for {method} {path}")
        resource, _, verb = path.removeprefix(prefix).partition(":")
        parts = resource.split("/")
        if parts[0] == "datasets":
            return self._datasets(method, parts, verb, body)
        if parts[0] == "supervisedFineTuningJobs":
            return self._jobs(method, parts, verb, body, query)
        if parts[0] == "deployedModels":
            return self._deployed_models(method, parts, body)
        return _status(404, f"No route for {method} {path}")

    # -- datasets -----------------------------------------------------------------

    def _datasets(
        self, method: str, parts: list[str], verb: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if len(parts) == 1 and method == "POST":
            dataset_id = body["datasetId"]
            if dataset_id in self.datasets:
                return _status(409, f"dataset {dataset_id} already exists")
            self.datasets[dataset_id] = Dataset(dataset_id, body["dataset"])
            return 200, self.datasets[dataset_id].to_dict(), {}
        dataset = self.datasets.get(parts[1]) if len(parts) == 2 else None
        if dataset is None:
            return _status(404, f"dataset not found: accounts/{ACCOUNT}/datasets/{parts[-1]}")
        if verb == "upload" and method == "POST":
            filename, content = body["file"]
            dataset.content = content
            return 200, {"filename": filename, "bytes": len(content), "object": "file"}, {}
        return 200, dataset.to_dict(), {}

    # -- jobs ---------------------------------------------------------------------

    def _jobs(
        self, method: str, parts: list[str], verb: str, body: Any, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if len(parts) == 1 and method == "POST":
            return self._create_job(body)
        if len(parts) == 1:
            jobs = sorted(self.sft_jobs.values(), key=lambda job: job.created, reverse=True)
            start = int(query.get("pageToken") or 0)
            size = min(int(query.get("pageSize") or 50), self.page_cap)
            page = jobs[start : start + size]
            token = str(start + size) if start + size < len(jobs) else ""
            return (
                200,
                {
                    "supervisedFineTuningJobs": [job.to_dict() for job in page],
                    "nextPageToken": token,
                },
                {},
            )
        job = self.sft_jobs.get(parts[1])
        if job is None:
            return _status(404, f"supervised fine-tuning job not found: {parts[1]}")
        if verb == "cancel" and method == "POST":
            if job.state not in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED"):
                job.state = "JOB_STATE_CANCELLED"
            return 200, {}, {}
        self._advance(job)  # type: ignore[arg-type]
        return 200, job.to_dict(), {}

    def _create_job(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        model = body.get("baseModel")
        if model not in FINE_TUNABLE:
            return _status(400, f"base model {model} is not supported for fine-tuning")
        for key in ("dataset", "evaluationDataset"):
            name = body.get(key)
            if name is None:
                continue
            dataset = self.datasets.get(str(name).rsplit("/", 1)[-1])
            if dataset is None or not dataset.content:
                return _status(400, f"dataset {name} is not ready")
        job = SftJob(self._id("sftj"), body, time.time())
        self.sft_jobs[job.id] = job
        return 200, job.to_dict(), {}

    def _advance(self, job: SftJob) -> None:  # type: ignore[override]
        job.updated = time.time()
        if job.state == "JOB_STATE_CREATING":
            job.state = "JOB_STATE_VALIDATING"
        elif job.state == "JOB_STATE_VALIDATING":
            job.state = "JOB_STATE_RUNNING"
            job.percent = 0
            self._train(job)  # type: ignore[arg-type]
        elif job.state == "JOB_STATE_RUNNING":
            job.running_polls += 1
            if self.crash:
                job.state = "JOB_STATE_FAILED"
                job.status = {"code": "INTERNAL", "message": self.crash}
                job.completed = time.time()
            elif job.running_polls > self.running_polls and not self.hold.is_set():
                job.state = "JOB_STATE_COMPLETED"
                job.percent = 100
                job.completed = time.time()
                job.output_model = f"accounts/{ACCOUNT}/models/{job.id}"
            else:
                job.percent = min(99, 100 * job.running_polls // (self.running_polls + 1))

    def _train(self, job: SftJob) -> None:  # type: ignore[override]
        train = self.datasets[job.body["dataset"].rsplit("/", 1)[-1]].content
        name = job.body.get("evaluationDataset")
        valid = self.datasets[name.rsplit("/", 1)[-1]].content if name else b""
        classifier, _steps, examples = _trained(
            train, valid, job.body.get("epochs"), job.body.get("batchSizeSamples"), 42
        )
        chat = examples.format.value != "prompt_completion"
        job.trained = FakeModel(classifier, examples.separator, examples.stop, chat=chat)

    # -- serving ------------------------------------------------------------------

    def _deployed_models(
        self, method: str, parts: list[str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if len(parts) == 2:
            found = self.deployed.get(parts[1])
            return (200, found, {}) if found else _status(404, "deployed model not found")
        model, deployment = body.get("model"), body.get("deployment")
        if deployment != DEPLOYMENT:
            return _status(404, f"deployment not found: {deployment}")
        job = next((j for j in self.sft_jobs.values() if j.output_model == model), None)
        if job is None or job.trained is None:
            return _status(404, f"model not found: {model}")
        served = f"{model}#{deployment}"
        if served in self.models:
            return _status(409, f"model {model} is already deployed to {deployment}")
        self.models[served] = job.trained
        deployed_id = self._id("dm")
        self.deployed[deployed_id] = {
            "name": f"accounts/{ACCOUNT}/deployedModels/{deployed_id}",
            "model": model,
            "deployment": deployment,
            "state": "DEPLOYED",
            "default": True,
        }
        return 200, self.deployed[deployed_id], {}
