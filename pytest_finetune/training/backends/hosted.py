"""What the hosted open-model providers (Together AI, Fireworks AI) share.

Both publish Stainless-generated SDKs, whose exceptions carry the HTTP status, the
parsed body and the response, and both serve fine-tuned models through
OpenAI-compatible completions and chat completions endpoints: answers go through the
openai backend's answering code (:meth:`OpenAIBackend.predict`), pointed at the
provider's inference URL with the provider's key.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import openai

from pytest_finetune.redact import redact, remember
from pytest_finetune.training.backends.base import JobNotFound, Refused
from pytest_finetune.training.backends.openai import OpenAIBackend
from pytest_finetune.training.settings import TrainingSettings


def api_key(provider: str, env: str, table: str) -> str:
    """The key in the environment variable ``env`` (remembered, so that it is masked)."""
    key = os.environ.get(env)
    if not key:
        raise Refused(
            f"No {provider} API key: set the {env} environment variable (or name another "
            f"one with api-key-env in [tool.pytest_finetune.training.{table}])."
        )
    remember(key)
    return key


def answerer(
    settings: TrainingSettings,
    *,
    provider: str,
    key: str,
    key_env: str,
    base_url: str,
    timeout: float,
    serving_hint: str,
) -> OpenAIBackend:
    """The openai backend's answering, against the provider's OpenAI-compatible API."""
    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    answers = OpenAIBackend(settings, client=client)
    answers.provider = provider
    answers.key_env = key_env
    answers.serving_hint = serving_hint
    answers.compatible_limit = True
    return answers


class Errors:
    """Turns an SDK's exceptions into :class:`Refused` paragraphs in the provider's words."""

    def __init__(self, sdk: Any, provider: str, key_env: str, base_url: str) -> None:
        self.sdk = sdk
        self.provider = provider
        self.key_env = key_env
        self.base_url = base_url

    @contextlib.contextmanager
    def __call__(self, action: str, *, missing: str | None = None) -> Iterator[None]:
        """Errors while doing ``action``; a 404 raises :class:`JobNotFound` (``missing``)."""
        try:
            yield
        except self.sdk.APIStatusError as error:
            if missing is not None and error.status_code == 404:
                raise JobNotFound(missing) from None
            raise Refused(self.refusal(action, error.status_code, words(error.body))) from error
        except self.sdk.APIConnectionError as error:
            raise Refused(
                redact(
                    f"Could not reach {self.provider} at {self.base_url} while {action}: "
                    f"{error.__cause__ or error}. Check the network and the base URL; the job "
                    "state is saved, so running again resumes."
                )
            ) from error
        except ValueError as error:
            # The SDKs check some arguments themselves before sending anything.
            raise Refused(redact(f"The {self.provider} SDK refused {action}: {error}")) from error

    def refusal(self, action: str, status: int, text: str) -> str:
        """One paragraph: what was refused, the provider's words, what to do."""
        where = f"{self.provider} refused {action} (HTTP {status})"
        if status == 401:
            advice = f"Check the key in {self.key_env}."
        elif status == 402:
            advice = "The account is out of credit: check its plan and billing."
        elif status == 403:
            advice = "The account has no access to this; ask its owner."
        elif status == 429:
            advice = "Still rate limited after retries; run again later (the job state is saved)."
        elif status >= 500:
            where = f"{self.provider} failed while {action} (HTTP {status})"
            advice = "Run again later; the job state is saved, so nothing is trained twice."
        else:
            advice = ""
        return redact(f"{where}: {text}" + (f" {advice}" if advice else ""))


def words(body: object) -> str:
    """The provider's message from an error body (``{"error": {"message": ...}}`` and kin)."""
    text = ""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            text = inner["message"]
        elif isinstance(inner, str):
            text = inner
        elif isinstance(body.get("message"), str):
            text = body["message"]
    elif isinstance(body, str):
        text = body
    text = " ".join(text.split()) or "no reason given"
    return text if text.endswith((".", "!", "?")) else text + "."
