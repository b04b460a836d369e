"""Charts a person can open: the metrics over training steps and the confusion matrix.

One HTML file per trained model (plotly, as the seed plotted
classification accuracy), written under ``--finetune-plots DIR``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_finetune.outputs.plots import PlotsUnavailable, plotly, write_html
from pytest_finetune.redact import redact

if TYPE_CHECKING:
    from pytest_finetune.training.run import FinetuneResult

__all__ = ["PlotsUnavailable", "plot_file_name", "write_plots"]

#: Columns drawn on the loss chart and on the accuracy chart.
_LOSSES = ("train_loss", "valid_loss", "full_valid_loss")
_ACCURACIES = (
    "train_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
    "classification/accuracy",
    "classification/weighted_f1_score",
)


def plot_file_name(nodeid: str) -> str:
    """A file name for an item's charts: its node id with unsafe characters replaced."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_") + ".html"


def write_plots(result: FinetuneResult, path: Path, *, embed: bool = False) -> Path:
    """Write the charts of ``result`` to ``path`` (an .html file) and return it.

    ``embed``: plotly.js in the file, for viewing offline (see ``write_html``).
    """
    go, subplots = plotly()
    make_subplots = subplots.make_subplots
    metrics = result.metrics
    confusion = result.evaluation.confusion() if result.evaluation.classes else None
    rows = 2 if confusion is not None else 1
    figure = make_subplots(
        rows=rows,
        cols=2,
        specs=[[{}, {}], [{"colspan": 2}, None]] if rows == 2 else [[{}, {}]],
        subplot_titles=[
            "Loss by step",
            "Accuracy by step",
            *(["Confusion matrix (validation)"] if rows == 2 else []),
        ],
        vertical_spacing=0.12,
    )
    for position, columns in ((1, _LOSSES), (2, _ACCURACIES)):
        for column in columns:
            if column not in metrics.columns:
                continue
            series = metrics[["step", column]].dropna()
            if series.empty:
                continue
            figure.add_trace(
                go.Scatter(
                    x=series["step"],
                    y=series[column],
                    name=column,
                    mode="lines+markers" if column.startswith("full_") else "lines",
                ),
                row=1,
                col=position,
            )
    if confusion is not None:
        # Labels as written (a leading space shows), secrets masked as in messages.
        labels = [redact(repr(label)) for label in confusion.index]
        predicted = [
            redact(repr(label) if label in confusion.index else label)
            for label in confusion.columns
        ]
        figure.add_trace(
            go.Heatmap(
                z=confusion.to_numpy(),
                x=predicted,
                y=labels,
                colorscale="Blues",
                text=confusion.to_numpy(),
                texttemplate="%{text}",
                showscale=False,
            ),
            row=2,
            col=1,
        )
        figure.update_yaxes(title_text="expected", autorange="reversed", row=2, col=1)
        figure.update_xaxes(title_text="predicted", row=2, col=1)
    figure.update_xaxes(title_text="step", row=1, col=1)
    figure.update_xaxes(title_text="step", row=1, col=2)
    figure.update_layout(
        title=f"{result.model}: accuracy {result.accuracy:.3f} on "
        f"{len(result.predictions)} validation examples",
        height=900 if rows == 2 else 450,
    )
    return write_html(figure, path, embed=embed)
