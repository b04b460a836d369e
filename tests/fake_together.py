"""A stateful stand-in for the Together AI API on 127.0.0.1, for the together backend's tests.

Written from Together's public API reference (docs.together.ai/reference), for the
endpoints the ``together`` SDK calls on the backend's behalf:

- ``POST /v1/files`` (form: purpose, file_name, file_type, checksum) answers ``302``
  with ``Location`` (where to ``PUT`` the bytes) and ``X-Together-File-Id``, or ``409``
  with the ``file_id`` of a file with the same checksum; then
  ``POST /v1/files/{id}/preprocess``; ``GET /v1/files/{id}``
- ``GET /v1/fine-tunes/models/limits?model_name=``, ``POST /v1/fine-tunes/estimate-price``
- ``POST /v1/fine-tunes``, ``GET /v1/fine-tunes`` (``{"data": [...]}``),
  ``GET /v1/fine-tunes/{id}``, ``POST /v1/fine-tunes/{id}/cancel``,
  ``GET /v1/fine-tunes/{id}/events``, ``GET /v1/fine-tunes/{id}/metrics``
- ``POST /v1/completions`` and ``POST /v1/chat/completions`` (OpenAI-compatible).

A job advances one status each time it is retrieved: ``pending``, ``queued``,
``running`` (where a local classifier is trained on the uploaded file, so the accuracy
measured later is real), ``uploading``, then ``completed`` with a model named
``<user>/<base>-<suffix>-<id>`` that answers completions and chat completions. With
``crash`` set, a running job ends in ``error`` with that message in a ``job_error``
event. Faults (429, 500, refusals) are injected per method and path as in the fake
OpenAI service.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from fake_openai import CHARS_PER_TOKEN, FakeModel, FakeOpenAI, _error, _trained

#: Base models the fake fine-tunes, and whether they are chat models.
FINE_TUNABLE = ("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "Qwen/Qwen2.5-7B-Instruct")
USER = "fake-user"


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


@dataclass
class TogetherFile:
    id: str
    filename: str
    checksum: str
    content: bytes = b""
    created_at: int = field(default_factory=lambda: int(time.time()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "FileType": "jsonl",
            "purpose": "fine-tune",
            "processing_status": "COMPLETED",
        }


@dataclass
class TogetherJob:
    id: str
    body: dict[str, Any]
    created_at: float
    status: str = "pending"
    updated_at: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, float]] = field(default_factory=list)
    running_polls: int = 0
    output_name: str | None = None
    token_count: int | None = None
    trained: FakeModel | None = None

    @property
    def suffix(self) -> str | None:
        return self.body.get("suffix")

    def to_dict(self) -> dict[str, Any]:
        training_type = self.body.get("training_type") or {
            "type": "Lora",
            "lora_r": 64,
            "lora_alpha": 128,
        }
        return {
            "id": self.id,
            "status": self.status,
            "user_id": USER,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at or self.created_at),
            "model": self.body["model"],
            "model_output_name": self.output_name,
            "adapter_output_name": None,
            "suffix": self.suffix,
            "n_epochs": self.body.get("n_epochs", 1),
            "n_evals": self.body.get("n_evals", 0),
            "batch_size": self.body.get("batch_size", 8),
            "learning_rate": self.body.get("learning_rate", 1e-5),
            "training_file": self.body["training_file"],
            "validation_file": self.body.get("validation_file") or None,
            "training_type": training_type,
            "training_method": self.body.get("training_method"),
            "token_count": self.token_count,
            "random_seed": self.body.get("random_seed"),
        }


class FakeTogether(FakeOpenAI):
    """The service: Together's fine-tuning API on top of the fake OpenAI inference."""

    def __init__(self, api_key: str, *, running_polls: int = 2) -> None:
        super().__init__(api_key, running_polls=running_polls)
        self.uploads: dict[str, TogetherFile] = {}
        self.together_jobs: dict[str, TogetherJob] = {}
        #: When set, a running job fails with this message.
        self.crash: str | None = None

    @property
    def url(self) -> str:
        """Together's base URL (the SDK adds ``/v1``)."""
        return self.origin

    def job(self, job_id: str | None = None) -> TogetherJob:  # type: ignore[override]
        if job_id is None:
            [only] = self.together_jobs.values()
            return only
        return self.together_jobs[job_id]

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "PUT" and raw_path.startswith("/upload/"):
            # The presigned storage URL: no API key, the bytes only.
            with self._lock:
                file = self.uploads.get(raw_path.removeprefix("/upload/"))
                if file is None:
                    return 404, b"", {}
                file.content = body
            return 200, b"", {}
        return super().handle(method, raw_path, headers, body)

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        if parts == ["files"] and method == "POST":
            return self._start_upload(body)
        if parts[0] == "files" and len(parts) >= 2:
            file = self.uploads.get(parts[1])
            if file is None:
                return _error(404, f"File {parts[1]} not found")
            return 200, file.to_dict(), {}
        if parts == ["fine-tunes", "models", "limits"]:
            return self._limits(query.get("model_name", ""))
        if parts == ["fine-tunes", "estimate-price"] and method == "POST":
            return self._estimate(body)
        if parts == ["fine-tunes"]:
            if method == "POST":
                return self._create(body)
            jobs = [job.to_dict() for job in self.together_jobs.values()]
            return 200, {"data": jobs}, {}
        if parts[0] == "fine-tunes" and len(parts) >= 2:
            job = self.together_jobs.get(parts[1])
            if job is None:
                return _error(404, f"Fine-tune job {parts[1]} not found")
            if len(parts) == 2:
                self._advance(job)  # type: ignore[arg-type]
                return 200, job.to_dict(), {}
            if parts[2] == "events":
                return 200, {"data": list(job.events)}, {}
            if parts[2] == "metrics":
                return 200, {"metrics": self._metrics(job)}, {}
            if parts[2] == "cancel" and method == "POST":
                if job.status not in ("completed", "error", "cancelled"):
                    job.status = "cancelled"
                    self._log(job, "cancel_requested", "Job cancellation was requested")
                return 200, job.to_dict(), {}
        return super()._dispatch(method, path, query, body)

    # -- files --------------------------------------------------------------------

    def _start_upload(self, form: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        checksum = form["checksum"]
        for file in self.uploads.values():
            if file.checksum == checksum and file.content:
                return 409, {"file_id": file.id, "message": "File already exists"}, {}
        file = TogetherFile(self._id("file"), form["file_name"], checksum)
        self.uploads[file.id] = file
        return (
            302,
            b"",
            {"Location": f"{self.origin}/upload/{file.id}", "X-Together-File-Id": file.id},
        )

    # -- jobs ---------------------------------------------------------------------

    def _limits(self, model: str) -> tuple[int, Any, dict[str, str]]:
        if model not in FINE_TUNABLE:
            return _error(404, f"Model {model} is not available for fine-tuning")
        return (
            200,
            {
                "model_name": model,
                "default_gradient_accumulation_steps": 1,
                "lora_training": {
                    "default_rank": 64,
                    "max_batch_size": 96,
                    "max_batch_size_dpo": 48,
                    "max_rank": 64,
                    "min_batch_size": 8,
                    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
                },
                "full_training": {
                    "max_batch_size": 96,
                    "max_batch_size_dpo": 48,
                    "min_batch_size": 8,
                },
                "max_learning_rate": 1.0,
                "min_learning_rate": 0.0,
                "max_num_checkpoints": 10,
                "max_num_epochs": 20,
                "max_num_evals": 10,
                "max_seq_length_dpo": 8192,
                "max_seq_length_sft": 8192,
                "min_max_seq_length": 512,
                "merge_output_lora": False,
                "supports_full_training": True,
                "supports_reasoning": False,
                "supports_tools": False,
                "supports_vision": False,
            },
            {},
        )

    def _estimate(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        file = self.uploads.get(body.get("training_file", ""))
        if file is None:
            return (
                200,
                {"estimation_available": False, "unavailable_reason": "train_file_invalid"},
                {},
            )
        tokens = len(file.content) // CHARS_PER_TOKEN * int(body.get("n_epochs") or 1)
        return (
            200,
            {
                "estimation_available": True,
                "allowed_to_proceed": True,
                "estimated_total_price": tokens * 0.48 / 1e6,
                "estimated_train_token_count": tokens,
                "estimated_eval_token_count": 0,
                "user_limit": 100.0,
            },
            {},
        )

    def _create(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if body.get("training_file") not in self.uploads:
            return _error(400, f"Training file {body.get('training_file')} not found")
        if body.get("model") not in FINE_TUNABLE:
            return _error(400, f"Model {body.get('model')} is not available for fine-tuning")
        job = TogetherJob(self._id("ft"), body, time.time())
        self.together_jobs[job.id] = job
        self._log(job, "job_pending", "Fine-tune request created")
        return 200, job.to_dict(), {}

    def _advance(self, job: TogetherJob) -> None:  # type: ignore[override]
        job.updated_at = time.time()
        if job.status == "pending":
            job.status = "queued"
            self._log(job, "job_start", "Job started")
        elif job.status == "queued":
            job.status = "running"
            self._log(job, "training_start", "Training started")
            self._train(job)  # type: ignore[arg-type]
        elif job.status == "running":
            job.running_polls += 1
            if self.crash:
                job.status = "error"
                self._log(job, "job_error", self.crash, level="error")
            elif job.running_polls > self.running_polls and not self.hold.is_set():
                job.status = "uploading"
                self._log(job, "training_complete", "Training completed")
        elif job.status == "uploading":
            assert job.trained is not None
            base = job.body["model"].split("/")[-1]
            digest = hashlib.sha256(job.id.encode()).hexdigest()[:6]
            job.output_name = f"{USER}/{base}-{job.suffix or 'ft'}-{digest}"
            self.models[job.output_name] = job.trained
            job.status = "completed"
            self._log(job, "model_upload_complete", f"Model uploaded: {job.output_name}")
            self._log(job, "job_complete", "Job finished")

    def _train(self, job: TogetherJob) -> None:  # type: ignore[override]
        validation = job.body.get("validation_file")
        classifier, steps, train = _trained(
            self.uploads[job.body["training_file"]].content,
            self.uploads[validation].content if validation else b"",
            job.body.get("n_epochs"),
            job.body.get("batch_size") if isinstance(job.body.get("batch_size"), int) else None,
            job.body.get("random_seed") or 42,
        )
        job.steps = list(steps)
        job.token_count = len(self.uploads[job.body["training_file"]].content) // CHARS_PER_TOKEN
        chat = train.format.value != "prompt_completion"
        job.trained = FakeModel(classifier, train.separator, train.stop, chat=chat)

    def _metrics(self, job: TogetherJob) -> list[dict[str, float]]:
        rows = []
        for row in job.steps:
            metrics = {"global_step": row["step"], "loss": row["train_loss"], "lr": 1e-5}
            if "valid_loss" in row:
                metrics["eval_loss"] = row["valid_loss"]
            rows.append(metrics)
        return rows

    def _log(self, job: TogetherJob, kind: str, message: str, *, level: str = "info") -> None:
        job.events.append(
            {
                "object": "fine-tune-event",
                "created_at": _iso(time.time()),
                "message": message,
                "type": kind,
                "level": level,
            }
        )
