"""The ``local`` backend: a text classifier trained in seconds, no key, no GPU.

It learns the same examples as a fine-tune would (TF-IDF of words and characters, a
linear model trained by stochastic gradient descent on log loss, in minibatches over
epochs) and reports the same kind of figures (training and validation loss and
accuracy by step), so that a pull request can be gated on a learnability baseline
while the paid fine-tune runs nightly. Classification data only: anything else gets
a skip reason.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion

from pytest_finetune.formats import Format
from pytest_finetune.models import default_epochs
from pytest_finetune.training.backends.base import (
    Backend,
    Job,
    JobEvent,
    JobNotFound,
    TrainingRequest,
    Unsupported,
    Uploaded,
)
from pytest_finetune.training.examples import Example, ExampleSet, read_examples
from pytest_finetune.training.results import metrics_frame

MODEL_NAME = "tfidf-sgd"
DEFAULT_BATCH_SIZE = 8
DEFAULT_SEED = 0
#: Regularisation strength of the linear model (scikit-learn's ``alpha``).
ALPHA = 1e-4


class LocalClassifier:
    """TF-IDF features and a logistic-loss linear classifier, trained step by step."""

    def __init__(
        self, *, epochs: int | None = None, batch_size: int | None = None, seed: int | None = None
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.seed = DEFAULT_SEED if seed is None else seed
        self.classes: list[str] = []
        #: The epochs the last ``fit`` trained (the default rule's, if none were given).
        self.epochs_trained = 0
        self._features: Any = None
        self._model: Any = None

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        valid_texts: Sequence[str] = (),
        valid_labels: Sequence[str] = (),
    ) -> list[dict[str, float]]:
        """Train; returns one row of metrics per step, as a provider's results file."""
        self.classes = sorted(set(labels))
        if len(self.classes) < 2:
            raise Unsupported("The local backend needs at least two classes to tell apart.")
        self._features = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
                ),
            ]
        )
        x = self._features.fit_transform(texts)
        y = np.array(labels, dtype=object)
        x_valid = self._features.transform(valid_texts) if valid_texts else None
        y_valid = np.array(valid_labels, dtype=object)
        self._model = SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=self.seed)
        rng = np.random.default_rng(self.seed)
        epochs = self.epochs_trained = self.epochs or default_epochs(len(labels))
        steps_per_epoch = -(-len(labels) // self.batch_size)
        rows: list[dict[str, float]] = []

        index = {label: position for position, label in enumerate(self.classes)}

        def loss_and_accuracy(features: Any, truth: Any) -> tuple[float, float]:
            # Mean cross-entropy of the true class: what the providers report as loss.
            # A validation label the training data lacks has no probability at all.
            probabilities = self._model.predict_proba(features)
            columns = np.array([index.get(label, -1) for label in truth])
            likelihood = np.where(
                columns >= 0, probabilities[np.arange(len(truth)), columns.clip(0)], 0.0
            ).clip(1e-15, 1.0)
            return (
                float(-np.log(likelihood).mean()),
                float((probabilities.argmax(axis=1) == columns).mean()),
            )

        step = 0
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(labels))
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                self._model.partial_fit(x[batch], y[batch], classes=self.classes)
                step += 1
                train_loss, train_accuracy = loss_and_accuracy(x[batch], y[batch])
                row = {
                    "step": float(step),
                    "train_loss": train_loss,
                    "train_accuracy": train_accuracy,
                }
                if x_valid is not None:
                    sample = rng.choice(
                        len(y_valid), min(self.batch_size, len(y_valid)), replace=False
                    )
                    row["valid_loss"], row["valid_mean_token_accuracy"] = loss_and_accuracy(
                        x_valid[sample], y_valid[sample]
                    )
                    if step == epoch * steps_per_epoch:
                        row["full_valid_loss"], row["full_valid_mean_token_accuracy"] = (
                            loss_and_accuracy(x_valid, y_valid)
                        )
                rows.append(row)
        return rows

    def answer(self, texts: Sequence[str]) -> list[str]:
        """The predicted label of each text."""
        return [str(label) for label in self._model.predict(self._features.transform(texts))]


@dataclass
class _LocalRun:
    job: Job
    classifier: LocalClassifier
    separator: str
    events: list[JobEvent] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)


class LocalBackend(Backend):
    """Trains a :class:`LocalClassifier` in this process; a job lives as long as it does."""

    name = "local"
    persistent = False
    paid = False

    def __init__(self) -> None:
        self._runs: dict[str, _LocalRun] = {}
        self._ids = itertools.count(1)

    def upload(self, request: TrainingRequest) -> Uploaded:
        return Uploaded(str(request.train_path), str(request.valid_path))

    def start(self, request: TrainingRequest, files: Uploaded) -> Job:
        # The request holds the head of the file; the classifier learns all of it.
        train = read_examples(request.train_path, request.train.conventions)
        check_trainable(train)
        valid = read_examples(request.valid_path, train.conventions)
        job_id = f"local-{next(self._ids)}"
        created = time.time()
        events = [_event(job_id, 1, f"Created local training job: {job_id}")]
        classifier = LocalClassifier(
            epochs=request.hyperparameters.get("n_epochs"),
            batch_size=request.hyperparameters.get("batch_size"),
            seed=request.seed,
        )
        labels = [example.expected for example in train.examples]
        metrics = classifier.fit(
            train.texts(), labels, valid.texts(), [example.expected for example in valid.examples]
        )
        events.append(
            _event(
                job_id,
                2,
                f"Trained a {MODEL_NAME} classifier on {len(labels)} examples of "
                f"{len(classifier.classes)} classes for {classifier.epochs_trained} epochs",
            )
        )
        for row in metrics:
            if "full_valid_loss" in row:
                events.append(
                    _event(
                        job_id,
                        len(events) + 1,
                        f"Step {int(row['step'])}/{len(metrics)}: "
                        f"training loss={row['train_loss']:.4f}, "
                        f"full validation loss={row['full_valid_loss']:.4f}",
                        data=row,
                    )
                )
        finished = time.time()
        events.append(
            _event(job_id, len(events) + 1, f"Training finished in {finished - created:.1f}s")
        )
        job = Job(
            id=job_id,
            status="succeeded",
            base_model=MODEL_NAME,
            fine_tuned_model=f"local:{MODEL_NAME}:{job_id}",
            created_at=created,
            finished_at=finished,
        )
        self._runs[job_id] = _LocalRun(job, classifier, train.separator, events, metrics)
        return job

    def find(self, metadata: Mapping[str, str]) -> Job | None:
        return None

    def retrieve(self, job_id: str) -> Job:
        run = self._runs.get(job_id)
        if run is None:
            raise JobNotFound(job_id)
        return run.job

    def events(self, job_id: str, seen: set[str]) -> list[JobEvent]:
        fresh = [event for event in self._runs[job_id].events if event.id not in seen]
        seen.update(event.id for event in fresh)
        return fresh

    def results(self, job: Job) -> pd.DataFrame:
        return metrics_frame(self._runs[job.id].metrics)

    def predict(self, model: str, example: Example, stop: str, max_answer_chars: int) -> str:
        run = self._runs[model.rsplit(":", 1)[-1]]
        return run.classifier.answer([example.text(run.separator)])[0]


def check_trainable(examples: ExampleSet) -> None:
    """Raise :class:`Unsupported` unless the local backend can learn these examples."""
    name = examples.path.name
    if examples.format not in (Format.PROMPT_COMPLETION, Format.CHAT):
        raise Unsupported(
            f"The local backend trains a text classifier; {name} is {examples.format.value} "
            "data, which it cannot learn. Use backend='openai' for it."
        )
    if not examples.is_classification:
        answers = len(examples.answers)
        raise Unsupported(
            f"The local backend trains a text classifier; {name} is not classification "
            f"data ({answers} distinct answers in {len(examples.examples)} examples; "
            f"classification needs fewer than a third as many answers as examples). "
            "Use backend='openai' for it."
        )


def _event(
    job_id: str, number: int, message: str, data: dict[str, float] | None = None
) -> JobEvent:
    return JobEvent(f"{job_id}-event-{number}", time.time(), message, data=data)
