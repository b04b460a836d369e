"""Charts of a run that people read as pictures: the class balance of each dataset.

Written as one HTML file (plotly, an optional dependency) under
``--finetune-plots DIR``, beside the training charts of ``training/plots.py``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_finetune.outputs.report import write_text
from pytest_finetune.outputs.results import RunResults

#: The file the class balance of every classification dataset goes to.
CLASS_BALANCE = "class-balance.html"


class PlotsUnavailable(Exception):
    """plotly is not installed."""


def plotly() -> tuple[ModuleType, ModuleType]:
    """Load plotly's ``graph_objects`` and ``subplots`` modules, or a clear error without it."""
    try:  # an optional dependency (the plots extra)
        import plotly.graph_objects as go  # noqa: PLC0415
        from plotly import subplots  # noqa: PLC0415
    except ImportError:
        raise PlotsUnavailable(
            "--finetune-plots needs plotly: pip install 'pytest-finetune[plots]'"
        ) from None
    return go, subplots


def write_html(figure: Any, path: Path, *, embed: bool = False) -> Path:
    """Write ``figure`` as one HTML file, atomically (a full disk leaves no half chart).

    plotly.js (4.8 MB) is loaded from its CDN unless ``embed``: then the file opens
    without a network.
    """
    html = figure.to_html(include_plotlyjs=True if embed else "cdn", full_html=True)
    write_text(path, html)
    return path


def write_class_balance(results: RunResults, folder: Path, *, embed: bool = False) -> Path | None:
    """One bar chart per dataset with classes; ``None`` if no dataset has any.

    Every chart puts the labels in one order (by their count over all datasets), so
    that a label stands in the same place in the training and the validation chart.
    """
    datasets = [
        dataset
        for dataset in sorted(results.datasets.values(), key=lambda d: d.path)
        if dataset.stats.get("classes")
    ]
    if not datasets:
        return None
    go, subplots = plotly()
    figure = subplots.make_subplots(
        rows=len(datasets),
        cols=1,
        subplot_titles=[
            f"{d.path}: {len(d.stats['classes'])} classes, {sum(d.stats['classes'].values()):,}"
            " examples"
            for d in datasets
        ],
        vertical_spacing=min(0.3 / len(datasets), 0.12),
    )
    totals: Counter[str] = Counter()
    for dataset in datasets:
        totals.update(dataset.stats["classes"])
    order = {label: place for place, (label, _) in enumerate(sorted(totals.items(), key=_most))}
    for row, dataset in enumerate(datasets, 1):
        classes = sorted(dataset.stats["classes"].items(), key=lambda item: order[item[0]])
        # Labels as written, so that a leading space or a stray newline shows.
        labels = [repr(label) for label, _ in classes]
        figure.add_trace(
            go.Bar(x=labels, y=[n for _, n in classes], name=dataset.path, showlegend=False),
            row=row,
            col=1,
        )
        figure.update_yaxes(title_text="examples", row=row, col=1)
    figure.update_layout(title="Class balance", height=320 * len(datasets) + 100)
    return write_html(figure, folder / CLASS_BALANCE, embed=embed)


def _most(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
