"""Asking a model through an OpenAI-compatible API, and that API's errors in its own words.

The openai and azure backends ask their fine-tuned models through it, and the
endpoint backend asks whatever an OpenAI-compatible server serves (vLLM, Ollama, TGI,
LM Studio, llama.cpp's server). Prompt/completion data goes to the completions
endpoint with the dataset's stop sequence, chat and preference data to chat
completions, unless the caller chooses the API.

Every error the client raises becomes a :class:`Refused` paragraph with the service's
own words, or a :class:`Retryable` for the evaluator to retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openai

from pytest_finetune.redact import redact
from pytest_finetune.training.backends.base import Refused, Retryable
from pytest_finetune.training.examples import Example

#: Characters per token are at least one, so this many tokens hold any label.
MIN_ANSWER_TOKENS = 16


def ask(
    client: openai.OpenAI,
    model: str,
    example: Example,
    stop: str,
    max_answer_chars: int,
    *,
    chat: bool | None = None,
    legacy_limit: bool = False,
) -> str:
    """The model's answer to one example, asked at temperature 0.

    ``chat``: ask through chat completions (a prompt becomes one user message), or
    completions; ``None``: as the data is (a prompt to completions). ``legacy_limit``
    limits a chat answer with ``max_tokens``, which servers other than OpenAI's know,
    instead of ``max_completion_tokens``.
    """
    limit = max(MIN_ANSWER_TOKENS, max_answer_chars)
    if chat is None:
        chat = example.prompt is None
    if not chat:
        if example.prompt is None:
            raise Refused(
                f"Line {example.line} is a conversation; the completions API takes a prompt. "
                "Ask through chat completions instead."
            )
        options: dict[str, Any] = {"stop": stop} if stop else {}
        completion = client.completions.create(
            model=model, prompt=example.prompt, max_tokens=limit, temperature=0, **options
        )
        return completion.choices[0].text if completion.choices else ""
    messages: list[Any] = (
        list(example.messages)
        if example.prompt is None
        else [{"role": "user", "content": example.prompt}]
    )
    reply = client.chat.completions.create(
        model=model,
        messages=messages,
        temperature=0,
        max_tokens=limit if legacy_limit else openai.omit,
        max_completion_tokens=openai.omit if legacy_limit else limit,
    )
    return (reply.choices[0].message.content or "") if reply.choices else ""


@dataclass(frozen=True)
class Errors:
    """How one service's errors read: who refused, where it is, what to do about it."""

    #: Who refused, as a sentence starts: ``OpenAI``, ``The server at http://...``.
    name: str
    #: What could not be reached: ``OpenAI at https://...``.
    place: str
    #: What to check on a 401.
    key_advice: str
    #: What to check when the service cannot be reached at all.
    reach_advice: str
    #: Whether a job's state is saved (a 5xx or 429 then loses nothing).
    saved: bool = True
    #: Advice of the backend's own for an error (``None``: the usual advice).
    advice: Callable[[openai.APIStatusError, str], str | None] | None = None

    @contextlib.contextmanager
    def translated(self, action: str, *, retryable: bool = False) -> Iterator[None]:
        """Turn the client's exceptions into :class:`Refused` (or :class:`Retryable`)."""
        try:
            yield
        except openai.APIStatusError as error:
            if retryable and transient(error):
                raise Retryable(
                    words(error), retry_after(error), self.refusal(action, error)
                ) from error
            raise Refused(self.refusal(action, error)) from error
        except openai.APIConnectionError as error:
            cause = error.__cause__ or error
            if retryable:
                raise Retryable(
                    f"Could not reach {self.name}: {cause}.",
                    final=redact(
                        f"Could not reach {self.place} while {action}: {cause}. "
                        "Check the network and run again."
                    ),
                ) from error
            raise Refused(
                redact(f"Could not reach {self.place} while {action}: {cause}. {self.reach_advice}")
            ) from error

    def refusal(self, action: str, error: openai.APIStatusError) -> str:
        """One paragraph: who refused what, with which status, in its words, and what to do."""
        status = error.status_code
        # vLLM's errors give the status again as the code.
        code = f" {error.code}" if error.code and str(error.code) != str(status) else ""
        said = words(error)
        where = f"{self.name} refused {action} (HTTP {status}{code})"
        own = self.advice(error, said) if self.advice else None
        saved = " (the job state is saved)" if self.saved else ""
        if own is not None:
            advice = own
        elif status == 401:
            advice = self.key_advice
        elif error.code == "insufficient_quota":
            advice = "The account is out of quota: check its plan and billing."
        elif status == 403:
            advice = "The account or project has no access to this; ask its owner."
        elif status == 429:
            advice = f"Still rate limited after retries; run again later{saved}."
        elif status >= 500:
            where = f"{self.name} failed while {action} (HTTP {status}{code})"
            advice = "Run again later" + (
                "; the job state is saved, so nothing is trained twice." if self.saved else "."
            )
        else:
            advice = ""
        return redact(f"{where}: {said}" + (f" {advice}" if advice else ""))


def words(error: openai.APIStatusError) -> str:
    """The service's message, without the client's "Error code: ..." wrapping."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text: str = body["message"]
    elif isinstance(body, str) and body.strip():
        text = body.strip()
    else:
        text = error.message
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def transient(error: openai.APIStatusError) -> bool:
    """Whether asking again later may succeed (rate limits, server errors, timeouts)."""
    if error.status_code == 429:
        return error.code != "insufficient_quota"
    return error.status_code >= 500 or error.status_code == 408


def retry_after(error: openai.APIStatusError) -> float | None:
    """Seconds the service asked to wait (``retry-after-ms`` or ``retry-after``), if it said."""
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None
