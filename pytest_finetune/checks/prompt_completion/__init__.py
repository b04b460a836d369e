r"""FT1xx: prompt/completion data and its conventions, the rules of the legacy ``prepare_data``.

Prompt/completion data carries its structure in text: a separator ends every prompt, a
single space starts every completion and a stop sequence ends it. The legacy tool
checked these over the whole file at once and printed advice; these checks say which
lines break the file's own conventions (learned by :mod:`pytest_finetune.conventions`
from its first records) and what to do about each.

Every check of the family is a member of one survey (:mod:`.survey`), which looks at
each record once for all of them; the checks report per line as the survey meets a
problem and judge what needs the whole file (common prefixes, identical texts, case)
at the end. The checks are grouped by concern: the keys and their values
(:mod:`.keys`), the separator (:mod:`.separator`), how texts start
(:mod:`.leading_space`), the stop sequence (:mod:`.stop`), letter case (:mod:`.case`)
and what all texts start with (:mod:`.prefixes`).
"""

from pytest_finetune.checks.prompt_completion import (
    case,
    keys,
    leading_space,
    prefixes,
    separator,
    stop,
)

__all__ = [
    "case",
    "keys",
    "leading_space",
    "prefixes",
    "separator",
    "stop",
]
