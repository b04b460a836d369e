"""Dataset formats: which one a record (and a file) is, and the parts checks look at.

Detection is by keys, first match wins, cheapest test first: it runs once per record
on the lint path. The three supported formats are those the fine-tuning services
accept; the others are shapes people often have instead, recognised so that a finding
can name what the file is and how to convert it.
"""

from __future__ import annotations

import difflib
import enum
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import orjson

from pytest_finetune.fingerprints import combined, fingerprint
from pytest_finetune.wording import closest


class Format(str, enum.Enum):
    """The shape of one record."""

    PROMPT_COMPLETION = "prompt_completion"
    CHAT = "chat"
    PREFERENCE = "preference"
    ALPACA = "alpaca"
    SHAREGPT = "sharegpt"
    TRANSCRIPTS = "chosen_rejected"
    TRL_PREFERENCE = "trl_preference"
    TEXT = "text"
    SHAREGPT_PREFERENCE = "sharegpt_preference"
    UNPAIRED_PREFERENCE = "unpaired_preference"
    GEMINI = "gemini"
    CLAUDE = "claude"
    NOVA = "nova"
    UNKNOWN = "unknown"

    @property
    def supported(self) -> bool:
        """Whether fine-tuning services accept data of this shape."""
        return self in SUPPORTED

    @property
    def description(self) -> str:
        """How findings name the format."""
        return _DESCRIPTIONS[self]

    def __str__(self) -> str:
        return self.value


SUPPORTED = frozenset({Format.PROMPT_COMPLETION, Format.CHAT, Format.PREFERENCE})
#: The two texts of a prompt/completion example, in the order they are read.
PROMPT_COMPLETION_KEYS = ("prompt", "completion")

_DESCRIPTIONS = {
    Format.PROMPT_COMPLETION: "prompt/completion",
    Format.CHAT: "chat (messages)",
    Format.PREFERENCE: "preference (input/preferred_output/non_preferred_output)",
    Format.ALPACA: "Alpaca (instruction/input/output)",
    Format.SHAREGPT: "ShareGPT (conversations with from/value turns)",
    Format.TRANSCRIPTS: "chosen/rejected transcripts",
    Format.TRL_PREFERENCE: "TRL preference (prompt/chosen/rejected)",
    Format.TEXT: "plain text (a single text field)",
    Format.SHAREGPT_PREFERENCE: "ShareGPT preference (conversations with chosen/rejected turns)",
    Format.UNPAIRED_PREFERENCE: "unpaired preference (prompt/completion/label)",
    Format.GEMINI: "Gemini (contents with parts, systemInstruction)",
    Format.CLAUDE: "Claude messages (system and messages)",
    Format.NOVA: "Amazon Nova (schemaVersion bedrock-conversation-2024)",
    Format.UNKNOWN: "unrecognised",
}

#: How to get from each unsupported shape to a supported one.
CONVERSIONS = {
    Format.ALPACA: "convert each row to chat: a user message of instruction (and input), "
    "an assistant message of output",
    Format.SHAREGPT: "convert conversations to messages: from human/gpt/system to role "
    "user/assistant/system, value to content",
    Format.TRANSCRIPTS: "split the shared prompt from the two transcripts into input, "
    "preferred_output and non_preferred_output",
    Format.TRL_PREFERENCE: "rename prompt to input.messages, chosen to preferred_output and "
    "rejected to non_preferred_output, each as a list of messages",
    Format.TEXT: "fine-tuning APIs train on prompt/completion or chat examples, not raw "
    "text; split each text into a prompt and its completion",
    Format.SHAREGPT_PREFERENCE: "convert conversations to input.messages, chosen to "
    "preferred_output and rejected to non_preferred_output",
    Format.UNPAIRED_PREFERENCE: "pair each prompt's desirable and undesirable completions "
    "into input, preferred_output and non_preferred_output",
    Format.GEMINI: "convert contents to messages: role model to assistant, parts to content, "
    "systemInstruction to a system message",
    Format.CLAUDE: "move the top-level system prompt into a first system message",
    Format.NOVA: "convert to messages: the system blocks to a system message, each "
    "message's content blocks to its content",
}

#: The keys that identify each shape, for naming the closest one to unknown data.
SIGNATURES: dict[Format, frozenset[str]] = {
    Format.PROMPT_COMPLETION: frozenset({"prompt", "completion"}),
    Format.CHAT: frozenset({"messages"}),
    Format.PREFERENCE: frozenset({"input", "preferred_output", "non_preferred_output"}),
    Format.ALPACA: frozenset({"instruction", "input", "output"}),
    Format.SHAREGPT: frozenset({"conversations"}),
    Format.TRANSCRIPTS: frozenset({"chosen", "rejected"}),
    Format.TRL_PREFERENCE: frozenset({"prompt", "chosen", "rejected"}),
    Format.TEXT: frozenset({"text"}),
    Format.SHAREGPT_PREFERENCE: frozenset({"conversations", "chosen", "rejected"}),
    Format.UNPAIRED_PREFERENCE: frozenset({"prompt", "completion", "label"}),
    Format.GEMINI: frozenset({"contents"}),
    Format.CLAUDE: frozenset({"system", "messages"}),
    Format.NOVA: frozenset({"schemaVersion", "messages"}),
}


@dataclass(slots=True)
class Record:
    """One JSON object of a dataset, with its 1-based line and its detected format."""

    line: int
    raw: bytes
    data: dict[str, Any]
    format: Format
    #: Set on a view: the record as OpenAI data (see :mod:`pytest_finetune.conversions`)
    #: of a record of this format, which checks of chat and preference data read.
    source: Format | None = None


class Batch:
    """Consecutive records of one format, read in one go after the file's head.

    What a check's batch visitor (``Check.batch_visitor``) is given: the same records
    its ``visit`` would be given one by one, as parallel lists, so that what is true of
    every record can be tested in a few calls over whole lists rather than in Python
    per record. :meth:`records` builds the :class:`Record` of each, once, for whoever
    needs them.

    The reader leaves most plain prompt/completion and chat lines unparsed (``None`` in
    the list of objects given, see ``runs.read_run``): checks that read them in C from
    their raw lines never make their objects. They are parsed the first time
    :attr:`datas` is read, or one at a time by :meth:`data` and :meth:`record`.
    """

    __slots__ = ("_columns", "_datas", "_records", "_unparsed", "format", "lines", "raws")

    def __init__(
        self,
        fmt: Format,
        lines: list[int],
        raws: list[bytes],
        datas: list[dict[str, Any] | None],
        *,
        unparsed: bool = False,
    ) -> None:
        self.format = fmt
        #: Each record's line and raw JSON line, in file order.
        self.lines = lines
        self.raws = raws
        self._datas = datas
        #: Whether some objects may be left to parse (``None`` in ``_datas``).
        self._unparsed = unparsed
        self._records: list[Record] | None = None
        self._columns: dict[str, list[Any]] = {}

    @property
    def datas(self) -> list[dict[str, Any]]:
        """Each record's parsed object, in file order (parsed now where it was left)."""
        if self._unparsed:
            loads = orjson.loads
            self._datas = [
                loads(raw) if data is None else data
                for raw, data in zip(self.raws, self._datas, strict=True)
            ]
            self._unparsed = False
        return self._datas  # type: ignore[return-value]

    @property
    def unparsed(self) -> bool:
        """Whether some records' objects may be left to parse (``None`` in :attr:`objects`)."""
        return self._unparsed

    @property
    def objects(self) -> list[dict[str, Any] | None]:
        """Each record's object as read, ``None`` where left unparsed (nothing parsed now)."""
        return self._datas

    def data(self, index: int) -> dict[str, Any]:
        """The object of the record at ``index`` (parsed alone where it was left)."""
        data = self._datas[index]
        if data is None:
            data = self._datas[index] = orjson.loads(self.raws[index])
        return data

    def column(self, key: str) -> list[Any]:
        """Each record's value at ``key`` (``None`` where it has none), read once for all."""
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = list(map(dict.get, self.datas, repeat(key)))
        return found

    def records(self) -> list[Record]:
        """Every record of the batch, as ``visit`` takes them."""
        if self._records is None:
            fmt = self.format
            self._records = [
                Record(line, raw, data, fmt)
                for line, raw, data in zip(self.lines, self.raws, self.datas, strict=True)
            ]
        return self._records

    def record(self, index: int) -> Record:
        """The record at ``index`` (built alone, for the few a batch visitor looks into)."""
        if self._records is not None:
            return self._records[index]
        return Record(self.lines[index], self.raws[index], self.data(index), self.format)


#: The keys whose values :func:`detect` reads: records that hold none of them are of
#: the same format if they have the same keys.
BY_VALUE = frozenset({"label", "system"})


def detect(data: dict[str, Any]) -> Format:
    """The format of one record, from its keys."""
    if "messages" in data:
        # Nova's system prompt is a list of {"text": ...} blocks, with or without the
        # schemaVersion its samples sometimes leave out.
        if "schemaVersion" in data or ("system" in data and _nova_system(data["system"])):
            return Format.NOVA
        # OpenAI chat keeps the system prompt among the messages; a top-level one is
        # Anthropic's layout (Bedrock's Claude models).
        return Format.CLAUDE if "system" in data else Format.CHAT
    if "contents" in data:
        return Format.GEMINI
    if "input" in data and (
        "preferred_output" in data
        or "non_preferred_output" in data
        or "preferred_completion" in data
        or "non_preferred_completion" in data
    ):
        return Format.PREFERENCE
    if "chosen" in data and "rejected" in data:
        if "conversations" in data:
            return Format.SHAREGPT_PREFERENCE
        return Format.TRL_PREFERENCE if "prompt" in data else Format.TRANSCRIPTS
    # TRL's unpaired preference (KTO) marks each completion good or bad; a label of any
    # other type is a classification dataset's own column.
    if isinstance(data.get("label"), bool) and "prompt" in data and "completion" in data:
        return Format.UNPAIRED_PREFERENCE
    if "prompt" in data or "completion" in data:
        return Format.PROMPT_COMPLETION
    if "instruction" in data and "output" in data:
        return Format.ALPACA
    if "conversations" in data:
        return Format.SHAREGPT
    if "text" in data and len(data) == 1:
        return Format.TEXT
    # Keys in another case ("Prompt", "COMPLETION") are prompt/completion data with a
    # fixable naming problem, not an unknown format.
    lowered = {key.lower() for key in data if isinstance(key, str)}
    if "prompt" in lowered or "completion" in lowered:
        return Format.PROMPT_COMPLETION
    if "messages" in lowered:
        return Format.CHAT
    return Format.UNKNOWN


def _nova_system(system: object) -> bool:
    return (
        isinstance(system, list)
        and bool(system)
        and isinstance(system[0], dict)
        and "text" in system[0]
        and "type" not in system[0]
    )


def detect_file(head: Iterable[dict[str, Any]]) -> Format:
    """The format of a file: the most common format among its first records."""
    counts = Counter(detect(data) for data in head)
    if not counts:
        return Format.UNKNOWN
    # Prefer a supported format on a tie: it is what the file is meant to be.
    return max(counts, key=lambda fmt: (counts[fmt], fmt.supported))


def closest_format(keys: Iterable[str]) -> tuple[Format, list[str]]:
    """The known format whose keys look most like ``keys``, and the likely misspellings.

    Returns the format and, for each of its keys that is missing, a hint such as
    ``"prompts -> prompt"`` when a present key is a near miss.
    """
    present = [key for key in keys if isinstance(key, str)]
    best, best_score = Format.UNKNOWN, 0.0
    for fmt, signature in SIGNATURES.items():
        score = sum(
            max(
                (difflib.SequenceMatcher(None, want, key.lower()).ratio() for key in present),
                default=0.0,
            )
            for want in signature
        ) / len(signature)
        if score > best_score:
            best, best_score = fmt, score
    if best is Format.UNKNOWN or best_score < 0.5:
        return Format.UNKNOWN, []
    hints = []
    for want in sorted(SIGNATURES[best] - set(present)):
        near = closest(want, present)
        if near:
            hints.append(f"{near} -> {want}")
    return best, hints


# -- the parts of a record that checks of every family look at ---------------------


def texts(record: Record) -> Iterator[tuple[str, str]]:
    """Every string a model reads or is trained on, with where it is in the record.

    The location reads like the JSON path: ``prompt``, ``messages[2].content``,
    ``preferred_output[0].content``.
    """
    data = record.data
    if record.format is Format.PROMPT_COMPLETION:
        for key in ("prompt", "completion"):
            value = data.get(key)
            if isinstance(value, str):
                yield key, value
    elif record.format is Format.CHAT:
        yield from _message_texts("messages", data.get("messages"))
    elif record.format is Format.PREFERENCE:
        source = data.get("input")
        if isinstance(source, dict):
            yield from _message_texts("input.messages", source.get("messages"))
        for key in ("preferred_output", "non_preferred_output"):
            yield from _message_texts(key, data.get(key))


def _message_texts(where: str, messages: object) -> Iterator[tuple[str, str]]:
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            yield f"{where}[{index}].content", content
        elif isinstance(content, list):
            for part_index, part in enumerate(content):
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    yield f"{where}[{index}].content[{part_index}].text", part["text"]


def example(record: Record) -> tuple[str | bytes | None, str | bytes | None]:
    """What the model is given and what it is trained to answer, comparable as values.

    The prompt and the completion; the conversation up to the last assistant turn and
    that turn; a preference pair's input and preferred output. Either is ``None`` where
    the record is too malformed to have one.
    """
    data = record.data
    if record.format is Format.PROMPT_COMPLETION:
        prompt, completion = data.get("prompt"), data.get("completion")
        return (
            prompt if isinstance(prompt, str) else None,
            completion if isinstance(completion, str) else None,
        )
    if record.format is Format.CHAT:
        messages = data.get("messages")
        if not isinstance(messages, list):
            return None, None
        last = last_assistant(messages)
        if last is None:
            return None, None
        return freeze(messages[:last]), freeze(messages[last])
    if record.format is Format.PREFERENCE:
        source = data.get("input")
        return (
            freeze(source) if isinstance(source, dict) else None,
            freeze(data.get("preferred_output")),
        )
    return None, None


def example_key(record: Record) -> tuple[int, int] | None:
    """Fingerprints of a record's input and of its whole example, for leakage.

    Surrounding whitespace does not count (a stray space makes no new example). An
    empty input (open-ended data) is no key of its own: the whole example is.
    """
    source, target = example(record)
    if source is None and target is None:
        return None
    if isinstance(source, str):
        source = source.strip()
    if isinstance(target, str):
        target = target.strip()
    given = _fingerprint(source)
    whole = combined(given, _fingerprint(target))
    return (given if source else whole), whole


def _fingerprint(value: str | bytes | None) -> int:
    return 0 if value is None else fingerprint(value)


def last_assistant(messages: list[Any]) -> int | None:
    """The index of the last assistant message (``None``: there is none)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "assistant":
            return index
    return None


def canonical(value: object) -> bytes:
    """JSON of ``value`` with sorted keys: equal for equal JSON, whatever the key order."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, a huge integer
        return json.dumps(value, sort_keys=True).encode()


def freeze(value: object) -> bytes:
    """A comparable form of parsed JSON, equal when the JSON is equal, key order aside.

    The :func:`canonical` bytes; a value nested deeper than Python's stack becomes
    random bytes that are no JSON, equal to nothing else (in any process), so that it
    never makes two examples "the same".
    """
    try:
        # canonical()'s first try, inline: this runs for every example duplicates read.
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:
        return canonical(value)
    except RecursionError:
        # 0xFF starts no UTF-8, so no JSON; 128 random bits meet no other token.
        return b"\xff" + os.urandom(16)
