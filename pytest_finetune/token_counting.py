"""Tokens: counting them with each model's tiktoken encoding (the models: :mod:`.models`).

Counting is exact with the model's tiktoken encoding. tiktoken downloads encodings on
first use (their decoded tables are then kept between runs: :mod:`.tokenizer_cache`);
offline and without a cache (``TIKTOKEN_CACHE_DIR``), counts fall back to an estimate
(a token per four characters) that every figure marks as such, instead of failing.

Whole examples are counted as the service counts them (:class:`ExampleCounter`):
prompt plus completion; for chat, OpenAI's cookbook rule (3 tokens per message, 1 per
name, 3 to prime the reply, tool definitions by the cookbook's formula); for
preference data, the input with the longer of its two outputs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_finetune.config_keys import ConfigError, Key, add_key
from pytest_finetune.formats import Format, Record

#: Characters per token in the offline estimate.
CHARS_PER_TOKEN = 4
#: Files up to this size get exact token totals; larger ones an estimate from a sample.
EXACT_TOKENS_MAX_BYTES = 16_000_000
#: The longest token of cl100k_base and o200k_base, in bytes: a text of N bytes has at
#: least N / 128 tokens.
MAX_TOKEN_BYTES = 128


class Counter(Protocol):
    """Counts the tokens of a text."""

    exact: bool

    def __call__(self, text: str) -> int: ...


#: The texts whose counts a counter keeps, at most, and the longest it keeps: roles,
#: system prompts, tool definitions and labels come again in nearly every example.
KNOWN_TEXTS = 2048
KNOWN_TEXT_CHARS = 2048


class _Exact:
    exact = True

    def __init__(self, encoding: Any) -> None:
        # Special tokens in data are text to the service, not control tokens.
        self._encode = encoding.encode_ordinary
        #: Counts of short texts already counted, the first ``KNOWN_TEXTS`` of them:
        #: encoding is the cost, and a chat's repeats are 8% to half of what it counts.
        self._known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        known = self._known
        count = known.get(text)
        if count is None:
            count = len(self._encode(text))
            if len(text) <= KNOWN_TEXT_CHARS and len(known) < KNOWN_TEXTS:
                known[text] = count
        return count


class _Estimate:
    exact = False

    def __call__(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)


def counter(encoding: str, shared: dict[str, Any] | None = None) -> Counter:
    """A token counter for ``encoding``, loaded once per process (``shared`` caches it)."""
    cache = shared if shared is not None else _COUNTERS
    key = f"tokens.counter:{encoding}"
    found = cache.get(key)
    if found is None:
        loaded = tiktoken_encoding(encoding, cache)
        found = cache[key] = _Estimate() if loaded is None else _Exact(loaded)
    return found


def tiktoken_encoding(name: str, shared: dict[str, Any] | None = None) -> Any:
    """The tiktoken encoding ``name``, loaded once per process (``shared`` caches it).

    ``None`` offline without its files: tiktoken downloads them on first use.
    """
    cache = shared if shared is not None else _COUNTERS
    key = f"tokens.encoding:{name}"
    if key not in cache:
        cache[key] = _load_encoding(name)
    return cache[key]


def unavailable_reason(encoding: str) -> str:
    """Why tokens of ``encoding`` cannot be counted exactly here, and what to do about it."""
    where = os.environ.get("TIKTOKEN_CACHE_DIR")
    cache = f"TIKTOKEN_CACHE_DIR ({where}) holds none" if where else "TIKTOKEN_CACHE_DIR is not set"
    return (
        f"tiktoken's encoding files for {encoding} are not available (offline, and {cache}); "
        "set TIKTOKEN_CACHE_DIR to a folder that holds them, or run once online to cache them"
    )


#: The counters and encodings this process loaded, where no ``shared`` dict is given.
_COUNTERS: dict[str, Any] = {}


def _load_encoding(name: str) -> Any:
    try:
        # Imported here: the plugin loads in every pytest run of a project, and most
        # never count a token.
        import tiktoken  # noqa: PLC0415

        from pytest_finetune import tokenizer_cache  # noqa: PLC0415

        return tokenizer_cache.load(name) or tiktoken.get_encoding(name)
    except Exception:  # tiktoken raises whatever its download raises when offline
        return None


#: What the service adds to each message, to each ``name``, and to prime the reply
#: (OpenAI cookbook, "How to count tokens with tiktoken").
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


@dataclass(frozen=True)
class ToolCosts:
    """The cookbook's constants for tool definitions, which differ by encoding."""

    function: int
    properties: int = 3
    property: int = 3
    enum: int = -3
    enum_item: int = 3
    end: int = 12


def tool_costs(encoding: str) -> ToolCosts:
    """The tool-definition constants for models of ``encoding`` (o200k_base or older)."""
    return ToolCosts(function=7 if encoding == "o200k_base" else 10)


class ExampleCounter:
    """Counts whole examples of every format as the service counts them.

    Prompt/completion: prompt plus completion. Chat: for each message 3 tokens plus
    its strings (role and content included) and 1 more for a ``name``; tool calls as
    their function name and arguments; tool definitions by the cookbook's formula; 3
    tokens priming the reply. Preference: the input with the longer output, the
    longest sequence that has to fit in the context. Images are not counted.
    """

    def __init__(self, count: Counter, encoding: str) -> None:
        self.count = count
        self.costs = tool_costs(encoding)

    @property
    def exact(self) -> bool:
        """Whether counts are exact (tiktoken) rather than estimated."""
        return self.count.exact

    def __call__(self, record: Record) -> int:
        data = record.data
        if record.format is Format.PROMPT_COMPLETION:
            return sum(
                self.count(data[key])
                for key in ("prompt", "completion")
                if isinstance(data.get(key), str)
            )
        if record.format is Format.CHAT:
            return self.conversation(data.get("messages"), data.get("tools"))
        if record.format is Format.PREFERENCE:
            source = data.get("input")
            source = source if isinstance(source, dict) else {}
            longer = max(
                self.messages(data.get(key)) for key in ("preferred_output", "non_preferred_output")
            )
            return self.conversation(source.get("messages"), source.get("tools")) + longer
        # The other formats (Alpaca, ShareGPT, Gemini, Claude, Nova, TRL's) are counted as
        # their texts: every string value, without a service's per-message overhead.
        return sum(self.count(text) for text in _strings(data))

    def conversation(self, messages: object, tools: object = None) -> int:
        """Messages primed for a reply, with their tool definitions."""
        return self.messages(messages) + REPLY_PRIMING + self.tools(tools)

    def messages(self, messages: object) -> int:
        """The tokens of a list of messages, without the reply priming."""
        if not isinstance(messages, list):
            return 0
        count = self.count
        total = 0
        for message in messages:
            if not isinstance(message, dict):
                continue
            total += TOKENS_PER_MESSAGE
            for key, value in message.items():
                if isinstance(value, str):
                    total += count(value)
                    if key == "name":
                        total += TOKENS_PER_NAME
                elif key == "content" and isinstance(value, list):
                    total += sum(
                        count(part["text"])
                        for part in value
                        if isinstance(part, dict) and isinstance(part.get("text"), str)
                    )
                elif key == "tool_calls" and isinstance(value, list):
                    total += sum(
                        self._call(call.get("function")) for call in value if isinstance(call, dict)
                    )
                elif key == "function_call":
                    total += self._call(value)
        return total

    def _call(self, function: object) -> int:
        if not isinstance(function, dict):
            return 0
        return sum(
            self.count(function[key])
            for key in ("name", "arguments")
            if isinstance(function.get(key), str)
        )

    def tools(self, tools: object) -> int:
        """Tool definitions, by the cookbook's formula (nested schemas are not counted)."""
        if not isinstance(tools, list) or not tools:
            return 0
        costs, count = self.costs, self.count
        total = costs.end
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict):
                continue
            total += costs.function
            total += count(
                f"{_text(function.get('name'))}:{_sentence(function.get('description'))}"
            )
            parameters = function.get("parameters")
            properties = parameters.get("properties") if isinstance(parameters, dict) else None
            if not isinstance(properties, dict) or not properties:
                continue
            total += costs.properties
            for name, value in properties.items():
                schema = value if isinstance(value, dict) else {}
                total += costs.property
                enum = schema.get("enum")
                if isinstance(enum, list):
                    total += costs.enum
                    total += sum(costs.enum_item + count(str(item)) for item in enum)
                total += count(
                    f"{name}:{_text(schema.get('type'))}:{_sentence(schema.get('description'))}"
                )
        return total


def _strings(value: object) -> list[str]:
    """Every string value in parsed JSON (keys left out), depth first."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _sentence(value: object) -> str:
    # The cookbook drops a description's final full stop.
    return _text(value).removesuffix(".")


def _non_negative_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a number of bytes (0 or more), got {value!r}")
    return value


add_key(
    "exact-tokens-max-bytes",
    Key(
        _non_negative_int,
        "Files up to this size in bytes (16,000,000) get exact token totals; larger files "
        "get totals estimated from an exactly counted sample.",
    ),
)
