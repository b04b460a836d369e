"""Alpaca (``instruction``/``input``/``output``, optional ``system`` and ``history``) and chat.

As LLaMA-Factory reads it (its data/README.md): the user turn is the instruction,
followed by a newline and the input when there is one; ``output`` is the assistant's
answer; ``system`` is the system prompt; ``history`` is a list of earlier
``[prompt, response]`` pairs, whose responses are trained on too. Chat keeps the
user turn whole, so converting back gives the instruction with the input appended
(the same training text); records with an empty input come back exactly.
"""

from __future__ import annotations

from typing import Any

from pytest_finetune.chat_schema.roles import CHAT_KEYS
from pytest_finetune.conversions.base import Converted, Notes, carry, holds, kind, messages_of
from pytest_finetune.formats import Format

KEYS = frozenset({"instruction", "input", "output", "system", "history"})


def to_openai(data: dict[str, Any]) -> Converted:
    """An Alpaca record as chat messages."""
    notes = Notes()
    messages: list[dict[str, Any]] = []
    system = data.get("system")
    if isinstance(system, str):
        if system:
            messages.append({"role": "system", "content": system})
    elif system is not None:
        notes.add("system", f"the system prompt is {kind(system)}, not a string")
    history = data.get("history")
    if isinstance(history, list):
        for index, pair in enumerate(history):
            if (
                isinstance(pair, list)
                and len(pair) == 2
                and isinstance(pair[0], str)
                and isinstance(pair[1], str)
            ):
                messages.append({"role": "user", "content": pair[0]})
                messages.append({"role": "assistant", "content": pair[1]})
            else:
                notes.add(f"history[{index}]", "not a [prompt, response] pair of strings")
    elif history is not None:
        notes.add("history", f"the history is {kind(history)}, not a list of pairs")
    instruction, query = data.get("instruction"), data.get("input")
    prompt = instruction if isinstance(instruction, str) else None
    if prompt is None:
        notes.add("instruction", f"the instruction is {kind(instruction)}, not a string")
    if isinstance(query, str):
        if query:
            prompt = query if prompt is None else f"{prompt}\n{query}"
    elif query is not None:
        notes.add("input", f"the input is {kind(query)}, not a string")
    if prompt is not None:
        messages.append({"role": "user", "content": prompt})
    output = data.get("output")
    if isinstance(output, str):
        messages.append({"role": "assistant", "content": output})
    else:
        notes.add("output", f"the output is {kind(output)}, not a string")
    out: dict[str, Any] = {"messages": messages}
    carry(data, KEYS, out, notes)
    return notes.done(out, Format.CHAT)


def from_openai(data: dict[str, Any]) -> Converted:
    """Chat data as an Alpaca record: the last exchange, earlier ones as history."""
    notes = Notes()
    messages = messages_of(data, notes)
    out: dict[str, Any] = {}
    start = 0
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        content = messages[0].get("content")
        if isinstance(content, str):
            out["system"] = content
        else:
            notes.add("messages[0].content", "Alpaca's system prompt is a string")
        start = 1
    pairs: list[list[str]] = []
    index = start
    while index < len(messages):
        user, answer = messages[index], messages[index + 1] if index + 1 < len(messages) else None
        texts = [_text(user, "user"), _text(answer, "assistant")]
        if texts[0] is None or texts[1] is None:
            bad = index if texts[0] is None else index + 1
            notes.add(
                f"messages[{bad}]",
                "Alpaca holds alternating user and assistant turns of text, starting with "
                "the user; this message does not fit",
            )
            index += 1 if texts[0] is None else 2
            continue
        pairs.append([texts[0], texts[1]])
        index += 2
    if pairs:
        instruction, output = pairs[-1]
        out.update({"instruction": instruction, "input": "", "output": output})
        if len(pairs) > 1:
            out["history"] = pairs[:-1]
    for key in ("tools", "functions", "parallel_tool_calls"):
        if holds(data, key):
            notes.add(key, "Alpaca has no tool definitions")
    carry(data, CHAT_KEYS, out, notes)
    return notes.done(out, Format.ALPACA)


def _text(message: object, role: str) -> str | None:
    if not isinstance(message, dict) or message.get("role") != role:
        return None
    if not message.keys() <= {"role", "content"}:
        return None
    content = message.get("content")
    return content if isinstance(content, str) else None
