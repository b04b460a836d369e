"""The ``endpoint`` backend: no training; the model under test is what a server serves.

A team that fine-tunes with TRL, Axolotl or anything else serves the result with an
OpenAI-compatible server (vLLM, Ollama, TGI, LM Studio, llama.cpp's server) and
gates it like a fine-tuned model: the declaration's ``model`` is the name the server
serves it under, ``base-url`` in ``[tool.pytest_finetune.training.endpoint]`` is
where. It is asked every validation example as the openai backend asks its models
(:mod:`.openai_compatible`), and measured and judged the same way.

Nothing is uploaded, trained or paid for, so there is no job state: a run asks the
server again. Before measuring, the server's model list says whether it is up (one
line when it is not, instead of a retried failure per example) and what it serves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

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
from pytest_finetune.training.results import metrics_frame
from pytest_finetune.training.settings import EndpointSettings, TrainingSettings

if TYPE_CHECKING:
    from pytest_finetune.training.spec import TrainSpec

_TABLE = "[tool.pytest_finetune.training.endpoint]"
#: The key sent to a server that wants none.
NO_KEY = "EMPTY"
#: Models named when the server lists ones other than the declared model.
_LISTED = 10


class EndpointBackend(Backend):
    """Measures the model an OpenAI-compatible server serves at ``base-url``."""

    name = "endpoint"
    persistent = False
    paid = False

    def __init__(self, settings: EndpointSettings, *, client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        if client is None:
            if not settings.base_url:
                raise Refused(
                    "The endpoint backend measures the model a server serves: set base-url "
                    f'in {_TABLE} (e.g. base-url = "http://localhost:8000/v1" for vLLM, '
                    '"http://localhost:11434/v1" for Ollama).'
                )
            client = openai.OpenAI(
                api_key=self._key(settings),
                base_url=settings.base_url,
                timeout=settings.timeout,
                # The evaluator retries answers itself, with the configured retries.
                max_retries=0,
            )
        self.client = client
        where = f"the server at {client.base_url}"
        env = settings.api_key_env
        key_advice = (
            f"Check the key in {env}."
            if env
            else f"The server wants a key: name its variable with api-key-env in {_TABLE}."
        )
        self._errors = Errors(
            where[0].upper() + where[1:],
            where,
            key_advice=key_advice,
            reach_advice=f"Is the server running? Start it, or check base-url in {_TABLE}.",
            saved=False,
            advice=_advice,
        )
        self._events: dict[str, list[JobEvent]] = {}

    @classmethod
    def connect(cls, name: str, settings: TrainingSettings, spec: TrainSpec | None) -> Backend:
        return cls(settings.endpoint)

    @staticmethod
    def _key(settings: EndpointSettings) -> str:
        env = settings.api_key_env
        if env is None:
            # The placeholder vLLM's documentation uses: servers without a key ignore
            # it. Without one, the client would send OPENAI_API_KEY to this server.
            return NO_KEY
        key = os.environ.get(env)
        if not key:
            raise Refused(f"No key for the endpoint: set the {env} environment variable.")
        remember(key)
        return key

    @property
    def identity(self) -> str:
        return f"{self.name} {self.client.base_url}"

    # -- "training": what the server serves ------------------------------------------

    def upload(self, request: TrainingRequest) -> Uploaded:
        return Uploaded(str(request.train_path), str(request.valid_path))

    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        model = str(request.base_model)
        data = request.train.format
        if self.settings.api == "completions" and data is not Format.PROMPT_COMPLETION:
            raise Refused(
                f"{request.train.path.name} is {data.value} data, which the "
                f'completions API cannot take: set api = "chat" in {_TABLE}, or remove api.'
            )
        with self._errors.translated("listing its models"):
            try:
                listed = [served.id for served in self.client.models.list()]
            except openai.NotFoundError:
                listed = []  # a server without a model list: the answers will tell
        job_id = f"endpoint-{len(self._events) + 1}"
        now = time.time()
        if not listed or model in listed:
            message = f"{self.client.base_url} serves {model}: nothing to train, measuring it"
            level = "info"
        else:
            names = ", ".join(listed[:_LISTED]) + (", ..." if len(listed) > _LISTED else "")
            message = (
                f"{self.client.base_url} lists no model named {model} (it lists {names}); "
                "asking for it anyway"
            )
            level = "warning"
        self._events[job_id] = [JobEvent(f"{job_id}-event-1", now, message, level)]
        return Job(job_id, "succeeded", model, model, created_at=now, finished_at=now)

    def find(self, metadata: Mapping[str, str]) -> Job | None:
        return None

    def retrieve(self, job_id: str) -> Job:
        raise JobNotFound(job_id)

    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        fresh = [event for event in self._events.get(job_id, []) if event.id not in seen]
        seen.update(event.id for event in fresh)
        return fresh

    def results(self, job: Job) -> pd.DataFrame:
        # No training, so no figures by step: loss thresholds fail saying so.
        return metrics_frame([])

    def close(self) -> None:
        self.client.close()

    # -- answering -----------------------------------------------------------------

    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        api = self.settings.api
        with self._errors.translated(f"asking {model}", retryable=True):
            return ask(
                self.client,
                model,
                example,
                stop,
                max_answer_chars,
                chat=None if api is None else api == "chat",
                legacy_limit=True,
            )


def _advice(error: openai.APIStatusError, words: str) -> str | None:
    if error.status_code == 404:
        return f"Check model='...' against the models the server serves, and base-url in {_TABLE}."
    return None
