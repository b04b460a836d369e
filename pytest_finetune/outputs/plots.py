"""Charts of a run that people read as pictures: the class balance of each dataset.

Written as one self-contained HTML file (plotly, an optional dependency) under
``--finetune-plots DIR``, beside the training charts of ``training/plots.py``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

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


def write_class_balance(results: RunResults, folder: Path) -> Path | None:
    """One bar chart per dataset with classes; ``None`` if no dataset has any."""
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
    for row, dataset in enumerate(datasets, 1):
        classes = dataset.stats["classes"]
        # Labels as written, so that a leading space or a stray newline shows.
        labels = [repr(label) for label in classes]
        figure.add_trace(
            go.Bar(x=labels, y=list(classes.values()), name=dataset.path, showlegend=False),
            row=row,
            col=1,
        )
        figure.update_yaxes(title_text="examples", row=row, col=1)
    figure.update_layout(title="Class balance", height=320 * len(datasets) + 100)
    path = folder / CLASS_BALANCE
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(path, include_plotlyjs=True, full_html=True)
    return path
