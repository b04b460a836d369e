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

from collections.abc import Iterable

from pytest_finetune.formats import Format
from pytest_finetune.prepare.fixes.base import Change, Fix, FixContext, Sample
from pytest_finetune.prepare.fixes.chat import (
    StripAssistantEndMarker,
    StripAssistantLeadingSpace,
    StripUserSeparator,
)
from pytest_finetune.prepare.fixes.drops import (
    DropConflicting,
    DropDuplicates,
    DropEmpty,
    DropTooLong,
)
from pytest_finetune.prepare.fixes.file import (
    ConvertToJsonLines,
    CrlfToLf,
    DropBlankLines,
    FinalNewline,
    RemoveByteOrderMark,
)
from pytest_finetune.prepare.fixes.keys import (
    RenameKeys,
    RenameLegacyPreferenceKeys,
    StripExtraKeys,
)
from pytest_finetune.prepare.fixes.labels import DropLabelSpace
from pytest_finetune.prepare.fixes.texts import (
    AddLeadingSpace,
    AddSeparator,
    AddStop,
    Lowercase,
    StripCompletionPrefix,
    StripPromptPrefix,
    StripPromptWhitespace,
)
from pytest_finetune.prepare.read import Example

__all__ = ["BY_NAME", "FIXES", "Change", "Fix", "FixContext", "Sample", "run"]

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
    StripAssistantLeadingSpace,
    StripAssistantEndMarker,
    StripUserSeparator,
    DropLabelSpace,
    DropConflicting,
    DropTooLong,
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
