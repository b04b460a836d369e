"""A stateful stand-in for the OpenAI API on 127.0.0.1, for the openai backend's tests.

It follows the API reference for the endpoints the backend uses, so that the real
openai client talks to it over HTTP:

- ``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``
- ``POST /v1/fine_tuning/jobs``, ``GET /v1/fine_tuning/jobs`` (cursor pagination,
  ``metadata[key]=value`` filter), ``GET /v1/fine_tuning/jobs/{id}``,
  ``POST /v1/fine_tuning/jobs/{id}/cancel``, ``GET .../events``, ``GET .../checkpoints``
  (newest first, ``after`` / ``limit`` / ``has_more``)
- ``POST /v1/completions`` and ``POST /v1/chat/completions``
- the same under ``/openai/...`` with ``api-key`` and ``api-version`` as Azure OpenAI
  serves them (``/openai/deployments/{name}/completions`` for inference).

A job advances one status each time it is retrieved: ``validating_files`` (where the
training file is validated as the service does: JSON lines, the format the base model
takes, at least 10 examples; otherwise the job fails with ``invalid_training_file``),
``queued``, ``running`` (where a local classifier is trained on the uploaded file, so
that the accuracy measured later is real), then ``succeeded`` with checkpoints, a
results file (plain CSV or base64) and a model that answers completions and chat
completions. Faults (429, 500, refusals) are injected per method and path.
"""

from __future__ import annotations

import base64
import email.parser
import functools
import itertools
import json
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pytest_finetune.training.backends.local import LocalClassifier
from pytest_finetune.training.examples import Example, ExampleSet, read_examples

#: Base models that take prompt/completion data; every other model takes chat data.
COMPLETION_MODELS = ("babbage-002", "davinci-002")
FINE_TUNABLE = (*COMPLETION_MODELS, "gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14")
#: The fake's tokens are this many characters (for max_tokens and billing).
CHARS_PER_TOKEN = 4
#: What a model without a stop sequence goes on to write after its answer.
RAMBLE = "\n\n###\n\nThe"


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    #: Whether it came as Azure OpenAI sends it (``/openai/...``, ``api-key``).
    azure: bool = False


@dataclass
class Fault:
    """An error response given instead of the real one, ``times`` times (-1: always)."""

    method: str
    path: re.Pattern[str]
    status: int
    error: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass
class FakeFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int


@dataclass
class FakeModel:
    """A fine-tuned model: the classifier trained on the job's files."""

    classifier: LocalClassifier
    separator: str
    stop: str
    chat: bool

    def answer(self, text: str) -> str:
        return _answer(self.classifier, text)


@dataclass
class FakeJob:
    id: str
    model: str
    training_file: str
    validation_file: str | None
    method: dict[str, Any]
    metadata: dict[str, str] | None
    seed: int
    suffix: str | None
    created_at: int
    status: str = "validating_files"
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    trained_tokens: int | None = None
    result_files: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    steps: list[dict[str, float]] = field(default_factory=list)
    running_polls: int = 0
    trained: FakeModel | None = None

    def hyperparameters(self) -> dict[str, Any]:
        method = self.method.get(self.method.get("type", "supervised")) or {}
        return dict(method.get("hyperparameters") or {})

    def to_dict(self) -> dict[str, Any]:
        hyperparameters = {
            "n_epochs": "auto",
            "batch_size": "auto",
            "learning_rate_multiplier": "auto",
            **self.hyperparameters(),
        }
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "created_at": self.created_at,
            "error": self.error,
            "fine_tuned_model": self.fine_tuned_model,
            "finished_at": self.finished_at,
            "hyperparameters": hyperparameters,
            "model": self.model,
            "organization_id": "org-fake",
            "result_files": self.result_files,
            "seed": self.seed,
            "status": self.status,
            "trained_tokens": self.trained_tokens,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "estimated_finish": None,
            "integrations": [],
            "metadata": self.metadata,
            "method": self.method,
        }


class FakeOpenAI:
    """The service: state, faults and the HTTP server that exposes them."""

    def __init__(
        self,
        api_key: str,
        *,
        results_base64: bool = False,
        running_polls: int = 2,
        page_cap: int = 100,
    ) -> None:
        self.api_key = api_key
        self.results_base64 = results_base64
        #: Retrievals a job stays ``running`` (while ``hold`` is set, it stays there).
        self.running_polls = running_polls
        #: The most items one page holds, whatever ``limit`` asks (to exercise paging).
        self.page_cap = page_cap
        self.hold = threading.Event()
        self.files: dict[str, FakeFile] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.models: dict[str, FakeModel] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # Handler threads wait on keep-alive connections; closing must not wait for them.
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # -- lifecycle and inspection -------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The OpenAI base URL (``.../v1``)."""
        return self.origin + "/v1"

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and the regular expression ``path``."""
        pattern = re.compile(path)
        return sum(1 for r in self.requests if r.method == method and pattern.fullmatch(r.path))

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        kind: str = "invalid_request_error",
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an error (-1: all of them).

        ``path`` is a regular expression over the path without ``/v1`` or ``/openai``.
        """
        self.faults.append(
            Fault(
                method,
                re.compile(path),
                status,
                {"message": message, "type": kind, "param": None, "code": code},
                {"retry-after-ms": "1", **(headers or {})},
                times,
            )
        )

    def job(self, job_id: str | None = None) -> FakeJob:
        """A job (the only one, when no id is given)."""
        if job_id is None:
            [only] = self.jobs.values()
            return only
        return self.jobs[job_id]

    # -- the API ------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        path, azure = _route(split.path)
        content_type = headers.get("content-type", "")
        parsed: Any = None
        if content_type.startswith("application/json") and body:
            parsed = json.loads(body)
        elif content_type.startswith("multipart/form-data"):
            parsed = _multipart(content_type, body)
        with self._lock:
            self.requests.append(Request(method, path, query, parsed, azure))
            given = headers.get("api-key") if azure else _bearer(headers.get("authorization"))
            if given != self.api_key:
                return _error(
                    401,
                    f"Incorrect API key provided: {given}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    code="invalid_api_key",
                )
            if azure and "api-version" not in query:
                return _error(404, "Resource not found")
            for fault in self.faults:
                if fault.times != 0 and fault.method == method and fault.path.fullmatch(path):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault.status, {"error": fault.error}, fault.headers
            status, payload, extra = self._dispatch(method, path, query, parsed)
            if azure and status == 404 and _error_code(payload) == "model_not_found":
                return _error(
                    404,
                    "The API deployment for this resource does not exist. If you created the "
                    "deployment within the last 5 minutes, please wait a moment and try again.",
                    code="DeploymentNotFound",
                )
            return status, payload, extra

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        if parts == ["files"] and method == "POST":
            return self._upload(body)
        if parts[0] == "files" and len(parts) >= 2 and parts[1] in self.files:
            file = self.files[parts[1]]
            if len(parts) == 3 and parts[2] == "content":
                return 200, file.content, {"content-type": "application/octet-stream"}
            return 200, _file_object(file), {}
        if parts == ["fine_tuning", "jobs"]:
            return self._create(body) if method == "POST" else self._list_jobs(query)
        if parts[:2] == ["fine_tuning", "jobs"] and len(parts) >= 3:
            job = self.jobs.get(parts[2])
            if job is None:
                return _error(404, f"No such fine-tuning job: {parts[2]}", code="not_found")
            if len(parts) == 3:
                self._advance(job)
                return 200, job.to_dict(), {}
            if parts[3] == "events":
                return 200, self._page(job.events[::-1], query), {}
            if parts[3] == "checkpoints":
                return 200, self._page(job.checkpoints[::-1], query), {}
            if parts[3] == "cancel" and method == "POST":
                if job.status not in ("succeeded", "failed", "cancelled"):
                    job.status = "cancelled"
                    self._event(job, "Fine-tuning job cancelled")
                return 200, job.to_dict(), {}
        if parts == ["completions"] and method == "POST":
            return self._complete(body)
        if parts == ["chat", "completions"] and method == "POST":
            return self._chat(body)
        return _error(404, f"Invalid URL ({method} {path})")

    def _upload(self, form: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        name, content = form["file"]
        file = FakeFile(self._id("file"), name, form["purpose"], content, int(time.time()))
        self.files[file.id] = file
        return 200, _file_object(file), {}

    def _create(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        training = body.get("training_file")
        if training not in self.files:
            return _error(400, f"invalid training_file: {training}", code="invalid_request_error")
        if body.get("model") not in FINE_TUNABLE:
            return _error(
                400,
                f"Model {body.get('model')} is not available for fine-tuning or does not exist.",
                code="model_not_available",
            )
        metadata = body.get("metadata")
        job = FakeJob(
            id=self._id("ftjob"),
            model=body["model"],
            training_file=training,
            validation_file=body.get("validation_file"),
            method=body.get("method") or {"type": "supervised"},
            metadata=metadata,
            seed=body.get("seed") or 42,
            suffix=body.get("suffix"),
            created_at=int(time.time()),
        )
        self.jobs[job.id] = job
        self._event(job, f"Created fine-tuning job: {job.id}")
        self._event(job, f"Validating training file: {training}")
        return 200, job.to_dict(), {}

    def _list_jobs(self, query: dict[str, str]) -> Any:
        wanted = {
            key[len("metadata[") : -1]: value
            for key, value in query.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        jobs = [
            job.to_dict()
            for job in reversed(self.jobs.values())
            if all((job.metadata or {}).get(key) == value for key, value in wanted.items())
        ]
        return 200, self._page(jobs, query), {}

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        """Newest-first items after the ``after`` cursor, at most ``limit`` of them."""
        start = 0
        if "after" in query:
            ids = [item["id"] for item in items]
            start = ids.index(query["after"]) + 1 if query["after"] in ids else len(items)
        limit = min(int(query.get("limit", 20)), self.page_cap)
        page = items[start : start + limit]
        return {
            "object": "list",
            "data": page,
            "has_more": start + limit < len(items),
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }

    # -- a job's life -------------------------------------------------------------

    def _advance(self, job: FakeJob) -> None:
        if job.status == "validating_files":
            problem = self._validate(job)
            if problem:
                job.status = "failed"
                job.finished_at = int(time.time())
                job.error = {
                    "code": "invalid_training_file",
                    "message": f"The job failed due to an invalid training file. {problem}",
                    "param": "training_file",
                }
                self._event(job, job.error["message"], level="error")
            else:
                job.status = "queued"
                self._event(job, "Files validated, moving job to queued state")
        elif job.status == "queued":
            job.status = "running"
            self._event(job, "Fine-tuning job started")
            self._train(job)
        elif job.status == "running":
            job.running_polls += 1
            shown = len(job.steps) * job.running_polls // (self.running_polls + 1)
            self._step_events(job, shown)
            if job.running_polls > self.running_polls and not self.hold.is_set():
                self._succeed(job)

    def _validate(self, job: FakeJob) -> str | None:
        content = self.files[job.training_file].content
        chat = job.model not in COMPLETION_MODELS
        examples = 0
        for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
            try:
                record = json.loads(line)
            except ValueError:
                return f"Invalid file format. Line {number} is not valid JSON."
            if chat and "messages" not in record:
                return (
                    f"Invalid file format. Example {number}: the model {job.model} requires "
                    "data in the chat-completion format (a 'messages' list)."
                )
            if not chat and not ("prompt" in record and "completion" in record):
                return (
                    f"Invalid file format. Example {number}: the model {job.model} requires "
                    "'prompt' and 'completion' keys."
                )
            examples += 1
        if examples < 10:
            return f"Training file has {examples} example(s), but must have at least 10 examples."
        return None

    def _train(self, job: FakeJob) -> None:
        hyperparameters = job.hyperparameters()
        classifier, steps, train = _trained(
            self.files[job.training_file].content,
            self.files[job.validation_file].content if job.validation_file else b"",
            hyperparameters.get("n_epochs"),
            hyperparameters.get("batch_size"),
            job.seed,
        )
        job.steps = list(steps)
        tokens = len(self.files[job.training_file].content) // CHARS_PER_TOKEN
        job.trained_tokens = tokens * classifier.epochs_trained
        job.trained = FakeModel(
            classifier,
            train.separator,
            train.stop,
            chat=job.model not in COMPLETION_MODELS,
        )
        job.running_polls = 0
        self._step_events(job, 0)

    def _step_events(self, job: FakeJob, shown: int) -> None:
        already = sum(1 for event in job.events if event.get("type") == "metrics")
        total = len(job.steps)
        for row in job.steps[already:shown]:
            step = int(row["step"])
            data = {
                "step": step,
                "total_steps": total,
                "train_loss": row["train_loss"],
                "train_mean_token_accuracy": row["train_accuracy"],
            }
            message = f"Step {step}/{total}: training loss={row['train_loss']:.2f}"
            if "valid_loss" in row:
                data["valid_loss"] = row["valid_loss"]
                data["valid_mean_token_accuracy"] = row["valid_mean_token_accuracy"]
                message += f", validation loss={row['valid_loss']:.2f}"
            self._event(job, message, kind="metrics", data=data)

    def _succeed(self, job: FakeJob) -> None:
        self._step_events(job, len(job.steps))
        model_name = f"ft:{job.model}:fake-org:{job.suffix or ''}:{job.id[-6:]}"
        ends = [row for row in job.steps if "full_valid_loss" in row] or job.steps[-1:]
        for row in ends[-3:]:
            step = int(row["step"])
            checkpoint_model = (
                model_name if row is job.steps[-1] else f"{model_name}:ckpt-step-{step}"
            )
            metrics = {
                "step": float(step),
                "train_loss": row["train_loss"],
                "train_mean_token_accuracy": row["train_accuracy"],
            }
            for key in (
                "valid_loss",
                "valid_mean_token_accuracy",
                "full_valid_loss",
                "full_valid_mean_token_accuracy",
            ):
                if key in row:
                    metrics[key] = row[key]
            job.checkpoints.append(
                {
                    "id": self._id("ftckpt"),
                    "object": "fine_tuning.job.checkpoint",
                    "created_at": int(time.time()),
                    "fine_tuned_model_checkpoint": checkpoint_model,
                    "fine_tuning_job_id": job.id,
                    "metrics": metrics,
                    "step_number": step,
                }
            )
            self._event(job, f"Checkpoint created at step {step}")
        csv = _results_csv(job.steps).encode()
        content = base64.b64encode(csv) if self.results_base64 else csv
        results = FakeFile(
            self._id("file"), "step_metrics.csv", "fine-tune-results", content, int(time.time())
        )
        self.files[results.id] = results
        job.result_files = [results.id]
        assert job.trained is not None
        self.models[model_name] = job.trained
        job.fine_tuned_model = model_name
        job.status = "succeeded"
        job.finished_at = int(time.time())
        self._event(job, f"New fine-tuned model created: {model_name}")
        self._event(job, "The job has successfully completed")

    def _event(
        self,
        job: FakeJob,
        message: str,
        *,
        level: str = "info",
        kind: str = "message",
        data: dict[str, Any] | None = None,
    ) -> None:
        job.events.append(
            {
                "id": self._id("ftevent"),
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data or {},
                "type": kind,
            }
        )

    # -- inference ----------------------------------------------------------------

    def _complete(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        model = self.models.get(body.get("model", ""))
        if model is None or model.chat:
            return _model_missing(body.get("model"), chat=model is not None)
        prompt = body["prompt"]
        label = model.answer(Example(0, "", prompt=prompt).text(model.separator))
        text, reason = _generate(
            label + model.stop + RAMBLE, body.get("stop"), body.get("max_tokens")
        )
        return (
            200,
            {
                "id": self._id("cmpl"),
                "object": "text_completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}],
                "usage": _usage(prompt, text),
            },
            {},
        )

    def _chat(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        model = self.models.get(body.get("model", ""))
        if model is None or not model.chat:
            return _model_missing(body.get("model"), chat=False)
        messages = tuple(body["messages"])
        label = model.answer(Example(0, "", messages=messages).text())
        return (
            200,
            {
                "id": self._id("chatcmpl"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": label, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": _usage(json.dumps(messages), label),
            },
            {},
        )

    # -- helpers ------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"


@functools.lru_cache(maxsize=16)
def _trained(
    train: bytes, valid: bytes, epochs: int | None, batch_size: int | None, seed: int
) -> tuple[LocalClassifier, tuple[dict[str, float], ...], ExampleSet]:
    """A classifier trained on the files' bytes, as the service's training would.

    Training is deterministic, so the same bytes and parameters give the same model:
    tests that train the same split many times share one fit.
    """
    with tempfile.TemporaryDirectory(prefix="fake-openai-") as folder:
        train_path = Path(folder, "train.jsonl")
        train_path.write_bytes(train)
        examples = read_examples(train_path)
        held_out: ExampleSet | None = None
        if valid:
            valid_path = Path(folder, "valid.jsonl")
            valid_path.write_bytes(valid)
            held_out = read_examples(valid_path, examples.conventions)
    classifier = LocalClassifier(epochs=epochs, batch_size=batch_size, seed=seed)
    steps = classifier.fit(
        examples.texts(),
        [e.expected for e in examples.examples],
        held_out.texts() if held_out else (),
        [e.expected for e in held_out.examples] if held_out else (),
    )
    return classifier, tuple(steps), examples


@functools.lru_cache(maxsize=4096)
def _answer(classifier: LocalClassifier, text: str) -> str:
    """The classifier's label for ``text``, remembered: tests ask the same questions often."""
    return classifier.answer([text])[0]


def _route(path: str) -> tuple[str, bool]:
    """The API path without its prefix, and whether it came the Azure way."""
    if path.startswith("/openai/"):
        rest = path[len("/openai") :]
        deployment = re.fullmatch(r"/deployments/[^/]+(/.*)", rest)
        return (deployment.group(1) if deployment else rest), True
    return path.removeprefix("/v1"), False


def _error_code(payload: Any) -> str | None:
    error = payload.get("error") if isinstance(payload, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _bearer(header: str | None) -> str | None:
    if header and header.startswith("Bearer "):
        return header[len("Bearer ") :]
    return None


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, Any] = {}
    for part in message.get_payload():  # type: ignore[union-attr]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        filename = part.get_filename()
        form[name] = (filename, payload) if filename else payload.decode()
    return form


def _file_object(file: FakeFile) -> dict[str, Any]:
    return {
        "id": file.id,
        "object": "file",
        "bytes": len(file.content),
        "created_at": file.created_at,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }


def _error(
    status: int, message: str, *, code: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    return (
        status,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        },
        {},
    )


def _model_missing(model: object, *, chat: bool) -> tuple[int, Any, dict[str, str]]:
    if chat:
        return _error(
            404,
            "This is a chat model and not supported in the v1/completions endpoint. "
            "Did you mean to use v1/chat/completions?",
        )
    return _error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def _generate(text: str, stop: object, max_tokens: object) -> tuple[str, str]:
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut >= 0:
        return text[:cut], "stop"
    limit = int(max_tokens or 16) * CHARS_PER_TOKEN
    return text[:limit], "length"


def _usage(prompt: str, text: str) -> dict[str, int]:
    prompt_tokens = max(1, len(prompt) // CHARS_PER_TOKEN)
    completion_tokens = max(1, len(text) // CHARS_PER_TOKEN)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _results_csv(steps: list[dict[str, float]]) -> str:
    columns = [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
        "full_valid_loss",
        "full_valid_mean_token_accuracy",
    ]
    lines = [",".join(columns)]
    for row in steps:
        cells = []
        for column in columns:
            value = row.get(column)
            cells.append(
                "" if value is None else str(int(value)) if column == "step" else f"{value:.5f}"
            )
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _handler(service: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without this, delayed ACKs
        # cost 40 ms a request.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, payload, extra = service.handle(method, self.path, headers, body)
            if isinstance(payload, bytes):
                data = payload
                content_type = extra.pop("content-type", "application/octet-stream")
            else:
                data = json.dumps(payload).encode()
                content_type = "application/json"
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_{id(self):x}")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``service.requests`` instead."""

    return Handler
