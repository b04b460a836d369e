"""A dataset as the trainer and the evaluator see it: inputs and expected answers.

Prompt/completion records give the prompt as it is sent (separator included) and the
completion without its stop sequence; chat records give the conversation up to the
last assistant turn and that turn's text; preference records give the input and the
preferred output. The separator, the stop sequence and whether the data is
classification are the dataset's conventions (:mod:`pytest_finetune.conventions`),
learned as the checks learn them, or declared in configuration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_finetune import conventions
from pytest_finetune.conventions import Conventions
from pytest_finetune.formats import Format, Record, detect, detect_file, last_assistant
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, Reader, SyntaxProblem

#: Message keys a chat completions request accepts (``weight`` is for training only).
_REQUEST_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")


@dataclass(frozen=True)
class Example:
    """One record: what the model is given and what it should answer."""

    line: int
    expected: str
    #: Prompt/completion data: the prompt exactly as the model is asked.
    prompt: str | None = None
    #: Chat and preference data: the messages before the answer.
    messages: tuple[Mapping[str, Any], ...] = ()

    def text(self, separator: str = "") -> str:
        """The input as plain text (for the local classifier): no separator, no roles."""
        if self.prompt is not None:
            return self.prompt.removesuffix(separator) if separator else self.prompt
        return "\n".join(
            _content_text(message.get("content"))
            for message in self.messages
            if message.get("role") != "assistant"
        )


@dataclass
class ExampleSet:
    """The usable examples of one file, in file order."""

    path: Path
    format: Format
    examples: list[Example]
    conventions: Conventions
    #: Records that could not be used (no prompt, no assistant answer, ...).
    skipped: int = 0

    @property
    def separator(self) -> str:
        """What ends every prompt (``""``: nothing)."""
        return self.conventions.separator.text

    @property
    def stop(self) -> str:
        """What ends every completion (``""``: nothing)."""
        return self.conventions.stop.text

    @property
    def answers(self) -> Counter[str]:
        """How often each expected answer occurs."""
        return Counter(example.expected for example in self.examples)

    @property
    def is_classification(self) -> bool:
        """Whether the data is classification (few distinct answers, or declared so)."""
        return self.conventions.classification

    def texts(self) -> list[str]:
        """Every input as plain text, in order."""
        return [example.text(self.separator) for example in self.examples]


def read_examples(
    path: Path,
    learned: Conventions | None = None,
    *,
    limit: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> ExampleSet:
    """The examples of ``path`` (the first ``limit`` records only, if given).

    ``learned`` are the training file's conventions when reading its validation file;
    without them they are learned from ``path`` itself (``config`` may declare them).
    """
    records: list[Record] = []
    for item in Reader(path, max_line_bytes=DEFAULT_MAX_LINE_BYTES):
        if isinstance(item, SyntaxProblem):
            continue  # the checks report it; training learns the rest
        line, raw, data = item
        records.append(Record(line, raw, data, detect(data)))
        if limit is not None and len(records) >= limit:
            break
    fmt = detect_file(record.data for record in records[:100])
    if learned is None:
        learned = conventions.infer(records[: conventions.HEAD_RECORDS], dict(config or {}))
    if fmt is Format.PROMPT_COMPLETION:
        examples = [
            Example(record.line, learned.label(completion), prompt=prompt)
            for record in records
            if isinstance(prompt := record.data.get("prompt"), str)
            and isinstance(completion := record.data.get("completion"), str)
        ]
    else:
        examples = [
            example for record in records if (example := _conversation(record, fmt)) is not None
        ]
    return ExampleSet(path, fmt, examples, learned, len(records) - len(examples))


def _conversation(record: Record, fmt: Format) -> Example | None:
    line, data = record.line, record.data
    if fmt is Format.CHAT:
        messages = data.get("messages")
        if not isinstance(messages, list):
            return None
        last = last_assistant(messages)
        if last is None:
            return None
        answer = _content_text(messages[last].get("content"))
        return Example(line, answer, messages=_request_messages(messages[:last]))
    if fmt is Format.PREFERENCE:
        source = data.get("input")
        preferred = data.get("preferred_output") or data.get("preferred_completion")
        if not isinstance(source, dict) or not isinstance(preferred, list) or not preferred:
            return None
        messages = source.get("messages")
        if not isinstance(messages, list) or not isinstance(preferred[0], dict):
            return None
        answer = _content_text(preferred[0].get("content"))
        return Example(line, answer, messages=_request_messages(messages))
    return None


def _request_messages(messages: list[Any]) -> tuple[Mapping[str, Any], ...]:
    return tuple(
        {key: message[key] for key in _REQUEST_KEYS if key in message}
        for message in messages
        if isinstance(message, dict)
    )


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""
