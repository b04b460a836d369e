"""A dataset as the trainer and the evaluator see it: inputs and expected answers.

Prompt/completion records give the prompt as it is sent (separator included) and the
completion without its stop sequence; chat records give the conversation up to the
last assistant turn and that turn's text; preference records give the input and the
preferred output. Whether the data is classification follows the legacy tool: fewer
distinct answers than a third of the examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune.formats import Format, detect_file
from pytest_finetune.reader import DEFAULT_MAX_LINE_BYTES, ParsedLine, Reader
from pytest_finetune.training.prompt_format import PromptFormat, infer_prompt_format

#: Legacy rule: classification when each answer occurs on average this often or more.
CLASSIFICATION_RATIO = 3
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
    prompt_format: PromptFormat = field(default_factory=PromptFormat)
    #: Records that could not be used (no prompt, no assistant answer, ...).
    skipped: int = 0

    @property
    def answers(self) -> Counter[str]:
        """How often each expected answer occurs."""
        return Counter(example.expected for example in self.examples)

    @property
    def is_classification(self) -> bool:
        """Few distinct answers, each repeated: the legacy tool's classification rule."""
        return 1 < len(self.answers) < len(self.examples) / CLASSIFICATION_RATIO

    def texts(self) -> list[str]:
        """Every input as plain text, in order."""
        return [example.text(self.prompt_format.separator) for example in self.examples]


def read_examples(
    path: Path, prompt_format: PromptFormat | None = None, *, limit: int | None = None
) -> ExampleSet:
    """The examples of ``path`` (the first ``limit`` records only, if given).

    ``prompt_format`` is the training file's convention when reading its validation
    file; without it the convention is learned from ``path`` itself.
    """
    records: list[tuple[int, dict[str, Any]]] = []
    for item in Reader(path, max_line_bytes=DEFAULT_MAX_LINE_BYTES):
        if isinstance(item, ParsedLine):
            records.append((item.line, item.data))
            if limit is not None and len(records) >= limit:
                break
    fmt = detect_file(data for _, data in records[:100])
    if fmt is Format.PROMPT_COMPLETION:
        pairs = [
            (line, data["prompt"], data["completion"])
            for line, data in records
            if isinstance(data.get("prompt"), str) and isinstance(data.get("completion"), str)
        ]
        if prompt_format is None:
            prompt_format = infer_prompt_format(
                [prompt for _, prompt, _ in pairs], [completion for _, _, completion in pairs]
            )
        stop = prompt_format.stop
        examples = [
            Example(line, completion.removesuffix(stop) if stop else completion, prompt=prompt)
            for line, prompt, completion in pairs
        ]
    else:
        examples = [
            example for line, data in records if (example := _conversation(line, data, fmt))
        ]
    return ExampleSet(
        path, fmt, examples, prompt_format or PromptFormat(), len(records) - len(examples)
    )


def _conversation(line: int, data: dict[str, Any], fmt: Format) -> Example | None:
    if fmt is Format.CHAT:
        messages = data.get("messages")
        if not isinstance(messages, list):
            return None
        last = _last_assistant(messages)
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


def _last_assistant(messages: list[Any]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "assistant":
            return index
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
