"""FT2xx: chat examples: their messages, tools and calls, role order and legacy leftovers.

Message-level problems are found by one walk per record (:mod:`pytest_finetune.chat_schema`)
and each check reports those of its kind. Preference inputs and outputs are chat
messages too, so the checks of single messages also run on preference data. The
leftover checks look at the whole file: they learn a candidate marker from the first
records and report once if every turn carries it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_finetune.chat_schema import (
    Issue,
    analyse,
    content_text,
    is_blank,
    messages_problems,
)
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record

if TYPE_CHECKING:
    from pytest_finetune.scan import ScanContext

CHAT = frozenset({Format.CHAT})
MESSAGES = frozenset({Format.CHAT, Format.PREFERENCE})


class _Walk(Survey):
    """The schema walk over each record, shared by every message-level check.

    One walk per record finds every issue; each is reported by the member check of its
    kind, if that check is selected and applies to the record's format.
    """

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.by_issue: dict[Issue, Check] = {}
        self.images: TooManyImages | None = None

    def join(self, check: Check) -> None:
        super().join(check)
        if isinstance(check, TooManyImages):
            self.images = check
        else:
            self.by_issue[type(check).issue] = check  # type: ignore[attr-defined]

    def visit(self, record: Record) -> None:
        analysis = analyse(record)
        if analysis.issues:
            fmt = record.format
            for issue, messages in analysis.issues.items():
                member = self.by_issue.get(issue)
                if member is not None and type(member).applies_to(fmt):
                    for message in messages:
                        member.report(record.line, message)
        images = self.images
        if images is not None and analysis.images > images.options.max_images:
            images.report(
                record.line,
                f"The example holds {analysis.images} images; at most "
                f"{images.options.max_images} are allowed: split it or drop some",
            )


class _IssueCheck(Surveyed):
    """A check that reports the issues of one kind that the schema walk finds."""

    issue: ClassVar[Issue]
    formats = MESSAGES
    survey_type = _Walk


@register
class InvalidMessages(Check):
    """The example has no list of messages.

    What it does:
        Reports a chat example whose ``messages`` is missing (or spelled in another
        case), is not a list, is empty, or holds items that are not objects.

    Why it matters:
        The service rejects the file: every chat example is a list of message objects.

    Example:
        ``{"messages": {"role": "user", "content": "Hi"}}`` (one message, not a list).

    Fix:
        Write ``"messages": [{"role": ..., "content": ...}, ...]`` with at least a user
        message and the assistant reply to learn.
    """

    code = "FT201"
    name = "invalid-messages"
    severity = Severity.ERROR
    formats = CHAT

    def visit(self, record: Record) -> None:
        for problem in messages_problems(record.data, "messages"):
            self.report(record.line, problem)


@register
class InvalidRole(_IssueCheck):
    """A message has no role, or one that chat data does not know.

    What it does:
        Reports messages whose ``role`` is missing, not a string, or not one of
        ``system``, ``developer``, ``user``, ``assistant``, ``tool`` and ``function``,
        suggesting the right one for names from other formats (``human``, ``gpt``,
        ``bot``, ``model``).

    Why it matters:
        The service rejects the example; ShareGPT-style names are the usual cause.

    Example:
        ``{"role": "human", "content": "Hi"}``

    Fix:
        Use one of the roles above (``human`` is ``user``; ``gpt`` and ``bot`` are
        ``assistant``).
    """

    code = "FT202"
    name = "invalid-role"
    severity = Severity.ERROR
    issue = Issue.INVALID_ROLE


@register
class UnknownMessageKey(_IssueCheck):
    """A message has a key that its role does not take.

    What it does:
        Compares each message's keys with those its role takes (``content`` and
        ``name`` for system, developer and user; also ``tool_calls``,
        ``function_call``, ``weight`` and ``refusal`` for assistant; ``tool_call_id``
        for tool), names the role a key belongs to and suggests close spellings. A
        ``name`` that is not a non-empty string is reported too.

    Why it matters:
        The message schema allows no other keys, so the service rejects the example.
        A misspelled key (``contents``, ``tool_call``) also loses what it holds.

    Example:
        ``{"role": "user", "content": "Hi", "tool_call_id": "call_1"}``

    Fix:
        Remove the key, or move or rename it as the message suggests.
    """

    code = "FT203"
    name = "unknown-message-key"
    severity = Severity.ERROR
    issue = Issue.UNKNOWN_MESSAGE_KEY


@register
class UnknownExampleKey(_IssueCheck):
    """An example has a top-level key that is not part of its format.

    What it does:
        Reports keys beside ``messages``, ``tools``, ``parallel_tool_calls`` and
        ``functions`` in chat examples, and beside ``input``, ``preferred_output`` and
        ``non_preferred_output`` (or their older names) in preference pairs, with a
        did-you-mean for misspellings.

    Why it matters:
        The key does not train anything: at best the service ignores it, at worst it
        rejects the file. Often it is metadata (``id``, ``source``) that belongs in a
        separate file, or a misspelled ``tools``.

    Example:
        ``{"messages": [...], "source": "support-tickets"}``

    Fix:
        Remove the key (keep metadata in a separate file keyed by line), or correct
        its spelling.
    """

    code = "FT204"
    name = "unknown-example-key"
    severity = Severity.WARNING
    issue = Issue.UNKNOWN_EXAMPLE_KEY


@register
class InvalidContent(_IssueCheck):
    """A message's content has the wrong type, or is missing where it is required.

    What it does:
        Reports content that is neither a string nor a list of content parts, and
        content that is missing or null on a message that needs it: only an assistant
        message that calls a tool (``tool_calls``, ``function_call``) or refuses
        (``refusal``) may go without. A ``refusal`` that is not a string is reported
        too.

    Why it matters:
        The service rejects the example. A number or an object as content usually
        means a value was not converted to text.

    Example:
        ``{"role": "user", "content": 42}``, or ``{"role": "assistant", "content": null}``
        without a tool call.

    Fix:
        Give the message its text as a string, or as ``[{"type": "text", "text": ...}]``.
    """

    code = "FT205"
    name = "invalid-content"
    severity = Severity.ERROR
    issue = Issue.INVALID_CONTENT


@register
class EmptyAssistantMessage(_IssueCheck):
    """An assistant reply has empty content and calls no tool.

    What it does:
        Reports assistant messages whose content is empty or only whitespace (or a
        list of parts without text) and that make no tool or function call.

    Why it matters:
        The example trains the model to answer with nothing; the service rejects
        assistant messages without content or calls.

    Example:
        ``{"role": "assistant", "content": " "}``

    Fix:
        Write the reply, or drop the example.
    """

    code = "FT206"
    name = "empty-assistant-message"
    severity = Severity.ERROR
    issue = Issue.EMPTY_ASSISTANT


@register
class EmptyMessage(_IssueCheck):
    """A system, developer or user message has empty content.

    What it does:
        Reports system, developer and user messages whose content is empty or only
        whitespace. Tool and function results may be empty: a call can return nothing.

    Why it matters:
        An empty instruction or question is usually a template whose value was never
        filled in; the model learns to answer a question nobody asked.

    Example:
        ``{"role": "user", "content": ""}``

    Fix:
        Fill in the message, or remove it (an empty system message says nothing).
    """

    code = "FT207"
    name = "empty-message"
    severity = Severity.WARNING
    issue = Issue.EMPTY_MESSAGE


@register
class InvalidContentPart(_IssueCheck):
    """A content part is malformed.

    What it does:
        Checks each part of a list content: it must be an object with a ``type``; a
        text part needs a string ``text``; an image part needs ``image_url`` as an
        object with a ``url`` that is http(s) or a base64 data URL of a JPEG, PNG or
        WEBP image of at most 10 MB, and a ``detail`` (if any) of low, high or auto.

    Why it matters:
        The service rejects the example, or cannot fetch or decode the image.

    Example:
        ``{"type": "image_url", "image_url": "https://example.com/cat.png"}`` (the url
        must be inside an object).

    Fix:
        Write parts as ``{"type": "text", "text": ...}`` and
        ``{"type": "image_url", "image_url": {"url": ...}}``.
    """

    code = "FT208"
    name = "invalid-content-part"
    severity = Severity.ERROR
    issue = Issue.INVALID_PART


@register
class UnsupportedContentPart(_IssueCheck):
    """A content part has a type that its role does not take.

    What it does:
        Checks part types per role: user messages take text and images, assistant
        messages text and refusals, the other roles text only. Images in assistant
        messages, audio and file parts (not supported for fine-tuning) and part types
        of other APIs (``input_text``, ``image``) are reported.

    Why it matters:
        The service rejects the example: fine-tuning does not train on images the
        assistant produces, nor on audio or files.

    Example:
        An assistant message with ``{"type": "image_url", ...}`` in its content.

    Fix:
        Move images into user messages; convert other parts to text.
    """

    code = "FT209"
    name = "unsupported-content-part"
    severity = Severity.ERROR
    issue = Issue.UNSUPPORTED_PART


@dataclass(frozen=True)
class _ImageOptions:
    max_images: int = option(10, "The most images one example may hold.")


@register
class TooManyImages(Surveyed):
    """An example holds more images than fine-tuning accepts.

    What it does:
        Counts the image parts of each example (input messages for preference data)
        and reports more than ``max-images`` (10, OpenAI's limit).

    Why it matters:
        Examples with more images are rejected or skipped.

    Example:
        A user message with twelve ``image_url`` parts.

    Fix:
        Split the example, or keep the images that matter.
    """

    code = "FT210"
    name = "too-many-images"
    severity = Severity.ERROR
    formats = MESSAGES
    Options = _ImageOptions
    survey_type = _Walk


@register
class MissingAssistantMessage(_IssueCheck):
    """A chat example has no assistant message.

    What it does:
        Reports chat examples in which no message has the role ``assistant``.

    Why it matters:
        Fine-tuning learns the assistant's replies; without one the example trains
        nothing and the service rejects it.

    Example:
        ``{"messages": [{"role": "user", "content": "Hi"}]}``

    Fix:
        Add the reply the model should learn, or drop the example.
    """

    code = "FT211"
    name = "missing-assistant-message"
    severity = Severity.ERROR
    formats = CHAT
    issue = Issue.NO_ASSISTANT


@register
class MissingUserMessage(_IssueCheck):
    """An example has no user message.

    What it does:
        Reports chat examples (and preference inputs) without a message of the role
        ``user``. Examples without a system message are fine.

    Why it matters:
        The model learns to produce the reply unprompted, from the system message
        alone; usually the user turn was lost when the data was converted.

    Example:
        ``[{"role": "system", ...}, {"role": "assistant", "content": "You're great!"}]``

    Fix:
        Add the user turn the reply answers.
    """

    code = "FT212"
    name = "missing-user-message"
    severity = Severity.WARNING
    issue = Issue.NO_USER


@register
class InvalidWeight(_IssueCheck):
    """A message's weight is not 0 or 1, or is on a message that is not trained.

    What it does:
        Reports a ``weight`` other than the numbers 0 and 1 (``0.5``, ``"1"``,
        ``true``), and any weight on a message that is not an assistant message.

    Why it matters:
        The service takes only 0 (do not train this reply) or 1 (train it), and only on
        assistant messages; anything else is rejected.

    Example:
        ``{"role": "assistant", "content": "...", "weight": 0.5}``

    Fix:
        Use 0 or 1 on assistant messages; remove weights from the other roles.
    """

    code = "FT213"
    name = "invalid-weight"
    severity = Severity.ERROR
    issue = Issue.INVALID_WEIGHT


@register
class NothingTrained(_IssueCheck):
    """Every assistant message of an example has weight 0.

    What it does:
        Reports chat examples whose assistant messages all carry ``"weight": 0``.

    Why it matters:
        The example trains nothing but is still paid for; it is usually a mask applied
        to the wrong turns.

    Example:
        A conversation in which every assistant reply has ``"weight": 0``.

    Fix:
        Give the replies the model should learn weight 1 (or no weight), or drop the
        example.
    """

    code = "FT214"
    name = "nothing-trained"
    severity = Severity.ERROR
    formats = CHAT
    issue = Issue.NOTHING_TRAINED


@register
class InvalidToolCall(_IssueCheck):
    """A tool or function call is malformed.

    What it does:
        Checks each entry of ``tool_calls`` (a non-empty list) for an ``id``, the type
        ``function`` and a ``function`` object with a ``name`` and ``arguments``, and
        the deprecated ``function_call`` for a ``name`` and ``arguments``. Arguments
        must be a string that parses as a JSON object.

    Why it matters:
        The service rejects the example; arguments written as an object instead of a
        JSON string are the usual cause, and arguments that are not JSON teach the
        model to call tools with text the application cannot parse.

    Example:
        ``{"id": "call_1", "type": "function", "function": {"name": "get_weather",
        "arguments": {"city": "Paris"}}}``

    Fix:
        Give every call an id and ``"type": "function"``, and serialise the arguments
        with ``json.dumps``.
    """

    code = "FT215"
    name = "invalid-tool-call"
    severity = Severity.ERROR
    issue = Issue.INVALID_TOOL_CALL


@register
class UndeclaredTool(_IssueCheck):
    """A message calls a tool that the example does not declare.

    What it does:
        Compares the name of every tool and function call with the tools declared in
        the example's ``tools`` (or deprecated ``functions``), with a did-you-mean.

    Why it matters:
        The model learns to call a tool it was never shown, so at inference it calls
        tools that do not exist, or never learns when to call the real one.

    Example:
        ``tools`` declares ``get_weather`` and the assistant calls ``get_wether``.

    Fix:
        Declare every tool the example calls in its ``tools``, or correct the name.
    """

    code = "FT216"
    name = "undeclared-tool"
    severity = Severity.ERROR
    issue = Issue.UNDECLARED_TOOL


@register
class InvalidToolName(_IssueCheck):
    """A tool name has characters or a length that the API does not allow.

    What it does:
        Checks the names of declared tools and functions (and of calls to undeclared
        ones) against ``^[a-zA-Z0-9_-]{1,64}$``.

    Why it matters:
        The service rejects such names; names with spaces or dots (``weather.get``)
        are the usual cause.

    Example:
        ``{"type": "function", "function": {"name": "get weather"}}``

    Fix:
        Rename the tool with letters, digits, ``_`` and ``-`` only, in the declaration
        and in every call.
    """

    code = "FT217"
    name = "invalid-tool-name"
    severity = Severity.ERROR
    issue = Issue.INVALID_TOOL_NAME


@register
class InvalidToolDefinition(_IssueCheck):
    """The example's tool declarations are malformed.

    What it does:
        Checks that ``tools`` is a list of ``{"type": "function", "function": {...}}``
        and ``functions`` a list of function objects, each with a name (declared once),
        a string description and a JSON Schema object as parameters; and that
        ``parallel_tool_calls`` is true or false.

    Why it matters:
        The service rejects the example, and the model cannot learn when to call a
        tool it cannot read.

    Example:
        ``"tools": [{"name": "get_weather", "parameters": {...}}]`` (without the
        ``type`` and ``function`` wrapper).

    Fix:
        Declare tools as ``{"type": "function", "function": {"name": ...,
        "description": ..., "parameters": {...}}}``.
    """

    code = "FT218"
    name = "invalid-tool-definition"
    severity = Severity.ERROR
    issue = Issue.INVALID_TOOL_DEFINITION


@register
class UnmatchedToolResponse(_IssueCheck):
    """A tool message answers no call made just before it.

    What it does:
        Follows the conversation: a ``tool`` message must carry the ``tool_call_id`` of
        a call made by the assistant message before it (with only tool messages in
        between), answered once; a ``function`` message must follow a
        ``function_call`` and give its name.

    Why it matters:
        The service rejects a tool result that answers no call, and an id copied from
        another conversation teaches the model results for calls it never made.

    Example:
        An assistant call with id ``call_1`` followed by a tool message with
        ``"tool_call_id": "call_2"``.

    Fix:
        Give each tool message the id of the call it answers, right after that call.
    """

    code = "FT219"
    name = "unmatched-tool-response"
    severity = Severity.ERROR
    issue = Issue.UNMATCHED_TOOL_RESPONSE


@register
class UnansweredToolCall(_IssueCheck):
    """A tool call gets no answer before the conversation moves on.

    What it does:
        Reports calls of an assistant message that no tool (or function) message
        answers before the next other message. An example may end on the call: that
        trains the model to make it.

    Why it matters:
        The service rejects a conversation that goes on past a call without its
        result, and the model learns replies that ignore what the tool returned.

    Example:
        An assistant message calling ``get_weather`` followed directly by another
        assistant message.

    Fix:
        Add a tool message with each call's result after the calling message, or end
        the example on the call.
    """

    code = "FT220"
    name = "unanswered-tool-call"
    severity = Severity.ERROR
    issue = Issue.UNANSWERED_TOOL_CALL


@register
class TooManyToolCalls(_IssueCheck):
    """An assistant turn makes several calls although parallel tool calls are off.

    What it does:
        Reports assistant messages with more than one entry in ``tool_calls`` in an
        example whose ``parallel_tool_calls`` is false.

    Why it matters:
        The example contradicts itself: the service rejects it, and the model is told
        to make one call at a time while being shown several.

    Example:
        ``"parallel_tool_calls": false`` and an assistant message with two tool calls.

    Fix:
        Split the calls over consecutive turns (call, result, call, result), or drop
        ``"parallel_tool_calls": false``.
    """

    code = "FT221"
    name = "too-many-tool-calls"
    severity = Severity.ERROR
    issue = Issue.TOO_MANY_TOOL_CALLS


@register
class ConsecutiveSameRole(_IssueCheck):
    """Two messages in a row have the same role.

    What it does:
        Reports a message whose role is that of the message before it (tool messages
        excepted: a turn with several calls has several results).

    Why it matters:
        Conversations alternate; two user or assistant messages in a row are usually
        turns merged or split by mistake, and the model learns an odd rhythm.

    Example:
        ``user``, ``user``, ``assistant``.

    Fix:
        Merge the two messages, or add the missing turn between them.
    """

    code = "FT222"
    name = "consecutive-same-role"
    severity = Severity.WARNING
    issue = Issue.CONSECUTIVE_ROLE


@register
class MisplacedSystemMessage(_IssueCheck):
    """A system or developer message comes after the conversation started.

    What it does:
        Reports system and developer messages that follow a user, assistant or tool
        message.

    Why it matters:
        Instructions go first; one in the middle of a conversation is usually two
        examples glued together, and the model learns to expect instructions mid-way.

    Example:
        ``user``, ``assistant``, ``system``, ``user``, ``assistant``.

    Fix:
        Move the instructions to the start, or split the example in two.
    """

    code = "FT223"
    name = "misplaced-system-message"
    severity = Severity.WARNING
    issue = Issue.MISPLACED_SYSTEM


@register
class LastMessageNotTrained(_IssueCheck):
    """A chat example does not end on a trained assistant reply.

    What it does:
        Reports chat examples whose last message is not an assistant message with
        weight 1 (or no weight), when an earlier one is.

    Why it matters:
        Whatever follows the last trained reply is paid for and not learned: a
        trailing user or tool message is usually a conversation cut in the wrong place.

    Example:
        ``system``, ``user``, ``assistant``, ``user``.

    Fix:
        End the example on the reply the model should give, or drop the trailing
        messages.
    """

    code = "FT224"
    name = "last-message-not-trained"
    severity = Severity.WARNING
    formats = CHAT
    issue = Issue.LAST_NOT_TRAINED


# -- leftovers of prompt/completion data ---------------------------------------------


@dataclass(frozen=True)
class _LeftoverOptions:
    min_turns: int = option(10, "Fewer turns than this are too few to call a habit.")


#: Examples named in a leftover finding.
_SHOWN_LINES = 3
#: Characters of the first turn from which a common ending is learned.
_SUFFIX_WINDOW = 200
_SYMBOL_RUN = re.compile(r"([!#$%&*+\-/:;<=>?@\\^|~])\1{2,}\Z")
_STOP_WORD = re.compile(r"(?<![A-Za-z])(?:END|STOP|EOS)\Z")
_ARROW = re.compile(r"(?:->|=>)\Z")
#: A label on a line of its own (``\nAnswer:``); a colon ending a sentence is not one.
_LABEL = re.compile(r"\n[ \t]*[A-Za-z][A-Za-z ]{0,40}:\Z")


class _Leftover(Check):
    """A habit of every turn of one role, reported once for the file."""

    severity = Severity.WARNING
    formats = CHAT
    Options = _LeftoverOptions
    role: ClassVar[str]

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.marker: str | None = None
        self.turns = 0
        self.lines: list[int] = []

    def begin(self, head: list[Record]) -> None:
        self.marker = self.learn([text for record in head for text in self.texts(record)])

    def visit(self, record: Record) -> None:
        marker = self.marker
        if marker is None:
            return
        found = False
        for text in self.texts(record):
            if not self.carries(text, marker):
                self.marker = None  # one turn without it: not a habit of every turn
                return
            found = True
            self.turns += 1
        if found and len(self.lines) < _SHOWN_LINES:
            self.lines.append(record.line)

    def finish(self) -> None:
        if self.marker is not None and self.turns >= self.options.min_turns:
            lines = ", ".join(str(line) for line in self.lines)
            self.report(None, f"{self.describe(self.marker)} (e.g. lines {lines})")

    def texts(self, record: Record) -> list[str]:
        """The non-empty texts of this role's messages."""
        return turn_texts(record, self.context.cache).get(self.role, [])

    def learn(self, texts: list[str]) -> str | None:
        """The marker every turn of the head carries, if it looks like a leftover."""
        raise NotImplementedError

    def carries(self, text: str, marker: str) -> bool:
        """Whether one turn carries the marker."""
        return text.endswith(marker)

    def describe(self, marker: str) -> str:
        """The finding, without its example lines."""
        raise NotImplementedError


_LAST_TURNS = "pytest_finetune.chat.turns"


def turn_texts(record: Record, cache: dict[str, Any]) -> dict[str, list[str]]:
    """The non-empty texts of a record's messages by role, kept for the last record."""
    last: list[Any] = cache.setdefault(_LAST_TURNS, [None, None])
    if last[0] is record:
        return last[1]  # type: ignore[no-any-return]
    texts: dict[str, list[str]] = {}
    messages = record.data.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict) and isinstance(role := message.get("role"), str):
            text = content_text(message.get("content"))
            if text is not None and not is_blank(text):
                texts.setdefault(role, []).append(text)
    last[:] = (record, texts)
    return texts


def common_suffix(texts: Iterable[str]) -> str:
    """The longest ending all ``texts`` share (at most the last 200 characters)."""
    suffix: str | None = None
    for text in texts:
        if suffix is None:
            suffix = text[-_SUFFIX_WINDOW:]
            continue
        if text.endswith(suffix):
            continue
        same = 0
        limit = min(len(suffix), len(text))
        while same < limit and suffix[-1 - same] == text[-1 - same]:
            same += 1
        suffix = suffix[len(suffix) - same :]
        if not suffix:
            break
    return suffix or ""


def leftover_marker(suffix: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    """The part of a common ending that is a leftover marker, or ``None``.

    A marker is one of ``patterns`` at the end of the text (with the whitespace around
    it), or trailing whitespace. Natural endings (``.``, ``?``, ``}``) are not markers.
    """
    core = suffix.rstrip()
    for pattern in patterns:
        match = pattern.search(core)
        if match:
            start = match.start()
            while start > 0 and core[start - 1].isspace():
                start -= 1
            return suffix[start:]
    return suffix[len(core) :] or None


@register
class AssistantLeadingSpace(_Leftover):
    """Every assistant reply starts with whitespace, as legacy completions did.

    What it does:
        Looks at the text of every assistant message in the file and reports once when
        all of them (at least ``min-turns``) start with a space or other whitespace,
        naming the first examples.

    Why it matters:
        Prompt/completion data needed a leading space on completions; in chat data it
        is a leftover of the conversion, and the model learns to start every answer
        with a space.

    Example:
        ``{"role": "assistant", "content": " Natalia sold 48/2 = 24 clips in May."}`` on
        every line.

    Fix:
        Strip the leading whitespace from the replies (``content.lstrip()``).
    """

    code = "FT225"
    name = "assistant-leading-space"
    role = "assistant"

    def learn(self, texts: list[str]) -> str | None:
        return " " if texts and all(text[0].isspace() for text in texts) else None

    def carries(self, text: str, marker: str) -> bool:
        return text[0].isspace()

    def describe(self, marker: str) -> str:
        return (
            f"Every assistant reply ({self.turns:,}) starts with whitespace, a leftover of "
            "prompt/completion data; the model learns to start answers with it: strip it"
        )


@register
class AssistantEndMarker(_Leftover):
    """Every assistant reply ends with the same marker, a legacy stop sequence.

    What it does:
        Learns the ending that the assistant replies of the first records share and
        reports once when every reply in the file (at least ``min-turns``) ends with it
        and it looks like a stop sequence: a run of a symbol (``!!!``, ``###``), a
        word such as ``END``, or trailing whitespace. Natural endings such as ``.`` or
        ``}`` are not reported.

    Why it matters:
        Prompt/completion data needed a stop sequence; chat models stop on their own,
        so the marker is a leftover that the model learns to write at the end of every
        answer.

    Example:
        Every reply ending with ``!!!``: ``"... #### 72!!!"``.

    Fix:
        Remove the marker from the end of the replies.
    """

    code = "FT226"
    name = "assistant-end-marker"
    role = "assistant"

    def learn(self, texts: list[str]) -> str | None:
        return leftover_marker(common_suffix(texts), (_SYMBOL_RUN, _STOP_WORD))

    def describe(self, marker: str) -> str:
        return (
            f"Every assistant reply ({self.turns:,}) ends with {marker!r}, a stop sequence "
            "left from prompt/completion data; chat models stop on their own and learn "
            "to write it: remove it"
        )


@register
class UserTurnSeparator(_Leftover):
    r"""Every user turn ends with the same separator, as legacy prompts did.

    What it does:
        Learns the ending that the user messages of the first records share and
        reports once when every user message in the file (at least ``min-turns``) ends
        with it and it looks like a separator: ``->``, a run of a symbol (``###``), a
        label on a line of its own such as ``\nAnswer:``, or trailing whitespace. A
        question mark, or a colon ending a sentence, is not one.

    Why it matters:
        Prompt/completion data needed a separator at the end of each prompt; in chat
        data the roles already separate the turns, and the model learns to expect the
        separator, answering worse when real users do not type it.

    Example:
        Every user message ending with ``\nSolution:``.

    Fix:
        Remove the separator from the end of the user messages.
    """

    code = "FT227"
    name = "user-turn-separator"
    role = "user"

    def learn(self, texts: list[str]) -> str | None:
        return leftover_marker(common_suffix(texts), (_SYMBOL_RUN, _ARROW, _LABEL))

    def describe(self, marker: str) -> str:
        return (
            f"Every user turn ({self.turns:,}) ends with {marker!r}, a "
            "separator left from prompt/completion data; the model learns to expect it: "
            "remove it"
        )
