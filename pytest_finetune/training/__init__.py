"""The ``finetune`` marker's engine: train (or reuse) a model, measure it, assert thresholds.

Importing the package registers its configuration keys (``train``, ``training``);
heavy dependencies (openai, pandas, scikit-learn, plotly) load only when a model is
trained.
"""

from pytest_finetune.training import settings as settings
from pytest_finetune.training import spec as spec
from pytest_finetune.training.spec import TrainSpec

__all__ = ["TrainSpec"]
