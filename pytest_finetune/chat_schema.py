"""The schema of chat messages, checked once per record for chat and preference data.

Chat examples (``messages``) and the inputs and outputs of preference pairs are the
same messages, so one walk over a record finds every message-level problem: roles,
keys, content and its parts, weights, tool definitions, calls and their answers, and
the order of roles. The walk sorts what it finds by :class:`Issue`; each FT2xx check
reports the issues of its kind. The result is kept for the record being visited, so
the checks of one file share a single walk per record.

The rules follow the fine-tuning input schema of OpenAI (and Azure OpenAI): what it
accepts passes, including assistant turns that only call tools, ``tool`` and
``developer`` messages, content parts and the deprecated ``functions`` form.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pytest_finetune.findings import did_you_mean, file_size, kind
from pytest_finetune.formats import Format, Record


class Issue(enum.Enum):
    """A kind of message-level problem; each is reported by one FT2xx check."""

    INVALID_ROLE = enum.auto()
    UNKNOWN_MESSAGE_KEY = enum.auto()
    UNKNOWN_EXAMPLE_KEY = enum.auto()
    INVALID_CONTENT = enum.auto()
    EMPTY_ASSISTANT = enum.auto()
    EMPTY_MESSAGE = enum.auto()
    INVALID_PART = enum.auto()
    UNSUPPORTED_PART = enum.auto()
    NO_ASSISTANT = enum.auto()
    NO_USER = enum.auto()
    INVALID_WEIGHT = enum.auto()
    NOTHING_TRAINED = enum.auto()
    INVALID_TOOL_CALL = enum.auto()
    UNDECLARED_TOOL = enum.auto()
    INVALID_TOOL_NAME = enum.auto()
    INVALID_TOOL_DEFINITION = enum.auto()
    UNMATCHED_TOOL_RESPONSE = enum.auto()
    UNANSWERED_TOOL_CALL = enum.auto()
    TOO_MANY_TOOL_CALLS = enum.auto()
    CONSECUTIVE_ROLE = enum.auto()
    MISPLACED_SYSTEM = enum.auto()
    LAST_NOT_TRAINED = enum.auto()


@dataclass(slots=True)
class Analysis:
    """What the walk over one record found: issues by kind, and the images it counted."""

    issues: dict[Issue, list[str]] = field(default_factory=dict)
    images: int = 0

    def add(self, issue: Issue, message: str) -> None:
        """Note one problem."""
        self.issues.setdefault(issue, []).append(message)


#: The keys each role takes (OpenAI's fine-tuning message schema).
ROLE_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "weight", "refusal", "audio"}
    ),
    # Tool results often carry the function's name too (as OpenAI's cookbook writes
    # them); the API takes it.
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
    "function": frozenset({"role", "content", "name"}),
}
#: The content part types each role takes; others are reported.
PART_TYPES: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "developer": frozenset({"text"}),
    "user": frozenset({"text", "image_url"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
    "function": frozenset(),
}
CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
PREFERENCE_KEYS = frozenset(
    {
        "input",
        "preferred_output",
        "non_preferred_output",
        "preferred_completion",
        "non_preferred_completion",
    }
)
PREFERENCE_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
#: The preference keys that hold one assistant message each (new names, then old).
OUTPUT_KEYS = (
    "preferred_output",
    "non_preferred_output",
    "preferred_completion",
    "non_preferred_completion",
)

_INSTRUCTION_ROLES = frozenset({"system", "developer"})
_RESULT_ROLES = frozenset({"tool", "function"})
#: Names that other tools and formats use for the roles.
_ROLE_ALIASES = {
    "human": "user",
    "prompter": "user",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "chatbot": "assistant",
    "ipython": "tool",
    "function_call": "assistant",
}
#: Part types of other APIs (Responses API, Anthropic) and what chat data calls them.
_PART_ALIASES = {
    "input_text": "text",
    "output_text": "text",
    "input_image": "image_url",
    "image": "image_url",
}
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
_IMAGE_DETAIL = frozenset({"auto", "low", "high"})
#: OpenAI's limit on one image in fine-tuning data.
MAX_IMAGE_BYTES = 10 * 1000 * 1000
#: What a message without calls returns: no call ids, no function call.
_NO_CALLS: tuple[Sequence[str], None] = ((), None)


def analyse(record: Record) -> Analysis:
    """The message-level problems of a chat or preference record."""
    analysis = Analysis()
    if record.format is Format.PREFERENCE:
        _analyse_preference(record.data, analysis)
    else:
        _analyse_chat(record.data, analysis)
    return analysis


def messages_problems(container: dict[str, Any], where: str) -> list[str]:
    """What is wrong with ``container["messages"]`` as a list of messages (``where`` names it)."""
    if "messages" not in container:
        near = [key for key in container if key.lower() == "messages"]
        if near:
            return [f"No `{where}` key (found {near[0]!r}; keys are case-sensitive)"]
        return [f"No `{where}`: an example needs a list of messages"]
    messages = container["messages"]
    if not isinstance(messages, list):
        hint = "; wrap the message in [ ]" if isinstance(messages, dict) else ""
        return [f"`{where}` must be a list of message objects, not {kind(messages)}{hint}"]
    if not messages:
        return [f"`{where}` is empty; an example needs at least one message"]
    return [
        f"`{where}[{index}]` is {kind(message)}, not a message object"
        for index, message in enumerate(messages)
        if not isinstance(message, dict)
    ]


def content_text(content: object) -> str | None:
    """The text of a message's content: the string, or its text parts joined.

    ``None`` when the content holds no text at all (null, a number, only images).
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
        return "".join(texts) if texts else None
    return None


def is_blank(text: str) -> bool:
    """Whether ``text`` is empty or only whitespace (without copying it)."""
    return not text or text.isspace()


def quote(value: object, limit: int = 60) -> str:
    r"""``value`` as messages quote data, cut to about ``limit`` characters.

    Strings as ``repr`` (so that ``\n`` shows), other values as JSON (``true``, ``null``).
    """
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    else:
        text = orjson.dumps(value, default=str).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def article(word: str) -> str:
    """``a user``, ``an assistant`` (the words messages name: roles and part types)."""
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


# -- records ------------------------------------------------------------------------


def _analyse_chat(data: dict[str, Any], analysis: Analysis) -> None:
    _unknown_example_keys(data, CHAT_KEYS, "a chat example", analysis)
    declared, parallel = _declarations(data, "", analysis)
    messages = data.get("messages")
    if isinstance(messages, list):
        _Walk(analysis, declared, parallel).conversation(messages, "messages", chat=True)


def _analyse_preference(data: dict[str, Any], analysis: Analysis) -> None:
    _unknown_example_keys(data, PREFERENCE_KEYS, "a preference pair", analysis)
    source = data.get("input")
    declared: frozenset[str] | None = None
    parallel = True
    if isinstance(source, dict):
        _unknown_example_keys(source, PREFERENCE_INPUT_KEYS, "the input", analysis)
        declared, parallel = _declarations(source, "input.", analysis)
    walk = _Walk(analysis, declared, parallel)
    if isinstance(source, dict) and isinstance(source.get("messages"), list):
        walk.conversation(source["messages"], "input.messages", chat=False)
    # The outputs' count, role and emptiness are the FT3xx checks' to report; here
    # they are assistant messages like any other.
    for key in OUTPUT_KEYS:
        output = data.get(key)
        if isinstance(output, list):
            for index, message in enumerate(output):
                if isinstance(message, dict):
                    walk.message(message, "assistant", f"{key}[{index}]", output=True)


def _unknown_example_keys(
    data: dict[str, Any], known: frozenset[str], where: str, analysis: Analysis
) -> None:
    if data.keys() <= known:
        return
    prefix = "input." if where == "the input" else ""
    for key in data:
        if key in known:
            continue
        if key.lower() in known and key.lower() not in data:
            if key.lower() == "messages":
                continue  # the messages checks name it
            hint = f"; keys are case-sensitive: did you mean {key.lower()!r}?"
        else:
            hint = did_you_mean(key, known)
        analysis.add(
            Issue.UNKNOWN_EXAMPLE_KEY,
            f"Key `{prefix}{key}` is not part of {where} (keys: {', '.join(sorted(known))}): "
            f"the service ignores or rejects it{hint}",
        )


def _declarations(
    data: dict[str, Any], prefix: str, analysis: Analysis
) -> tuple[frozenset[str] | None, bool]:
    """The tool names that ``tools`` and ``functions`` declare, and the parallel setting.

    The names are ``None`` when neither key is given.
    """
    names: set[str] | None = None
    for key in ("tools", "functions"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            analysis.add(
                Issue.INVALID_TOOL_DEFINITION,
                f"`{prefix}{key}` must be a list of {key[:-1]} definitions, not {kind(value)}",
            )
            continue
        names = set() if names is None else names
        for index, item in enumerate(value):
            where = f"{prefix}{key}[{index}]"
            function = _function_of(item, where, analysis) if key == "tools" else item
            if isinstance(function, dict):
                _definition(
                    function, f"{where}.function" if key == "tools" else where, names, analysis
                )
            elif key == "functions":
                analysis.add(
                    Issue.INVALID_TOOL_DEFINITION, f"`{where}` is {kind(item)}, not a definition"
                )
    parallel = data.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        analysis.add(
            Issue.INVALID_TOOL_DEFINITION,
            f"`{prefix}parallel_tool_calls` is {quote(parallel)}; it must be true or false",
        )
        parallel = True
    return (None if names is None else frozenset(names)), parallel


def _function_of(tool: object, where: str, analysis: Analysis) -> object:
    """The function that an entry of ``tools`` declares (reporting a malformed entry)."""
    if not isinstance(tool, dict):
        analysis.add(Issue.INVALID_TOOL_DEFINITION, f"`{where}` is {kind(tool)}, not a definition")
        return None
    tool_type = tool.get("type")
    if tool_type != "function":
        what = "no type" if tool_type is None else f"the type {quote(tool_type)}"
        analysis.add(
            Issue.INVALID_TOOL_DEFINITION,
            f'`{where}` has {what}; fine-tuning data declares function tools ("type": "function")',
        )
    function = tool.get("function")
    if not isinstance(function, dict):
        analysis.add(
            Issue.INVALID_TOOL_DEFINITION,
            f"`{where}` has no `function` object (name, description, parameters)",
        )
    return function


def _definition(function: dict[str, Any], where: str, names: set[str], analysis: Analysis) -> None:
    name = function.get("name")
    if not isinstance(name, str) or not name:
        analysis.add(Issue.INVALID_TOOL_DEFINITION, f"`{where}` has no name")
    else:
        if not _TOOL_NAME.fullmatch(name):
            analysis.add(Issue.INVALID_TOOL_NAME, _bad_name(name, f"`{where}.name`"))
        if name in names:
            analysis.add(
                Issue.INVALID_TOOL_DEFINITION, f"`{where}` declares {name!r} a second time"
            )
        names.add(name)
    description = function.get("description")
    if description is not None and not isinstance(description, str):
        analysis.add(
            Issue.INVALID_TOOL_DEFINITION,
            f"`{where}.description` is {kind(description)}; it must be a string",
        )
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        analysis.add(
            Issue.INVALID_TOOL_DEFINITION,
            f"`{where}.parameters` is {kind(parameters)}; it must be a JSON Schema object",
        )


def _bad_name(name: str, where: str) -> str:
    return (
        f"{where} is {quote(name)}, not a valid tool name: "
        "use 1 to 64 letters, digits, underscores or hyphens"
    )


# -- messages -----------------------------------------------------------------------


class _Walk:
    """One pass over the messages of a record, in order."""

    __slots__ = ("analysis", "declared", "parallel")

    def __init__(self, analysis: Analysis, declared: frozenset[str] | None, parallel: bool) -> None:
        self.analysis = analysis
        self.declared = declared
        self.parallel = parallel

    def conversation(self, messages: list[Any], where: str, *, chat: bool) -> None:
        """Check every message and their order; ``chat``: also what a chat example needs."""
        conversation = _Conversation(self.analysis, where)
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue  # reported with the list itself
            role = message.get("role")
            if not isinstance(role, str) or role not in ROLE_KEYS:
                conversation.invalid(message, index)
                continue
            path = f"{where}[{index}]"
            conversation.step(message, role, index, path, self.message(message, role, path))
        conversation.end(messages, chat=chat)

    def message(
        self, message: dict[str, Any], role: str, path: str, *, output: bool = False
    ) -> tuple[Sequence[str], str | None]:
        """Check one message's keys, content and calls; return its call ids and function call."""
        # The usual message, {"role": ..., "content": "some text"}, has nothing else to check.
        content = message.get("content")
        if len(message) == 2 and type(content) is str and not is_blank(content) and not output:
            return _NO_CALLS
        add = self.analysis.add
        # Preference outputs are assistant messages without a training weight.
        allowed = ROLE_KEYS[role] - {"weight"} if output else ROLE_KEYS[role]
        if not message.keys() <= allowed:
            for key in message:
                # A weight on another role is the weight check's to report.
                if key not in allowed and not (key == "weight" and not output):
                    add(Issue.UNKNOWN_MESSAGE_KEY, _unknown_key(key, role, path, allowed))
        name = message.get("name")
        if name is not None and (not isinstance(name, str) or not name) and "name" in allowed:
            add(
                Issue.UNKNOWN_MESSAGE_KEY,
                f"`{path}.name` is {quote(name)}; it must be a non-empty string",
            )
        if "weight" in message and not output:
            self._weight(message["weight"], role, path)

        ids: Sequence[str] = ()
        function_name: str | None = None
        has_call = False
        if role == "assistant":
            if message.get("tool_calls") is not None:
                has_call = True
                ids = self._tool_calls(message["tool_calls"], path)
            function_call = message.get("function_call")
            if function_call is not None:
                has_call = True
                function_name = self._function_call(function_call, f"{path}.function_call")
            refusal = message.get("refusal")
            if refusal is not None and not isinstance(refusal, str):
                add(
                    Issue.INVALID_CONTENT,
                    f"`{path}.refusal` is {kind(refusal)}; it must be a string",
                )
            # A refusal or an audio reply stands in for the text.
            has_call = has_call or isinstance(refusal, str) or message.get("audio") is not None
        self._content(message, role, path, has_call=has_call, output=output)
        return ids, function_name

    def _content(
        self, message: dict[str, Any], role: str, path: str, *, has_call: bool, output: bool
    ) -> None:
        add = self.analysis.add
        content = message.get("content")
        if content is None:
            if has_call or role == "function" or output:
                return  # outputs without text are the preference checks' to report
            what = "null content" if "content" in message else "no content"
            if role == "assistant":
                what += " and no tool_calls or function_call"
            add(Issue.INVALID_CONTENT, f"`{path}` is {article(role)} message with {what}")
            return
        if isinstance(content, str):
            blank = is_blank(content)
        elif isinstance(content, list) and role != "function":
            blank = self._parts(content, role, path)
        else:
            expected = "a string" if role == "function" else "a string or a list of content parts"
            add(
                Issue.INVALID_CONTENT, f"`{path}.content` is {kind(content)}; it must be {expected}"
            )
            return
        if not blank or has_call or output or role in _RESULT_ROLES:
            return
        if role == "assistant":
            add(
                Issue.EMPTY_ASSISTANT,
                f"`{path}` is an assistant reply with empty content: "
                "the model learns to answer nothing",
            )
        else:
            add(Issue.EMPTY_MESSAGE, f"`{path}` is {article(role)} message with empty content")

    def _parts(self, parts: list[Any], role: str, path: str) -> bool:
        """Check content parts; return whether they are empty (only blank text)."""
        add = self.analysis.add
        allowed = PART_TYPES[role]
        empty = True
        for index, part in enumerate(parts):
            where = f"{path}.content[{index}]"
            # A malformed part is reported as such, not as emptiness.
            empty = empty and isinstance(part, dict) and part.get("type") in ("text", "refusal")
            if not isinstance(part, dict):
                add(
                    Issue.INVALID_PART,
                    f"`{where}` is {kind(part)}, not a content part; "
                    'write {"type": "text", "text": ...}',
                )
                continue
            part_type = part.get("type")
            if part_type == "image_url":
                self.analysis.images += 1
            if part_type is None:
                add(Issue.INVALID_PART, f"`{where}` has no type")
            elif not isinstance(part_type, str) or part_type not in allowed:
                add(Issue.UNSUPPORTED_PART, _unsupported_part(part_type, role, where))
                empty = False
            elif part_type in ("text", "refusal"):
                value = part.get(part_type)
                if not isinstance(value, str):
                    add(
                        Issue.INVALID_PART,
                        f"`{where}` is a {part_type} part whose {part_type} is {kind(value)}",
                    )
                    empty = False
                elif not is_blank(value):
                    empty = False
            else:
                problem = _image_problem(part.get("image_url"))
                if problem:
                    add(Issue.INVALID_PART, f"`{where}` {problem}")
        return empty

    def _weight(self, weight: object, role: str, path: str) -> None:
        if role != "assistant":
            self.analysis.add(
                Issue.INVALID_WEIGHT,
                f"`{path}` is {article(role)} message with a weight; "
                "only assistant messages take one",
            )
        elif isinstance(weight, bool) or weight not in (0, 1):
            self.analysis.add(
                Issue.INVALID_WEIGHT,
                f"`{path}.weight` is {quote(weight)}; it must be 0 (do not train this reply) "
                "or 1 (train it)",
            )

    def _tool_calls(self, calls: object, path: str) -> list[str]:
        add = self.analysis.add
        if not isinstance(calls, list):
            add(
                Issue.INVALID_TOOL_CALL,
                f"`{path}.tool_calls` is {kind(calls)}; it must be a list of calls",
            )
            return []
        if not calls:
            add(
                Issue.INVALID_TOOL_CALL,
                f"`{path}.tool_calls` is empty; drop the key or add the call",
            )
        elif len(calls) > 1 and not self.parallel:
            add(
                Issue.TOO_MANY_TOOL_CALLS,
                f"`{path}` makes {len(calls)} tool calls in one turn, but parallel_tool_calls "
                "is false; make one call per assistant turn or allow parallel calls",
            )
        ids: list[str] = []
        for index, call in enumerate(calls):
            where = f"{path}.tool_calls[{index}]"
            if not isinstance(call, dict):
                add(Issue.INVALID_TOOL_CALL, f"`{where}` is {kind(call)}, not a call object")
                continue
            call_id = call.get("id")
            if not isinstance(call_id, str) or not call_id:
                add(
                    Issue.INVALID_TOOL_CALL,
                    f"`{where}` has no id; tool messages answer calls by id",
                )
            elif call_id in ids:
                add(
                    Issue.INVALID_TOOL_CALL, f"`{where}` repeats the id {call_id!r} of another call"
                )
            else:
                ids.append(call_id)
            call_type = call.get("type")
            if call_type != "function":
                what = "no type" if call_type is None else f"type {quote(call_type)}"
                add(Issue.INVALID_TOOL_CALL, f'`{where}` has {what}; it must be "function"')
            function = call.get("function")
            if isinstance(function, dict):
                self._function_call(function, f"{where}.function")
            else:
                add(
                    Issue.INVALID_TOOL_CALL,
                    f"`{where}` has no `function` object with name and arguments",
                )
        return ids

    def _function_call(self, function: object, where: str) -> str | None:
        """Check a call's name and arguments; return the name if it has one."""
        add = self.analysis.add
        if not isinstance(function, dict):
            add(
                Issue.INVALID_TOOL_CALL,
                f"`{where}` is {kind(function)}; it must be an object with name and arguments",
            )
            return None
        name = function.get("name")
        if not isinstance(name, str) or not name:
            add(Issue.INVALID_TOOL_CALL, f"`{where}` has no name")
            name = None
        elif self.declared is None:
            add(
                Issue.UNDECLARED_TOOL,
                f"`{where}` calls {name!r}, but the example declares no tools; "
                "add its definition to `tools`",
            )
        elif name not in self.declared:
            add(
                Issue.UNDECLARED_TOOL,
                f"`{where}` calls {name!r}, which the example does not declare "
                f"(declared: {', '.join(sorted(self.declared)) or 'none'})"
                f"{did_you_mean(name, self.declared)}",
            )
        if (
            name is not None
            and name not in (self.declared or ())
            and not _TOOL_NAME.fullmatch(name)
        ):
            add(Issue.INVALID_TOOL_NAME, _bad_name(name, f"`{where}.name`"))
        arguments = function.get("arguments")
        if arguments is None:
            add(Issue.INVALID_TOOL_CALL, f'`{where}` has no arguments; use "{{}}" for none')
        elif not isinstance(arguments, str):
            add(
                Issue.INVALID_TOOL_CALL,
                f"`{where}.arguments` is {kind(arguments)}; it must be a string of JSON "
                "(serialise it with json.dumps)",
            )
        else:
            try:
                parsed = orjson.loads(arguments)
            except orjson.JSONDecodeError as error:
                add(
                    Issue.INVALID_TOOL_CALL,
                    f"`{where}.arguments` is not valid JSON ({error}): {quote(arguments)}",
                )
            else:
                if not isinstance(parsed, dict):
                    add(
                        Issue.INVALID_TOOL_CALL,
                        f"`{where}.arguments` is {kind(parsed)} in JSON, not an object",
                    )
        return name


class _Conversation:
    """The order of one conversation's messages: roles, calls and their answers."""

    __slots__ = (
        "analysis",
        "answered",
        "assistants",
        "calling",
        "has_user",
        "known",
        "last",
        "last_trained",
        "pending",
        "pending_function",
        "previous",
        "roles_valid",
        "started",
        "where",
    )

    def __init__(self, analysis: Analysis, where: str) -> None:
        self.analysis = analysis
        self.where = where
        self.previous: str | None = None
        self.started = False
        self.roles_valid = True
        self.has_user = False
        self.assistants = 0
        self.last_trained = -1
        self.last = -1
        # The calls of the latest calling assistant turn still waiting for an answer.
        self.pending: dict[str, None] = {}
        self.pending_function: str | None = None
        self.calling = -1
        self.known: set[str] = set()
        self.answered: set[str] = set()

    def invalid(self, message: dict[str, Any], index: int) -> None:
        """A message without a valid role: reported, and left out of the order checks."""
        self.analysis.add(Issue.INVALID_ROLE, _role_problem(message, f"{self.where}[{index}]"))
        self.roles_valid = False
        self.previous = None
        self.last = index

    def step(
        self,
        message: dict[str, Any],
        role: str,
        index: int,
        path: str,
        calls: tuple[Sequence[str], str | None],
    ) -> None:
        """Take the next message, with the ids of its tool calls and its function call."""
        self.last = index
        if self.pending or self.pending_function is not None or role in _RESULT_ROLES:
            self._results(message, role, path)
        if role == "assistant":
            ids, function_name = calls
            if ids:
                self.pending = dict.fromkeys(ids)
                self.known.update(ids)
                self.calling = index
            if function_name is not None:
                self.pending_function = function_name
                self.calling = index
            self.assistants += 1
            # An invalid weight is reported as such; the reply counts as trained.
            weight = message.get("weight")
            if weight != 0 or isinstance(weight, bool):
                self.last_trained = index
        elif role == "user":
            self.has_user = True
        if role == self.previous and role != "tool":
            self.analysis.add(
                Issue.CONSECUTIVE_ROLE,
                f"`{path}` is a second {role} message in a row; "
                "merge it with the one before or add the turn between them",
            )
        if role not in _INSTRUCTION_ROLES:
            self.started = True
        elif self.started:
            self.analysis.add(
                Issue.MISPLACED_SYSTEM,
                f"`{path}` is {article(role)} message after the conversation started; "
                "instructions go first, before the first user message",
            )
        self.previous = role

    def _results(self, message: dict[str, Any], role: str, path: str) -> None:
        """Match tool and function results with the calls just before them."""
        if role == "tool":
            self._answer(message, path)
        elif self.pending:
            self.analysis.add(Issue.UNANSWERED_TOOL_CALL, self._unanswered(path))
            self.pending = {}
        if role == "function":
            self._function_result(message, path)
            self.pending_function = None
        elif self.pending_function is not None:
            self.analysis.add(Issue.UNANSWERED_TOOL_CALL, self._unanswered_function(path))
            self.pending_function = None

    def end(self, messages: list[Any], *, chat: bool) -> None:
        """Report what the whole conversation lacks."""
        # The last message may make calls: it is the turn being trained.
        if self.pending and self.calling != self.last:
            self.analysis.add(Issue.UNANSWERED_TOOL_CALL, self._unanswered(None))
        if self.pending_function is not None and self.calling != self.last:
            self.analysis.add(Issue.UNANSWERED_TOOL_CALL, self._unanswered_function(None))
        if not self.roles_valid or self.last < 0:
            return
        if not self.has_user:
            self.analysis.add(
                Issue.NO_USER,
                f"`{self.where}` has no user message: "
                "the model learns to answer without being asked",
            )
        if chat:
            self._trained(messages[self.last])

    def _trained(self, last: dict[str, Any]) -> None:
        add = self.analysis.add
        if not self.assistants:
            add(
                Issue.NO_ASSISTANT,
                "The example has no assistant message, so nothing to train on; "
                "add the reply the model should learn",
            )
        elif self.last_trained < 0:
            add(
                Issue.NOTHING_TRAINED,
                f"Every assistant message of the example ({self.assistants}) has weight 0, "
                "so it trains nothing; give the replies to learn weight 1",
            )
        elif self.last_trained != self.last:
            at = f"`{self.where}[{self.last}]`"
            if last.get("role") == "assistant":
                what = f"an assistant reply with weight 0 ({at})"
            else:
                what = f"a {last.get('role')} message ({at}) after the last trained reply"
            add(
                Issue.LAST_NOT_TRAINED,
                f"The example ends on {what}; what follows the last trained reply is not "
                "learned: end on the reply the model should give",
            )

    def _answer(self, message: dict[str, Any], path: str) -> None:
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            problem = "has no tool_call_id; a tool message answers one call by its id"
        elif call_id in self.pending:
            del self.pending[call_id]
            self.answered.add(call_id)
            return
        elif call_id in self.answered:
            problem = f"answers call {call_id!r} a second time"
        elif call_id in self.known:
            problem = f"answers call {call_id!r}, but other messages come between the call and it"
        else:
            hint = did_you_mean(call_id, self.pending) if self.pending else ""
            problem = f"answers call {call_id!r}, which no earlier assistant message makes{hint}"
        self.analysis.add(Issue.UNMATCHED_TOOL_RESPONSE, f"`{path}` {problem}")

    def _function_result(self, message: dict[str, Any], path: str) -> None:
        name = message.get("name")
        pending = self.pending_function
        if pending is None:
            problem = "gives a function result, but the message before it calls no function"
        elif not isinstance(name, str) or not name:
            problem = f"has no name; it must name the function called, {pending!r}"
        elif name != pending:
            problem = f"gives the result of {name!r}, but the call before it is to {pending!r}"
        else:
            return
        self.analysis.add(Issue.UNMATCHED_TOOL_RESPONSE, f"`{path}` {problem}")

    def _unanswered(self, before: str | None) -> str:
        ids = ", ".join(repr(call_id) for call_id in self.pending)
        one = len(self.pending) == 1
        after = f" before `{before}`" if before else ""
        return (
            f"`{self.where}[{self.calling}]` makes the tool {'call' if one else 'calls'} {ids} "
            f"with no tool message answering {'it' if one else 'them'}{after}; "
            "add the results right after the call"
        )

    def _unanswered_function(self, before: str | None) -> str:
        after = f" before `{before}`" if before else ""
        return (
            f"`{self.where}[{self.calling}]` calls the function {self.pending_function!r} "
            f"with no function message giving its result{after}"
        )


def _role_problem(message: dict[str, Any], path: str) -> str:
    if "role" not in message:
        return f"`{path}` has no role; give it one of {', '.join(ROLE_KEYS)}"
    role = message["role"]
    if not isinstance(role, str):
        return f"`{path}.role` is {kind(role)}; it must be one of {', '.join(ROLE_KEYS)}"
    lowered = role.strip().lower()
    suggestion = lowered if lowered in ROLE_KEYS else _ROLE_ALIASES.get(lowered)
    hint = f"; did you mean {suggestion!r}?" if suggestion else did_you_mean(role, ROLE_KEYS)
    return f"`{path}` has the unknown role {quote(role)} (roles: {', '.join(ROLE_KEYS)}){hint}"


def _unknown_key(key: str, role: str, path: str, allowed: frozenset[str]) -> str:
    owners = [other for other, keys in ROLE_KEYS.items() if key in keys and other != role]
    if owners:
        hint = f"; it belongs on {' and '.join(owners)} messages"
    else:
        hint = did_you_mean(key, allowed)
    return (
        f"`{path}` has the key {quote(key)}, which {role} messages do not take "
        f"(keys: {', '.join(sorted(allowed))}){hint}"
    )


def _unsupported_part(part_type: object, role: str, where: str) -> str:
    if part_type == "image_url":
        return (
            f"`{where}` is an image in {article(role)} message; only user messages may hold images"
        )
    if part_type == "refusal":
        return (
            f"`{where}` is a refusal part in {article(role)} message; "
            "only assistant messages refuse"
        )
    if part_type in ("input_audio", "file"):
        return (
            f"`{where}` is {article(part_type)} part; fine-tuning data takes text and images only"
        )
    alias = _PART_ALIASES.get(part_type) if isinstance(part_type, str) else None
    hint = f"; chat messages call it {alias!r}" if alias else ""
    return (
        f"`{where}` has type {quote(part_type)}, which {role} messages do not take "
        f"(types: {', '.join(sorted(PART_TYPES[role])) or 'none'}){hint}"
    )


def _image_problem(image: object) -> str | None:
    if isinstance(image, str):
        return 'has image_url as a string; it must be an object: {"url": ...}'
    if not isinstance(image, dict):
        return "is an image part without an image_url object"
    url = image.get("url")
    if not isinstance(url, str) or not url:
        return "is an image part without a url"
    detail = image.get("detail")
    if detail is not None and (not isinstance(detail, str) or detail not in _IMAGE_DETAIL):
        return f"has the image detail {quote(detail)}; use low, high or auto"
    if url.startswith(("https://", "http://")):
        host = url.partition("://")[2][:1]
        return None if host not in ("", "/") else f"has the url {quote(url)} without a host"
    if not url.startswith("data:"):
        return f"has the url {quote(url)}, which is neither http(s) nor a base64 data URL"
    comma = url.find(",")
    header = url[5:comma] if comma >= 0 else url[5:100]
    # data:image/png[;name=value...];base64,DATA
    mime, *parameters = header.split(";")
    encoding = parameters[-1] if parameters else ""
    if comma < 0 or comma == len(url) - 1:
        return f"has a data URL without image data: {quote(url)}"
    if encoding != "base64":
        return (
            f"has a data URL that is not base64 ({quote(url[: comma + 1])}); "
            "use data:image/png;base64,..."
        )
    if mime.lower() not in _IMAGE_TYPES:
        return f"has a data URL of type {quote(mime)}; images must be JPEG, PNG or WEBP"
    if not _BASE64.fullmatch(url, comma + 1):
        return "has a data URL whose data is not base64"
    size = (len(url) - comma - 1) * 3 // 4
    if size > MAX_IMAGE_BYTES:
        return f"holds an image of {file_size(size)}; the limit is {file_size(MAX_IMAGE_BYTES)}"
    return None
