"""The legacy preparation approach, for comparison: the whole file in a pandas DataFrame.

This re-creates what ``openai tools fine_tunes.prepare_data`` did (from its documented
behaviour): ``pandas.read_json(lines=True)``, then one validator after another over whole
columns. It is not our code path; it is the baseline users had.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

SEPARATORS = [" ->", "\n\n###\n\n", "\n\n===\n\n", "\n\n---\n\n", "\n\n===>\n\n", "\n\n--->\n\n"]
STOPS = ["\n", ".", " END", "***", "+++", "&&&", "$$$", "@@@", "%%%"]


def common(texts: pd.Series, *, suffix: bool) -> str:
    values = texts.tolist()
    if suffix:
        values = [value[::-1] for value in values]
    found = os.path.commonprefix(values)  # noqa: RUF071 (characters, as the legacy tool)
    return found[::-1] if suffix else found


def prepare(path: Path) -> dict[str, object]:
    """Run the legacy validators over ``path``; return what they found."""
    df = pd.read_json(path, lines=True, dtype=False)
    found: dict[str, object] = {}
    found["missing"] = [c for c in ("prompt", "completion") if c not in df.columns]
    found["extra"] = [c for c in df.columns if c not in ("prompt", "completion")]
    found["empty_completions"] = int((df.completion.str.len() == 0).sum())
    found["duplicates"] = int(df.duplicated(subset=["prompt", "completion"]).sum())
    found["long"] = int((df.prompt.str.len() + df.completion.str.len() > 10_000).sum())
    separator = common(df.prompt, suffix=True)
    found["separator"] = separator
    if separator:
        found["separator_inside"] = int(
            df.prompt.str[: -len(separator)].str.contains(separator, regex=False).sum()
        )
    else:
        found["suggested_separator"] = next(
            (s for s in SEPARATORS if not df.prompt.str.contains(s, regex=False).any()), None
        )
    found["prompt_prefix"] = common(df.prompt, suffix=False)
    found["completion_prefix"] = common(df.completion, suffix=False)
    found["no_leading_space"] = int((df.completion.str[:1] != " ").sum())
    stop = common(df.completion, suffix=True)
    found["stop"] = stop
    if not stop:
        found["suggested_stop"] = next(
            (s for s in STOPS if not df.completion.str.contains(s, regex=False).any()), None
        )
    for column in ("prompt", "completion"):
        upper = df[column].apply(lambda text: sum(1 for c in text if c.isupper())).sum()
        lower = df[column].apply(lambda text: sum(1 for c in text if c.islower())).sum()
        found[f"{column}_uppercase"] = bool(upper * 2 > lower)
    found["classification"] = bool(df.completion.nunique() < len(df) / 3)
    return found
