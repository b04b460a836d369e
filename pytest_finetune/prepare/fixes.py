r"""The fixes prepare makes, each a small named unit tied to the checks it satisfies.

A fix declares its ``name`` (what ``--fix`` and ``--no-fix`` take), the check ``codes``
whose findings it removes, whether it is ``safe`` (applied by default) or only applied
when named, and the formats it applies to. Fixes run in the order of :data:`FIXES`:
keys first, then texts, then the examples dropped, duplicates last (a text fix can make
two examples equal).

Fixes read the dataset's conventions (separator, stop sequence, task) from
:mod:`pytest_finetune.conventions`, the module the checks read them from, so a
prepared file gives the checks nothing to report that a fix could have repaired.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from pytest_finetune import conventions
from pytest_finetune.checks import REGISTRY
from pytest_finetune.checks.prompt_completion import FALLBACK_SEPARATOR, FALLBACK_STOP, KEYS
from pytest_finetune.conventions import Conventions, Task
from pytest_finetune.findings import plural
from pytest_finetune.fingerprints import fingerprint
from pytest_finetune.formats import SUPPORTED, Format, Record, detect
from pytest_finetune.prepare.read import Example, Source, SourceKind
from pytest_finetune.reader import Problem

if TYPE_CHECKING:
    from pytest_finetune.config import FileSettings

#: Examples shown per fix in ``--dry-run``.
SAMPLES = 3
#: Records conventions are learned from, as the scan's head.
HEAD = 1000
_PC = frozenset({Format.PROMPT_COMPLETION})
_PREFERENCE = frozenset({Format.PREFERENCE})
_NOT_UPPER = bytes(b for b in range(256) if not 65 <= b <= 90)
_NOT_LOWER = bytes(b for b in range(256) if not 97 <= b <= 122)
_WORD_END = re.compile(r"\w+$")


def short(text: str, limit: int = 50) -> str:
    r"""``text`` as a Python literal (``'\n'`` visible), its start kept if it is long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def tail(text: str, limit: int = 50) -> str:
    """``text`` as a Python literal, its end kept if it is long (where suffixes change)."""
    return repr(text) if len(text) <= limit else "..." + repr(text[-limit:])


@dataclass
class Sample:
    """One example a fix changed: its line, and what it was and became (``None``: dropped)."""

    line: int
    before: str
    after: str | None


@dataclass
class Change:
    """What one fix did to the data."""

    fix: type[Fix]
    #: How many examples it changed or dropped (or lines it repaired).
    count: int = 0
    #: One sentence, set by the fix: ``Added the separator ' ->' to 12 prompts``.
    what: str = ""
    samples: list[Sample] = field(default_factory=list)
    #: Why a fix that was asked for did nothing.
    note: str = ""

    def touched(self, line: int, before: str, after: str | None) -> None:
        """Count one example changed (``after=None``: dropped), keeping the first few."""
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(Sample(line, before, after))


@dataclass
class FixContext:
    """What fixes of one file share: its format, source and settings."""

    format: Format
    source: Source
    settings: FileSettings

    def conventions(self, examples: list[Example]) -> Conventions:
        """The conventions of the data as it is now, learned as the checks learn them."""
        head = [Record(e.line, b"", e.data, detect(e.data)) for e in examples[:HEAD]]
        return conventions.infer(head, self.settings.config)

    def option(self, code: str, name: str) -> Any:
        """A check's option as configured for this file (its default if not selected)."""
        options = self.settings.options.get(code)
        if options is None:
            options = REGISTRY[code].Options()
        return getattr(options, name)


class Fix:
    """One repair: its declaration (class attributes) and how it is made (``apply``)."""

    name: ClassVar[str]
    codes: ClassVar[tuple[str, ...]]
    #: Safe fixes run by default; the others only when named with ``--fix``.
    safe: ClassVar[bool] = True
    #: Fixes that writing JSON Lines makes anyway: they cannot be turned off.
    always: ClassVar[bool] = False
    formats: ClassVar[frozenset[Format] | None] = SUPPORTED

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        return (cls.__doc__ or "").strip().partition("\n")[0]

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        """The examples after the fix, recording what changed in ``change``."""
        raise NotImplementedError


def _texts(data: dict[str, Any]) -> tuple[str, str] | None:
    prompt, completion = data.get("prompt"), data.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return prompt, completion
    return None


def _blank(text: str) -> bool:
    return not text or text.isspace()


def _of(examples: list[Example], formats: frozenset[Format]) -> Iterator[Example]:
    return (example for example in examples if detect(example.data) in formats)


# -- what writing JSON Lines repairs ---------------------------------------------------


class _Repaired(Fix):
    """A problem of the file's syntax that writing JSON Lines repairs."""

    always = True
    formats = None
    problem: ClassVar[Problem]
    #: What the fix does, with ``{}`` for the count of lines (``noun``, pluralised).
    doing: ClassVar[str]
    noun: ClassVar[str] = "line"
    #: What was wrong with a line, for the samples.
    was: ClassVar[str]

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        lines = context.source.repaired.get(self.problem, [])
        for line in lines:
            change.touched(line, self.was, "")
        if lines:
            change.what = self.doing.format(plural(len(lines), self.noun))
        return examples


class ConvertToJsonLines(Fix):
    """Convert a JSON array, pretty-printed JSON, CSV or TSV file to JSON Lines."""

    name = "convert-to-jsonl"
    codes = ("FT006",)
    always = True
    formats = None

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        kind = context.source.kind
        if kind is not SourceKind.JSONL:
            change.count = len(examples)
            what = "items" if kind is SourceKind.JSON else "rows"
            change.what = f"Convert {plural(len(examples), what[:-1])} of {kind} to JSON Lines"
        return examples


class RemoveByteOrderMark(_Repaired):
    """Remove the UTF-8 byte order mark at the start of the file."""

    name = "remove-bom"
    codes = ("FT009",)
    problem = Problem.BOM
    doing = "Remove the byte order mark"
    was = "starts with a byte order mark"


class CrlfToLf(_Repaired):
    """End lines with LF instead of CRLF."""

    name = "crlf-to-lf"
    codes = ("FT008",)
    problem = Problem.CRLF
    doing = "End {} with LF instead of CRLF"
    was = "ends with CRLF"


class DropBlankLines(_Repaired):
    """Drop blank lines between and after examples."""

    name = "drop-blank-lines"
    codes = ("FT007",)
    problem = Problem.BLANK_LINE
    doing = "Drop {}"
    noun = "blank line"
    was = "blank"


class FinalNewline(_Repaired):
    """End the file with a newline."""

    name = "final-newline"
    codes = ("FT012",)
    problem = Problem.MISSING_FINAL_NEWLINE
    doing = "End the last line with a newline"
    was = "has no newline at its end"


# -- keys ----------------------------------------------------------------------------


class RenameKeys(Fix):
    """Rename keys such as ``Prompt`` or ``"completion "`` to ``prompt`` and ``completion``."""

    name = "rename-keys"
    codes = ("FT101",)
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        renamed: dict[str, str] = {}
        for example in _of(examples, _PC):
            data = example.data
            if all(key in data for key in KEYS):
                continue
            names: dict[str, str] = {}
            for key in data:
                wanted = key.strip().lower()
                if (
                    key not in KEYS
                    and wanted in KEYS
                    and wanted not in data
                    and wanted not in names.values()
                ):
                    names[key] = wanted
            if names:
                example.data = {names.get(key, key): value for key, value in data.items()}
                renamed.update(names)
                change.touched(
                    example.line,
                    ", ".join(map(repr, names)),
                    ", ".join(map(repr, names.values())),
                )
        if renamed:
            pairs = ", ".join(f"{old!r} to {new!r}" for old, new in renamed.items())
            change.what = f"Rename {pairs} in {plural(change.count, 'example')}"
        return examples


class RenameLegacyPreferenceKeys(Fix):
    """Rename ``preferred_completion``/``non_preferred_completion`` to ``*_output``."""

    name = "rename-preference-keys"
    codes = ("FT305",)
    formats = _PREFERENCE
    _NAMES: ClassVar[dict[str, str]] = {
        "preferred_completion": "preferred_output",
        "non_preferred_completion": "non_preferred_output",
    }

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        for example in _of(examples, _PREFERENCE):
            data = example.data
            names = {old: new for old, new in self._NAMES.items() if old in data}
            # Both names in one pair: which value is right is not ours to decide.
            if names and not any(new in data for new in names.values()):
                example.data = {names.get(key, key): value for key, value in data.items()}
                change.touched(example.line, ", ".join(names), ", ".join(names.values()))
        if change.count:
            change.what = (
                "Rename preferred_completion/non_preferred_completion to "
                f"preferred_output/non_preferred_output in {plural(change.count, 'pair')}"
            )
        return examples


class StripExtraKeys(Fix):
    """Drop keys other than ``prompt`` and ``completion`` (the input file keeps them)."""

    name = "strip-extra-keys"
    codes = ("FT103",)
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        dropped: dict[str, None] = {}
        for example in _of(examples, _PC):
            data = example.data
            # Without both keys an extra key may be the misspelled one: keep it.
            if len(data) > 2 and all(key in data for key in KEYS):
                extra = [key for key in data if key not in KEYS]
                example.data = {key: data[key] for key in KEYS}
                dropped.update(dict.fromkeys(extra))
                change.touched(example.line, ", ".join(map(repr, extra)), "(removed)")
        if dropped:
            names = ", ".join(map(repr, list(dropped)[:5])) + (", ..." if len(dropped) > 5 else "")
            change.what = f"Drop the keys {names} from {plural(change.count, 'example')}"
        return examples


# -- dropping examples -----------------------------------------------------------------


class DropEmpty(Fix):
    """Drop examples whose completion, or prompt (unless every prompt is), is empty."""

    name = "drop-empty"
    codes = ("FT105", "FT106")
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        open_ended = context.conventions(examples).task is Task.OPEN_ENDED
        kept = []
        for example in examples:
            data = example.data
            prompt, completion = data.get("prompt"), data.get("completion")
            empty = detect(data) is Format.PROMPT_COMPLETION and (
                (isinstance(completion, str) and _blank(completion))
                or (isinstance(prompt, str) and _blank(prompt) and not open_ended)
            )
            if empty:
                change.touched(example.line, _json(data), None)
            else:
                kept.append(example)
        if change.count:
            change.what = (
                f"Drop {plural(change.count, 'example')} with an empty prompt or completion"
            )
        return kept


class DropDuplicates(Fix):
    """Drop exact duplicates of an earlier example (the first occurrence stays)."""

    name = "drop-duplicates"
    codes = ("FT401",)

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        first: dict[int, list[tuple[bytes, int]]] = {}
        kept = []
        for example in examples:
            key = _canonical(_identity(example.data))
            earlier = first.setdefault(fingerprint(key), [])
            # Equal fingerprints are compared whole: an unlucky hash drops nothing.
            original = next((line for seen, line in earlier if seen == key), None)
            if original is None:
                earlier.append((key, example.line))
                kept.append(example)
            else:
                change.touched(example.line, f"same as line {original}", None)
        if change.count:
            change.what = f"Drop {plural(change.count, 'exact duplicate')} of earlier examples"
        return kept


def _identity(data: dict[str, Any]) -> object:
    """What makes two examples the same for the duplicate check (FT401): what trains."""
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION and _texts(data):
        return [data["prompt"], data["completion"]]
    if fmt is Format.CHAT and isinstance(data.get("messages"), list):
        messages = data["messages"]
        last = _last_assistant(messages)
        if last is not None:
            return [messages[: last + 1], data.get("tools") or None]
    if fmt is Format.PREFERENCE and "preferred_output" in data:
        return [data.get("input"), data["preferred_output"], data.get("non_preferred_output")]
    return data


def _input(data: dict[str, Any]) -> object:
    """What the model is given, for the conflicting-labels check (FT402); ``None``: unknown."""
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION:
        texts = _texts(data)
        return texts[0] if texts else None
    if fmt is Format.CHAT and isinstance(data.get("messages"), list):
        messages = data["messages"]
        last = _last_assistant(messages)
        return None if last is None else [messages[:last], data.get("tools") or None]
    if fmt is Format.PREFERENCE and "preferred_output" in data:
        outputs = sorted(
            (_canonical(data["preferred_output"]), _canonical(data.get("non_preferred_output")))
        )
        return [data.get("input"), [output.decode() for output in outputs]]
    return None


def _target(data: dict[str, Any]) -> object:
    fmt = detect(data)
    if fmt is Format.PROMPT_COMPLETION:
        return data.get("completion")
    if fmt is Format.CHAT:
        messages = data["messages"]
        return messages[_last_assistant(messages) or 0]
    return data.get("preferred_output")


def _last_assistant(messages: list[Any]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "assistant":
            return index
    return None


def _canonical(value: object) -> bytes:
    """JSON of ``value`` with sorted keys: equal for equal JSON, whatever the key order."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, a huge integer
        return json.dumps(value, sort_keys=True).encode()


def _json(data: dict[str, Any]) -> str:
    return short(_canonical(data).decode("utf-8", "replace"), 70)


class DropConflicting(Fix):
    """Drop every example whose input also comes with another target (opt-in)."""

    name = "drop-conflicting"
    codes = ("FT402",)
    safe = False

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        targets: dict[bytes, set[bytes]] = {}
        keys: list[bytes | None] = []
        for example in examples:
            source = _input(example.data)
            key = None if source is None else _canonical(source)
            keys.append(key)
            if key is not None:
                targets.setdefault(key, set()).add(_canonical(_target(example.data)))
        kept = []
        for example, key in zip(examples, keys, strict=True):
            if key is not None and len(targets[key]) > 1:
                change.touched(example.line, _json(example.data), None)
            else:
                kept.append(example)
        if change.count:
            change.what = (
                f"Drop {plural(change.count, 'example')} whose input has more than one target"
            )
        return kept


# -- texts of prompt/completion data ---------------------------------------------------


class StripPromptWhitespace(Fix):
    """Remove whitespace at the start of prompts, where most prompts have none."""

    name = "strip-prompt-whitespace"
    codes = ("FT113",)
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        prompts = [texts[0] for texts in map(_texts, (e.data for e in examples[:HEAD])) if texts]
        # The check's rule: only where most prompts start without whitespace.
        if not prompts or sum(p[:1].isspace() for p in prompts) * 2 >= len(prompts):
            return examples
        separator = context.conventions(examples).separator.text
        for example in _of(examples, _PC):
            prompt = example.data.get("prompt")
            if not isinstance(prompt, str) or not prompt[:1].isspace():
                continue
            if separator and prompt.endswith(separator) and _blank(prompt[: -len(separator)]):
                continue  # nothing but the separator: stripping would break it
            example.data["prompt"] = prompt.lstrip()
            change.touched(example.line, short(prompt), short(prompt.lstrip()))
        if change.count:
            change.what = f"Remove the whitespace at the start of {plural(change.count, 'prompt')}"
        return examples


class AddSeparator(Fix):
    r"""End every prompt with the separator: the dataset's own, or one that occurs nowhere."""

    name = "add-separator"
    codes = ("FT110", "FT111")
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        if conv.task is Task.OPEN_ENDED:
            return examples
        pairs = [texts for texts in (_texts(e.data) for e in examples) if texts]
        separator = conv.separator.text
        added = "the separator"
        if not separator:
            separator = _unseen_separator(pairs) or ""
            added = "the new separator"
            if not separator:
                change.note = (
                    "Every candidate separator occurs in the data; declare one with "
                    "`separator = ...` in the configuration"
                )
                return examples
        for example in _of(examples, _PC):
            prompt = example.data.get("prompt")
            if not isinstance(prompt, str) or _blank(prompt) or prompt.endswith(separator):
                continue
            fixed = _end_with(prompt, separator)
            example.data["prompt"] = fixed
            change.touched(example.line, tail(prompt), tail(fixed))
        if change.count:
            change.what = f"Add {added} {separator!r} to {plural(change.count, 'prompt')}"
        return examples


def _unseen_separator(pairs: list[tuple[str, str]]) -> str | None:
    """The first legacy separator in no prompt and no completion (`` ->`` not for multi-line)."""
    candidates = [*conventions.SEPARATOR_CANDIDATES, FALLBACK_SEPARATOR]
    if any("\n" in prompt for prompt, _ in pairs):
        candidates.remove(" ->")
    return conventions.suggest(candidates, (text for pair in pairs for text in pair))


def _end_with(text: str, suffix: str) -> str:
    """``text`` ending with ``suffix``: whitespace that stands in its way goes first.

    ``'Where is it? -> '`` ends with `` ->`` followed by a space: the space goes, not a
    second separator added. A suffix that starts with whitespace replaces the text's own.
    """
    stripped = text.rstrip()
    core = suffix.rstrip()
    if core and stripped.endswith(core):
        return stripped[: len(stripped) - len(core)] + suffix
    if suffix[:1].isspace():
        return stripped + suffix
    return text + suffix


class AddLeadingSpace(Fix):
    """Start every completion with one space (except completions starting with a digit)."""

    name = "add-leading-space"
    codes = ("FT120",)
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        for example in _of(examples, _PC):
            completion = example.data.get("completion")
            if not isinstance(completion, str) or _blank(completion):
                continue
            body = completion.lstrip()
            leading = completion[: len(completion) - len(body)]
            # As the check: one space is right whatever follows; a digit needs none.
            if leading == " " or (not leading and body[0].isdigit()):
                continue
            fixed = " " + body
            example.data["completion"] = fixed
            change.touched(example.line, short(completion), short(fixed))
        if change.count:
            change.what = f"Start {plural(change.count, 'completion')} with exactly one space"
        return examples


class AddStop(Fix):
    r"""End every completion with the stop sequence: the dataset's own, or one that occurs nowhere.

    Classification data needs none; one that most of its completions have is added to
    the others.
    """

    name = "add-stop"
    codes = ("FT130", "FT131")
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        stop = conv.stop.text
        added = "the stop sequence"
        if not stop:
            if conv.task is not Task.GENERATION:
                return examples
            completions = [texts[1] for texts in (_texts(e.data) for e in examples) if texts]
            candidates = [*conventions.STOP_CANDIDATES, FALLBACK_STOP]
            stop = conventions.suggest(candidates, completions) or ""
            added = "the new stop sequence"
            if not stop:
                change.note = (
                    "Every candidate stop sequence occurs in the completions; declare one "
                    "with `stop = ...` in the configuration"
                )
                return examples
        for example in _of(examples, _PC):
            completion = example.data.get("completion")
            if not isinstance(completion, str) or _blank(completion) or completion.endswith(stop):
                continue
            fixed = _end_with(completion, stop)
            example.data["completion"] = fixed
            change.touched(example.line, tail(completion), tail(fixed))
        if change.count:
            change.what = f"Add {added} {stop!r} to {plural(change.count, 'completion')}"
        return examples


# -- opt-in changes to texts -----------------------------------------------------------


class StripPromptPrefix(Fix):
    """Remove the long prefix every prompt starts with (opt-in: it may carry meaning)."""

    name = "strip-prompt-prefix"
    codes = ("FT150",)
    safe = False
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        longest = context.option("FT150", "max_length")
        return _strip_prefix(examples, "prompt", longest + 1, "", change)


class StripCompletionPrefix(Fix):
    """Remove the prefix every completion starts with, keeping the leading space (opt-in)."""

    name = "strip-completion-prefix"
    codes = ("FT151",)
    safe = False
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        shortest = context.option("FT151", "min_length")
        return _strip_prefix(examples, "completion", shortest, " ", change)


def _strip_prefix(
    examples: list[Example], key: str, shortest: int, keep: str, change: Change
) -> list[Example]:
    texts = [t for t in (e.data.get(key) for e in _of(examples, _PC)) if isinstance(t, str) and t]
    if len(set(texts)) < 2:
        return examples
    prefix = _common_prefix(texts)
    if len(prefix) < shortest:
        return examples
    # A prefix that ends inside a word ("Classify: pos" of "positive", "posture") stops
    # before that word.
    if any(text[len(prefix) : len(prefix) + 1].isalnum() for text in texts):
        prefix = _WORD_END.sub("", prefix)
    cut = prefix if not keep else prefix[len(keep) :] if prefix.startswith(keep) else None
    if len(prefix) < shortest or cut is None:
        change.note = f"The common {key} prefix ends inside a word; nothing was removed"
        return examples
    if any(_blank(text[len(prefix) :]) for text in texts):
        change.note = f"Some {key}s are nothing but the prefix {short(prefix)}; nothing was removed"
        return examples
    for example in _of(examples, _PC):
        text = example.data.get(key)
        if not isinstance(text, str) or not text:
            continue
        fixed = (keep if text.startswith(keep) else "") + text[len(prefix) :].lstrip()
        example.data[key] = fixed
        change.touched(example.line, short(text), short(fixed))
    change.what = f"Remove the prefix {short(prefix)} from {plural(change.count, key)}"
    return examples


def _common_prefix(texts: Iterable[str]) -> str:
    items = list(texts)
    low, high = min(items), max(items)  # the common prefix of all is that of these two
    length = 0
    for a, b in zip(low, high, strict=False):
        if a != b:
            break
        length += 1
    return low[:length]


class Lowercase(Fix):
    """Lowercase the prompts or completions that are mostly uppercase (opt-in).

    Only a column over the ``max-share`` of the mostly-uppercase check (FT140) is
    lowercased; the separator and stop sequence stay as they are.
    """

    name = "lowercase"
    codes = ("FT140",)
    safe = False
    formats = _PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        conv = context.conventions(examples)
        most = context.option("FT140", "max_share")
        ends = {"prompt": conv.separator.text, "completion": conv.stop.text}
        lowered = []
        for key in KEYS:
            texts = [t for t in (e.data.get(key) for e in _of(examples, _PC)) if isinstance(t, str)]
            if _upper_share(texts) <= most:
                continue
            lowered.append(key)
            end = ends[key]
            for example in _of(examples, _PC):
                text = example.data.get(key)
                if not isinstance(text, str):
                    continue
                body, suffix = (
                    (text[: -len(end)], end) if end and text.endswith(end) else (text, "")
                )
                fixed = body.lower() + suffix
                if fixed != text:
                    example.data[key] = fixed
                    change.touched(example.line, short(text), short(fixed))
        if change.count:
            change.what = (
                f"Lowercase the {' and '.join(f'{key}s' for key in lowered)} "
                f"({plural(change.count, 'text')} changed)"
            )
        elif not lowered:
            change.note = f"No column is more than {most:.0%} uppercase; nothing was lowercased"
        return examples


def _upper_share(texts: list[str]) -> float:
    data = "".join(texts).encode("utf-8", "surrogatepass")
    upper = len(data.translate(None, _NOT_UPPER))
    letters = upper + len(data.translate(None, _NOT_LOWER))
    return upper / letters if letters else 0.0


#: Every fix, in the order they run.
FIXES: tuple[type[Fix], ...] = (
    ConvertToJsonLines,
    RemoveByteOrderMark,
    CrlfToLf,
    DropBlankLines,
    FinalNewline,
    RenameKeys,
    RenameLegacyPreferenceKeys,
    StripExtraKeys,
    DropEmpty,
    StripPromptWhitespace,
    StripPromptPrefix,
    StripCompletionPrefix,
    AddSeparator,
    AddLeadingSpace,
    AddStop,
    Lowercase,
    DropConflicting,
    DropDuplicates,
)
BY_NAME: dict[str, type[Fix]] = {fix.name: fix for fix in FIXES}


def run(
    examples: list[Example], fixes: Iterable[type[Fix]], context: FixContext
) -> tuple[list[Example], list[Change]]:
    """Apply ``fixes`` in the order of :data:`FIXES`; the examples and every change made."""
    wanted = set(fixes)
    changes = []
    for fix in FIXES:
        if fix not in wanted or not _applies(fix, context.format):
            continue
        change = Change(fix)
        examples = fix().apply(examples, context, change)
        changes.append(change)
    return examples, changes


def _applies(fix: type[Fix], fmt: Format) -> bool:
    return fix.formats is None or fmt in fix.formats
