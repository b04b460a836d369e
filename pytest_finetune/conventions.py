r"""A dataset's conventions, learned from its first records: separator, stop, task, labels.

Prompt/completion data carries its structure in text: a separator ends every prompt
(`` ->``) so that the model knows where to start, a stop sequence ends every completion
(``\n``, `` END``) so that it knows where to stop. The legacy ``prepare_data`` tool took
the suffix common to *all* prompts; one prompt without it and there was none. Here the
separator is the *dominant* suffix, so that the prompts lacking it can be reported by
line; it is cut back to a boundary that is not inside a word (``.0h###`` -> ``###``).

The checks (FT1xx, FT5xx), ``prepare`` and the training backends all read conventions
from here, so they agree on what the separator, the stop and the labels are; the checks
of a file share its conventions through :mod:`pytest_finetune.file_conventions`.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_finetune.config_keys import ConfigError, Key, add_key, string
from pytest_finetune.formats import Format, Record, example

#: Separators the legacy tool suggested, in its order of preference.
SEPARATOR_CANDIDATES = (
    " ->",
    "\n\n###\n\n",
    "\n\n===\n\n",
    "\n\n---\n\n",
    "\n\n===>\n\n",
    "\n\n--->\n\n",
)
#: Stop sequences the legacy tool suggested.
STOP_CANDIDATES = ("\n", ".", " END", "***", "+++", "&&&", "$$$", "@@@", "%%%")
#: What data without a separator or a stop sequence is offered, in order: the
#: candidates, then the legacy tool's fallback for data in which every one occurs.
SEPARATOR_SUGGESTIONS = (*SEPARATOR_CANDIDATES, "\n\n### =>\n\n")
STOP_SUGGESTIONS = (*STOP_CANDIDATES, " [END]")
#: Markers people use; a dominant suffix that ends with one is cut back to it
#: (``? ->`` -> `` ->``, ``.0h###`` -> ``###``): what precedes it is content.
KNOWN_SEPARATORS = (*SEPARATOR_CANDIDATES, "->", "=>", "###", "\n\n", "\n")
KNOWN_STOPS = (*STOP_CANDIDATES, "END", "###", "<|endoftext|>")
#: Records a dataset's conventions are learned from: its first ones (the scan's head).
HEAD_RECORDS = 1000
#: Legacy rule: fewer distinct completions than rows / 3 means classification.
CLASSIFICATION_RATIO = 3
#: Distinct labels counted at most; more means the data is not classification after all.
MAX_CLASSES = 1000
#: A suffix is the dataset's convention if at least this share of texts end with it.
MIN_SHARE = 0.5
#: Extending a suffix by one character must keep this share of the texts that had it;
#: a bigger drop means the extension is content (``? ->`` in some prompts), not
#: convention (`` ->`` in all).
KEEP_SHARE = 0.9
_LONGEST = 32
_LEADING_WORD = re.compile(r"^\w+")
#: Endings that are punctuation of the text itself, not a separator after it.
_NATURAL_ENDING = re.compile(r"[\s.?!\"')\]]*")


class Task(str, enum.Enum):
    """What the dataset trains, as the legacy tool named it."""

    CLASSIFICATION = "classification"
    GENERATION = "conditional_generation"
    OPEN_ENDED = "open_ended_generation"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Suffix:
    """A convention found at the end of texts: the suffix and the share that has it."""

    text: str
    share: float

    def __bool__(self) -> bool:
        return bool(self.text)


NO_SUFFIX = Suffix("", 0.0)


@dataclass(frozen=True)
class Conventions:
    """What the first records of a dataset say about all of it."""

    separator: Suffix
    stop: Suffix
    task: Task
    #: Whether the separator, stop and task were declared in configuration.
    declared: frozenset[str] = frozenset()

    @property
    def classification(self) -> bool:
        """Whether the dataset is a classification task."""
        return self.task is Task.CLASSIFICATION

    def label(self, completion: str) -> str:
        """The class label of a completion: the completion without its stop sequence."""
        return _without(completion, self.stop.text)


def label_of(record: Record, conv: Conventions) -> str | None:
    """The class label of a record: its completion without the stop, or the last reply."""
    if record.format is Format.PROMPT_COMPLETION:
        completion = record.data.get("completion")
        return conv.label(completion) if isinstance(completion, str) else None
    if record.format is Format.CHAT:
        messages = record.data.get("messages")
        if isinstance(messages, list):
            for message in reversed(messages):
                if isinstance(message, dict) and message.get("role") == "assistant":
                    content = message.get("content")
                    return content if isinstance(content, str) else None
    return None


def dominant_suffix(texts: Sequence[str], known: Sequence[str], *, natural: bool) -> Suffix:
    """The suffix most texts end with, cut back to a known marker or a word boundary.

    ``known`` are the usual markers, longest match wins; ``natural`` says whether
    sentence punctuation alone (``?``, ``.``) may be the convention: it may for stop
    sequences (the legacy tool suggested ``.``), not for separators.
    """
    texts = [text for text in texts if text]
    if not texts:
        return NO_SUFFIX
    suffix, holders = "", 0  # the first character needs only a majority
    for length in range(1, _LONGEST + 1):
        # A separator or stop follows content: a suffix that is all there is of a text
        # (the label " billing" of most examples) is the text, not a convention.
        counts = Counter(text[-length:] for text in texts if text[:-length].strip())
        if not counts:
            break
        candidate, count = counts.most_common(1)[0]
        if not candidate.endswith(suffix) or count < max(
            KEEP_SHARE * holders, MIN_SHARE * len(texts)
        ):
            break
        suffix, holders = candidate, count
    markers = [marker for marker in known if suffix.endswith(marker)]
    if markers:
        suffix = max(markers, key=len)
    elif _starts_inside_word(suffix, texts):
        # "tive" of "positive"/"negative" is no convention; "xEND" would be "END".
        suffix = _LEADING_WORD.sub("", suffix)
    if not suffix:
        return NO_SUFFIX
    punctuation = _NATURAL_ENDING.fullmatch(suffix) is not None
    if punctuation and not natural:
        return NO_SUFFIX
    # A known marker inside a text is a finding about that text; punctuation or an
    # ending nobody uses as a marker, inside most texts, is their content.
    if (punctuation or not markers) and _mostly_inside(suffix, texts):
        return NO_SUFFIX
    share = sum(text.endswith(suffix) for text in texts) / len(texts)
    return Suffix(suffix, share)


def _mostly_inside(suffix: str, texts: Iterable[str]) -> bool:
    """Whether most texts ending with ``suffix`` also hold it earlier.

    A stop sequence ends a completion and occurs nowhere else in it (generation would
    stop there); punctuation that also ends most sentences inside the texts (``.``, a
    newline between paragraphs), or the end of a text that repeats itself, is the
    texts' own, not a stop sequence.
    """
    holders = [text for text in texts if text.endswith(suffix)]
    inside = sum(suffix in text[: -len(suffix)] for text in holders)
    return inside * 2 > len(holders)


def _starts_inside_word(suffix: str, texts: Iterable[str]) -> bool:
    if not suffix or not suffix[0].isalnum():
        return False
    before = {text[-len(suffix) - 1 : -len(suffix)] for text in texts if text.endswith(suffix)}
    return any(char.isalnum() for char in before)


def suggest(candidates: Iterable[str], texts: Iterable[str]) -> str | None:
    """The first candidate that occurs in none of ``texts``."""
    texts = list(texts)
    return next(
        (candidate for candidate in candidates if not any(candidate in text for text in texts)),
        None,
    )


def infer_task(inputs: Sequence[object], targets: Sequence[object]) -> Task:
    """The legacy rule: no input is open-ended; few distinct targets is classification."""
    if not targets:
        return Task.GENERATION
    if all(not value for value in inputs):
        return Task.OPEN_ENDED
    distinct = len(set(targets))
    if distinct < len(targets) / CLASSIFICATION_RATIO:
        return Task.CLASSIFICATION
    return Task.GENERATION


def infer(head: Sequence[Record], config: dict[str, Any] | None = None) -> Conventions:
    """The conventions of a dataset from its first records and its configuration.

    ``separator``, ``stop`` and ``task`` in the configuration win over inference.
    """
    config = config or {}
    prompts: list[str] = []
    completions: list[str] = []
    for record in head:
        if record.format is Format.PROMPT_COMPLETION:
            prompt, completion = record.data.get("prompt"), record.data.get("completion")
            if isinstance(prompt, str) and isinstance(completion, str):
                prompts.append(prompt)
                completions.append(completion)
    if "separator" in config:
        separator = _declared(config["separator"], prompts)
    else:
        separator = dominant_suffix(prompts, KNOWN_SEPARATORS, natural=False)
    if "stop" in config:
        stop = _declared(config["stop"], completions)
    else:
        stop = dominant_suffix(completions, KNOWN_STOPS, natural=True)
    if "task" in config:
        task = Task(config["task"])
    elif prompts:
        task = infer_task(prompts, [_without(c, stop.text) for c in completions])
    else:
        examples = [example(record) for record in head]
        task = infer_task([given for given, _ in examples], [answer for _, answer in examples])
    declared = frozenset(key for key in ("separator", "stop", "task") if key in config)
    return Conventions(separator, stop, task, declared)


def _declared(text: str, texts: Sequence[str]) -> Suffix:
    share = sum(t.endswith(text) for t in texts) / len(texts) if texts and text else 0.0
    return Suffix(text, share)


def _without(completion: str, stop: str) -> str:
    return completion[: -len(stop)] if stop and completion.endswith(stop) else completion


def _task(value: Any, where: str) -> str:
    choices = [task.value for task in Task] + ["generation"]
    if value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
    return Task.GENERATION.value if value == "generation" else str(value)


add_key("separator", Key(string, 'The prompt separator, instead of inferring it (e.g. " ->").'))
add_key("stop", Key(string, "The completion stop sequence, instead of inferring it."))
add_key("task", Key(_task, "classification or generation, instead of inferring it."))
