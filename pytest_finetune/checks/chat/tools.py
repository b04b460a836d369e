"""FT215-FT221: the tools an example declares and the calls its messages make and answer."""

from __future__ import annotations

from pytest_finetune.chat_schema import Issue, Unanswered
from pytest_finetune.checks.chat.survey import IssueCheck
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import did_you_mean, quote_value


@register
class InvalidToolCall(IssueCheck):
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
    sees = (Issue.INVALID_TOOL_CALL,)


@register
class UndeclaredTool(IssueCheck):
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
    sees = (Issue.UNDECLARED_TOOL,)

    def seen(self, line: int, where: str, detail: tuple[str, frozenset[str] | None]) -> None:
        # The detail: the name called, and the names declared (``None``: no tools).
        name, declared = detail
        if declared is None:
            self.report(
                line,
                f"`{where}` calls {name!r}, but the example declares no tools; "
                "add its definition to `tools`",
            )
        else:
            self.report(
                line,
                f"`{where}` calls {name!r}, which the example does not declare "
                f"(declared: {', '.join(sorted(declared)) or 'none'})"
                f"{did_you_mean(name, declared)}",
            )


@register
class InvalidToolName(IssueCheck):
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
    reads_views = False
    name = "invalid-tool-name"
    severity = Severity.ERROR
    sees = (Issue.INVALID_TOOL_NAME,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the name.
        self.report(
            line,
            f"`{where}` is {quote_value(detail)}, not a valid tool name: "
            "use 1 to 64 letters, digits, underscores or hyphens",
        )


@register
class InvalidToolDefinition(IssueCheck):
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
    sees = (Issue.INVALID_TOOL_DEFINITION,)


@register
class UnmatchedToolResponse(IssueCheck):
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
    sees = (Issue.UNMATCHED_TOOL_RESPONSE,)


@register
class UnansweredToolCall(IssueCheck):
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
    sees = (Issue.UNANSWERED_TOOL_CALL,)

    def seen(self, line: int, where: str, detail: Unanswered) -> None:
        # ``where``: the calling message.
        after = f" before `{detail.before}`" if detail.before else ""
        if detail.function is not None:
            self.report(
                line,
                f"`{where}` calls the function {detail.function!r} "
                f"with no function message giving its result{after}",
            )
            return
        ids = ", ".join(repr(call_id) for call_id in detail.calls)
        one = len(detail.calls) == 1
        self.report(
            line,
            f"`{where}` makes the tool {'call' if one else 'calls'} {ids} "
            f"with no tool message answering {'it' if one else 'them'}{after}; "
            "add the results right after the call",
        )


@register
class TooManyToolCalls(IssueCheck):
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
    reads_views = False
    name = "too-many-tool-calls"
    severity = Severity.ERROR
    sees = (Issue.TOO_MANY_TOOL_CALLS,)

    def seen(self, line: int, where: str, detail: int) -> None:
        # The detail: how many calls the turn makes.
        self.report(
            line,
            f"`{where}` makes {detail} tool calls in one turn, but parallel_tool_calls "
            "is false; make one call per assistant turn or allow parallel calls",
        )
