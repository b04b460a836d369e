"""A job's metrics by step: its results file, its metrics events and its checkpoints.

The results file is CSV, sometimes delivered base64-encoded. Files from the legacy
fine-tunes endpoint name their columns differently (``training_loss``,
``validation_token_accuracy``) and may carry ``classification/*`` columns; they are
renamed to the current names, ``classification/*`` kept as they are. Checkpoints and
metrics events fill what the file lacks (``full_valid_loss`` and
``full_valid_mean_token_accuracy`` are only computed at checkpoints).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: Legacy column names and their current equivalents.
LEGACY_COLUMNS = {
    "training_loss": "train_loss",
    "training_token_accuracy": "train_accuracy",
    "train_mean_token_accuracy": "train_accuracy",
    "validation_loss": "valid_loss",
    "validation_token_accuracy": "valid_mean_token_accuracy",
}

#: Figures a threshold may assert, from the last step that has them: name -> columns
#: in order of preference.
FINAL_METRICS = {
    "train_loss": ("train_loss",),
    "valid_loss": ("full_valid_loss", "valid_loss"),
    "valid_mean_token_accuracy": ("full_valid_mean_token_accuracy", "valid_mean_token_accuracy"),
    "classification/accuracy": ("classification/accuracy",),
    "classification/weighted_f1_score": ("classification/weighted_f1_score",),
}


#: Numbers metrics events carry that are not figures of the step.
_NOT_METRICS = frozenset({"total_steps"})


class ResultsError(Exception):
    """A results file that is not the CSV the provider documents."""


def read_results_file(content: bytes) -> pd.DataFrame:
    """The results CSV as a DataFrame, decoding base64 first when it comes encoded."""
    text = _decoded(content)
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as error:
        raise ResultsError(f"The results file is not CSV: {error}") from None
    if "step" not in frame.columns:
        raise ResultsError(
            f"The results file has no 'step' column (columns: {', '.join(map(str, frame.columns))})"
        )
    return normalise(frame)


def _decoded(content: bytes) -> str:
    stripped = content.strip()
    if stripped.startswith(b"step") or b"," in stripped.split(b"\n", 1)[0]:
        return content.decode("utf-8")
    try:
        decoded = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return content.decode("utf-8", errors="replace")
    return decoded.decode("utf-8", errors="replace")


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Current column names, numeric values, one row per step in step order."""
    frame = frame.rename(
        columns=lambda name: LEGACY_COLUMNS.get(str(name).strip(), str(name).strip())
    )
    frame = frame.loc[:, ~frame.columns.duplicated()]
    for column in frame.columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.dropna(subset=["step"]).sort_values("step")
    frame["step"] = frame["step"].astype(int)
    return frame.groupby("step", as_index=False).last()


def metrics_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of per-step figures (from events or checkpoints) as a normalised DataFrame."""
    records = [
        {key: value for key, value in row.items() if key not in _NOT_METRICS and _is_number(value)}
        for row in rows
        if _is_number(row.get("step"))
    ]
    if not records:
        return pd.DataFrame({"step": pd.Series([], dtype=int)})
    return normalise(pd.DataFrame(records))


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """One frame by step: earlier frames win, later ones fill their gaps."""
    present = [frame.set_index("step") for frame in frames if len(frame)]
    if not present:
        return pd.DataFrame({"step": pd.Series([], dtype=int)})
    merged = present[0]
    for frame in present[1:]:
        merged = merged.combine_first(frame)
    return merged.reset_index().sort_values("step").reset_index(drop=True)


def final_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """The last value of each figure in :data:`FINAL_METRICS` that the job reported."""
    figures: dict[str, float] = {}
    for name, columns in FINAL_METRICS.items():
        for column in columns:
            if column in frame.columns:
                values = frame[column].dropna()
                if len(values):
                    figures[name] = float(values.iloc[-1])
                    break
    return figures


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
