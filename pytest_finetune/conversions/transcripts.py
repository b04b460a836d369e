r"""Chosen/rejected transcripts: a whole conversation per answer, the prompt in both.

Three layouts share the two keys:

- Anthropic's hh-rlhf: each transcript is text of ``\n\nHuman: ...`` and
  ``\n\nAssistant: ...`` turns, the two alike up to the last assistant turn;
- TRL's implicit-prompt preference, conversational: two lists of messages;
- TRL's implicit-prompt preference, standard: two strings that start alike (the
  prompt) and end differently (the answers).

Reading any of them splits the shared prompt off into OpenAI preference data, as TRL
does: the longest common start, less what keeps each answer non-empty. LLaMA-Factory's
Alpaca preference records (``instruction``, ``input``, ``chosen``, ``rejected``) are
read too.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_finetune.conversions.base import Converted, Notes, Style, carry, holds, kind
from pytest_finetune.formats import Format

KEYS = frozenset({"chosen", "rejected", "tools"})
ALPACA_KEYS = frozenset({"instruction", "input", "system", "history", "chosen", "rejected"})
_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")
_ROLE = {"Human": "user", "Assistant": "assistant"}
_SPEAKER = {"user": "Human", "assistant": "Assistant"}


def to_openai(data: dict[str, Any]) -> Converted:
    """Chosen/rejected transcripts as OpenAI preference data, the prompt split off."""
    if "instruction" in data:
        return _alpaca(data)
    notes = Notes()
    chosen, rejected = data.get("chosen"), data.get("rejected")
    style = Style.DEFAULT
    if isinstance(chosen, list) and isinstance(rejected, list):
        style = Style.CONVERSATIONAL
        prompt, preferred, non_preferred = _split(chosen, rejected)
    elif isinstance(chosen, str) and isinstance(rejected, str):
        if _TURN.match(chosen) and _TURN.match(rejected):
            turns = [
                _parse(text, key, notes)
                for key, text in (("chosen", chosen), ("rejected", rejected))
            ]
            prompt, preferred, non_preferred = _split(turns[0], turns[1])
        else:
            style = Style.STANDARD
            prompt, preferred, non_preferred = _split_text(chosen, rejected, notes)
    else:
        notes.add(
            "chosen",
            f"the transcripts are {kind(chosen)} and {kind(rejected)}: expected two strings "
            "or two lists of messages",
        )
        prompt, preferred, non_preferred = [], [], []
    for key, output in (("chosen", preferred), ("rejected", non_preferred)):
        if any(not isinstance(m, dict) or m.get("role") != "assistant" for m in output):
            notes.add(
                key,
                "the two transcripts differ before their last assistant turn: a preference "
                "pair shares its prompt and differs in one answer",
            )
    source: dict[str, Any] = {"messages": prompt}
    if "tools" in data:
        source["tools"] = data["tools"]
    out = {"input": source, "preferred_output": preferred, "non_preferred_output": non_preferred}
    carry(data, KEYS, out, notes)
    return notes.done(out, Format.PREFERENCE, style)


def _parse(text: str, where: str, notes: Notes) -> list[dict[str, Any]]:
    """hh-rlhf text as messages: the text after each ``Human:`` or ``Assistant:`` marker."""
    pieces = _TURN.split(text)
    if pieces[0]:
        notes.add(where, "text before the first Human: or Assistant: turn")
    messages = []
    for index in range(1, len(pieces), 2):
        content = pieces[index + 1]
        messages.append(
            {
                "role": _ROLE[pieces[index]],
                "content": content[1:] if content[:1] == " " else content,
            }
        )
    return messages


def _split(chosen: list[Any], rejected: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """The common leading messages, and what follows in each (never nothing, if there is more)."""
    shared = 0
    for left, right in zip(chosen, rejected, strict=False):
        if left != right:
            break
        shared += 1
    shared = max(0, min(shared, len(chosen) - 1, len(rejected) - 1))
    return list(chosen[:shared]), list(chosen[shared:]), list(rejected[shared:])


def _split_text(chosen: str, rejected: str, notes: Notes) -> tuple[list[Any], list[Any], list[Any]]:
    """TRL's standard implicit prompt: the common start; a space before the answers is theirs."""
    shared = 0
    for left, right in zip(chosen, rejected, strict=False):
        if left != right:
            break
        shared += 1
    if shared == len(chosen) or shared == len(rejected):
        shared = min(len(chosen), len(rejected))
    if shared and chosen[shared - 1] == " ":
        shared -= 1
    if not shared:
        notes.add("chosen", "the two texts share no prompt: nothing says what they answer")
        return (
            [],
            [{"role": "assistant", "content": chosen}],
            [{"role": "assistant", "content": rejected}],
        )
    return (
        [{"role": "user", "content": chosen[:shared]}],
        [{"role": "assistant", "content": chosen[shared:]}],
        [{"role": "assistant", "content": rejected[shared:]}],
    )


def _alpaca(data: dict[str, Any]) -> Converted:
    """LLaMA-Factory's Alpaca preference record: the prompt as Alpaca's, two answers."""
    from pytest_finetune.conversions import alpaca  # noqa: PLC0415 (a sibling, on demand)

    prompt = alpaca.to_openai({**data, "output": ""})
    notes = Notes()
    notes.items += [item for item in prompt.unmappable if item.where != "output"]
    messages = prompt.data["messages"][:-1]
    out: dict[str, Any] = {"input": {"messages": messages}}
    for key, target in (("chosen", "preferred_output"), ("rejected", "non_preferred_output")):
        answer = data.get(key)
        if isinstance(answer, str):
            out[target] = [{"role": "assistant", "content": answer}]
        else:
            notes.add(key, f"the {key} answer is {kind(answer)}, not a string")
            out[target] = []
    carry(data, ALPACA_KEYS, out, notes)
    return notes.done(out, Format.PREFERENCE)


# -- writing --------------------------------------------------------------------------


def from_openai(data: dict[str, Any], style: Style) -> Converted:
    """OpenAI preference data as two transcripts, each the prompt and one answer."""
    notes = Notes()
    source = data.get("input")
    if not isinstance(source, dict):
        notes.add("input", f"the input is {kind(source)}, not an object with messages")
        source = {}
    prompt = source.get("messages")
    if not isinstance(prompt, list):
        notes.add("input.messages", f"the messages are {kind(prompt)}, not a list")
        prompt = []
    out: dict[str, Any] = {}
    for key, target in (("preferred_output", "chosen"), ("non_preferred_output", "rejected")):
        output = data.get(key)
        if not isinstance(output, list):
            notes.add(key, f"the answer is {kind(output)}, not a list of messages")
            output = []
        if style is Style.CONVERSATIONAL:
            out[target] = [*prompt, *output]
        elif style is Style.STANDARD:
            out[target] = _plain(prompt, output, key, notes)
        else:
            out[target] = _render([*prompt, *output], key, len(prompt), notes)
    for key in source:
        kept = key == "messages" or (key == "tools" and style is Style.CONVERSATIONAL)
        if not kept and holds(source, key):
            notes.add(f"input.{key}", f"transcripts have no {key}")
    if style is Style.CONVERSATIONAL and "tools" in source:
        out["tools"] = source["tools"]
    carry(data, frozenset({"input", "preferred_output", "non_preferred_output"}), out, notes)
    return notes.done(out, Format.TRANSCRIPTS, style)


def _render(messages: list[Any], key: str, prompt: int, notes: Notes) -> str:
    parts = []
    for index, message in enumerate(messages):
        where = f"input.messages[{index}]" if index < prompt else f"{key}[{index - prompt}]"
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in _SPEAKER or not isinstance(content, str):
            notes.add(where, "hh-rlhf transcripts hold Human and Assistant turns of text only")
            continue
        if not message.keys() <= {"role", "content"}:
            notes.add(where, "keys beside role and content: transcripts have no place for them")
        parts.append(f"\n\n{_SPEAKER[role]}:" + (f" {content}" if content else ""))
    return "".join(parts)


def _plain(prompt: list[Any], output: list[Any], key: str, notes: Notes) -> str:
    """TRL's standard implicit preference: the prompt's text followed by the answer's."""
    texts = []
    for where, messages, role in (("input.messages", prompt, "user"), (key, output, "assistant")):
        if (
            len(messages) == 1
            and isinstance(messages[0], dict)
            and messages[0].get("role") == role
            and isinstance(messages[0].get("content"), str)
        ):
            texts.append(messages[0]["content"])
        else:
            notes.add(where, f"standard (plain text) preference needs one {role} message of text")
    return "".join(texts)
