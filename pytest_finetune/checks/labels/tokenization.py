"""FT503, FT504: how the target model tokenizes the labels: one token each, each its own."""

from __future__ import annotations

from typing import Any

from pytest_finetune import models, token_counting
from pytest_finetune.checks.labels.survey import Member
from pytest_finetune.checks.registry import register
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import Severity
from pytest_finetune.redact import redact
from pytest_finetune.wording import quote


class _TokenMember(Member):
    """A label check that needs the target model's tokenizer."""

    def judge(self) -> None:
        classes = self.survey.classes
        found = self._encoding() if classes else None
        if classes and found is not None:
            self.judge_tokens(classes, *found)
        elif classes and self.unavailable is not None:
            self.skip(token_counting.unavailable_reason(self.unavailable))

    def judge_tokens(self, classes: dict[str, int], spec: models.ModelSpec, encoding: Any) -> None:
        """Report what the target model's ``encoding`` makes of the labels."""

    def _encoding(self) -> tuple[models.ModelSpec, Any] | None:
        """The target model and its tiktoken encoding; ``None`` offline or if unknown."""
        settings = self.context.settings
        try:
            spec = models.model_spec(
                settings.model, settings.config, self.context.format, settings.target
            )
        except ConfigError:
            return None  # settings built by hand, with a model the configuration would refuse
        encoding = token_counting.tiktoken_encoding(spec.encoding, self.context.shared)
        if encoding is None:
            self.unavailable = spec.encoding
            return None
        return spec, encoding

    #: The encoding whose files are missing, once ``_encoding`` found none.
    unavailable: str | None = None


def _how(first: str, otherwise: str) -> str:
    """What to do about a label whose first token is ``first``: ``otherwise``, or this."""
    return "drop the leading space, a token of its own here" if first.isspace() else otherwise


@register
class MultiTokenLabel(_TokenMember):
    """A class label is more than one token for the target model.

    What it does:
        Tokenizes each label of classification data with the target model's encoding
        (``model`` in configuration) and reports those of two tokens or more, with
        their tokens. Without the encoding files (offline) it is skipped, with the
        reason and how to provide them.

    Why it matters:
        Classifiers are asked for one token (``max_tokens = 1``) and read the class
        from it, or from its log probabilities; a label of several tokens is judged
        on its first one only, and costs more to generate.

    Example:
        `` very positive`` (two tokens) beside `` positive``.

    Fix:
        Use labels of one token each: short words with their leading space, or
        numbers (`` 1``, `` 2``).
    """

    code = "FT503"
    name = "multi-token-label"
    severity = Severity.WARNING

    def judge_tokens(self, classes: dict[str, int], spec: models.ModelSpec, encoding: Any) -> None:
        for label in classes:
            pieces = [encoding.decode([token]) for token in encoding.encode_ordinary(label)]
            if len(pieces) > 1:
                how = _how(pieces[0], "use labels of one token")
                # The pieces of a secret would spell out what its mask hides.
                shown = "" if redact(label) != label else f" ({', '.join(map(quote, pieces))})"
                self.report(
                    self.survey.first[label],
                    f"The label {quote(label)} is {len(pieces)} tokens for {spec.name}"
                    f"{shown}; a one-token answer holds only the first: {how}",
                )


@register
class LabelsShareFirstToken(_TokenMember):
    """Two class labels start with the same token.

    What it does:
        Tokenizes each label of classification data with the target model's encoding
        and reports labels whose first tokens are the same. Without the encoding files
        (offline) it is skipped, with the reason and how to provide them.

    Why it matters:
        A classifier asked for one token (``max_tokens=1``, reading the answer's
        log-probabilities, the legacy recipe) answers with a label's first token: labels
        that share it cannot be told apart, whatever the model learned. A model that
        answers the whole label is not affected, hence a warning.

    Example:
        `` class_a`` and `` class_b`` both start with the token `` class``.

    Fix:
        Rename the labels so that each starts with a token of its own.
    """

    code = "FT504"
    name = "labels-share-first-token"
    severity = Severity.WARNING

    def judge_tokens(self, classes: dict[str, int], spec: models.ModelSpec, encoding: Any) -> None:
        by_token: dict[int, list[str]] = {}
        for label in classes:
            ids = encoding.encode_ordinary(label)
            if ids:
                by_token.setdefault(ids[0], []).append(label)
        for token, labels in by_token.items():
            if len(labels) > 1:
                names = ", ".join(quote(label) for label in sorted(labels))
                first = encoding.decode([token])
                how = _how(first, "give each label a first token of its own")
                self.report(
                    min(self.survey.first[label] for label in labels),
                    f"The labels {names} all start with the token {quote(first)} for "
                    f"{spec.name}; a one-token answer cannot tell them apart: {how}",
                )
