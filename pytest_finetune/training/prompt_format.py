r"""The separator and stop sequence a prompt/completion dataset was prepared with.

A model fine-tuned on ``"<text> ->"`` / ``" label\\n"`` pairs must be asked with the
same separator at the end of the prompt and stopped at the same sequence, or its
answers cannot be compared with the expected completions. Both are learned from the
data: the suffix that (nearly) every prompt, or completion, ends with.

This is the training side's own small inference, kept apart so that it can be unified
with the conventions the FT1xx checks learn in ``begin(head)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: Share of texts that must end with a suffix for it to be the dataset's convention.
DOMINANT_SHARE = 0.9
#: Longest separator or stop sequence considered, in characters.
MAX_SUFFIX = 32
#: The legacy tool's separators and stop sequences. A dominant suffix that ends with
#: one of them ends there: ``"...at 48.0h###"`` prompts are separated by ``"###"``.
KNOWN_MARKERS = (
    " ->",
    "->",
    "\n\n###\n\n",
    "\n\n===\n\n",
    "\n\n---\n\n",
    "\n\n",
    "\n",
    "###",
    " END",
    "END",
    "***",
    "+++",
    "&&&",
    "$$$",
    "@@@",
    "%%%",
)


@dataclass(frozen=True)
class PromptFormat:
    """How prompts end and completions stop in one dataset (``""``: no such convention)."""

    separator: str = ""
    stop: str = ""


def infer_prompt_format(prompts: Sequence[str], completions: Sequence[str]) -> PromptFormat:
    """The dominant suffix of the prompts (separator) and of the completions (stop)."""
    return PromptFormat(separator=dominant_suffix(prompts), stop=dominant_suffix(completions))


def dominant_suffix(texts: Sequence[str], share: float = DOMINANT_SHARE) -> str:
    """The longest suffix that at least ``share`` of ``texts`` end with, text excluded.

    A suffix counts only for texts longer than it: a text that is nothing but the
    suffix (a completion ``" yes"`` among ``" yes"``s) is content, not a stop sequence.
    The result is the longest known marker the suffix ends with, if any; otherwise it
    starts at a word boundary: ``" positive END"`` and ``" negative END"`` share
    ``"ve END"``, whose convention is ``" END"``.
    """
    if not texts:
        return ""
    needed = share * len(texts)
    best = ""
    for length in range(1, MAX_SUFFIX + 1):
        counts = Counter(text[-length:] for text in texts if len(text) > length)
        if not counts:
            break
        suffix, count = counts.most_common(1)[0]
        if count < needed:
            break
        best = suffix
    known = [marker for marker in KNOWN_MARKERS if best.endswith(marker)]
    if known:
        return max(known, key=len)
    return best.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
