"""Tools and calls: the tools an example declares, and the calls its messages make."""

from __future__ import annotations

import re
from typing import Any

import orjson

from pytest_finetune.chat_schema.analysis import Analysis, Issue
from pytest_finetune.wording import kind, quote_value

_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def declarations(
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
            analysis.see(
                Issue.INVALID_TOOL_DEFINITION,
                f"{prefix}{key}",
                f"must be a list of {key[:-1]} definitions, not {kind(value)}",
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
                analysis.see(
                    Issue.INVALID_TOOL_DEFINITION, where, f"is {kind(item)}, not a definition"
                )
    parallel = data.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        analysis.see(
            Issue.INVALID_TOOL_DEFINITION,
            f"{prefix}parallel_tool_calls",
            f"is {quote_value(parallel)}; it must be true or false",
        )
        parallel = True
    return (None if names is None else frozenset(names)), parallel


def _function_of(tool: object, where: str, analysis: Analysis) -> object:
    """The function that an entry of ``tools`` declares (reporting a malformed entry)."""
    if not isinstance(tool, dict):
        analysis.see(Issue.INVALID_TOOL_DEFINITION, where, f"is {kind(tool)}, not a definition")
        return None
    tool_type = tool.get("type")
    if tool_type != "function":
        what = "no type" if tool_type is None else f"the type {quote_value(tool_type)}"
        analysis.see(
            Issue.INVALID_TOOL_DEFINITION,
            where,
            f'has {what}; fine-tuning data declares function tools ("type": "function")',
        )
    function = tool.get("function")
    if not isinstance(function, dict):
        analysis.see(
            Issue.INVALID_TOOL_DEFINITION,
            where,
            "has no `function` object (name, description, parameters)",
        )
    return function


def _definition(function: dict[str, Any], where: str, names: set[str], analysis: Analysis) -> None:
    name = function.get("name")
    if not isinstance(name, str) or not name:
        analysis.see(Issue.INVALID_TOOL_DEFINITION, where, "has no name")
    else:
        if not _TOOL_NAME.fullmatch(name):
            analysis.see(Issue.INVALID_TOOL_NAME, f"{where}.name", name)
        if name in names:
            analysis.see(Issue.INVALID_TOOL_DEFINITION, where, f"declares {name!r} a second time")
        names.add(name)
    description = function.get("description")
    if description is not None and not isinstance(description, str):
        analysis.see(
            Issue.INVALID_TOOL_DEFINITION,
            f"{where}.description",
            f"is {kind(description)}; it must be a string",
        )
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        analysis.see(
            Issue.INVALID_TOOL_DEFINITION,
            f"{where}.parameters",
            f"is {kind(parameters)}; it must be a JSON Schema object",
        )


def tool_calls(
    analysis: Analysis,
    calls: object,
    path: str,
    declared: frozenset[str] | None,
    parallel: bool,
) -> list[str]:
    """Check a message's ``tool_calls``; return the ids of its calls."""
    see = analysis.see
    if not isinstance(calls, list):
        see(
            Issue.INVALID_TOOL_CALL,
            f"{path}.tool_calls",
            f"is {kind(calls)}; it must be a list of calls",
        )
        return []
    if not calls:
        see(
            Issue.INVALID_TOOL_CALL,
            f"{path}.tool_calls",
            "is empty; drop the key or add the call",
        )
    elif len(calls) > 1 and not parallel:
        analysis.see(Issue.TOO_MANY_TOOL_CALLS, path, len(calls))
    ids: list[str] = []
    for index, call in enumerate(calls):
        where = f"{path}.tool_calls[{index}]"
        if not isinstance(call, dict):
            see(Issue.INVALID_TOOL_CALL, where, f"is {kind(call)}, not a call object")
            continue
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            see(
                Issue.INVALID_TOOL_CALL,
                where,
                "has no id; tool messages answer calls by id",
            )
        elif call_id in ids:
            see(Issue.INVALID_TOOL_CALL, where, f"repeats the id {call_id!r} of another call")
        else:
            ids.append(call_id)
        call_type = call.get("type")
        if call_type != "function":
            what = "no type" if call_type is None else f"type {quote_value(call_type)}"
            see(Issue.INVALID_TOOL_CALL, where, f'has {what}; it must be "function"')
        function = call.get("function")
        if isinstance(function, dict):
            function_call(analysis, function, f"{where}.function", declared)
        else:
            see(
                Issue.INVALID_TOOL_CALL,
                where,
                "has no `function` object with name and arguments",
            )
    return ids


def function_call(
    analysis: Analysis, function: object, where: str, declared: frozenset[str] | None
) -> str | None:
    """Check a call's name and arguments; return the name if it has one."""
    see = analysis.see
    if not isinstance(function, dict):
        see(
            Issue.INVALID_TOOL_CALL,
            where,
            f"is {kind(function)}; it must be an object with name and arguments",
        )
        return None
    name = function.get("name")
    if not isinstance(name, str) or not name:
        see(Issue.INVALID_TOOL_CALL, where, "has no name")
        name = None
    elif declared is None or name not in declared:
        # The detail: the name called, and the names declared (``None``: no tools).
        analysis.see(Issue.UNDECLARED_TOOL, where, (name, declared))
    if name is not None and name not in (declared or ()) and not _TOOL_NAME.fullmatch(name):
        analysis.see(Issue.INVALID_TOOL_NAME, f"{where}.name", name)
    arguments = function.get("arguments")
    if arguments is None:
        see(Issue.INVALID_TOOL_CALL, where, 'has no arguments; use "{}" for none')
    elif not isinstance(arguments, str):
        see(
            Issue.INVALID_TOOL_CALL,
            f"{where}.arguments",
            f"is {kind(arguments)}; it must be a string of JSON (serialise it with json.dumps)",
        )
    else:
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError as error:
            see(
                Issue.INVALID_TOOL_CALL,
                f"{where}.arguments",
                f"is not valid JSON ({error}): {quote_value(arguments)}",
            )
        else:
            if not isinstance(parsed, dict):
                see(
                    Issue.INVALID_TOOL_CALL,
                    f"{where}.arguments",
                    f"is {kind(parsed)} in JSON, not an object",
                )
    return name
