"""FT6xx: tokens: examples the model cannot train on whole, and what training will cost.

Counting runs where it matters. Every token is at least one byte, and the JSON of an
example has more bytes of structure than the service adds tokens of overhead, so an
example whose line is no longer than the model's limit fits: only longer lines are
counted for the limit check. Totals (the summary's tokens and cost, the report's
``tokens``) are exact for files up to ``exact-tokens-max-bytes`` (16 MB by default);
beyond that tiktoken would dominate the lint, so they are estimated from an exactly
counted sample of about :data:`SAMPLE_BYTES` spread over the file, and marked
``"exact": false``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_finetune import splits
from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import Severity
from pytest_finetune.formats import CONVERSIONS, SUPPORTED, Batch, Format, Record, texts
from pytest_finetune.models import (
    FORMAT_NAMES,
    ModelSpec,
    default_epochs,
    formats_text,
    model_spec,
    models_for,
)
from pytest_finetune.money import budget_dollars
from pytest_finetune.targets import DEFAULT_TARGET, Target, preferred_format
from pytest_finetune.token_counting import (
    CHARS_PER_TOKEN,
    EXACT_TOKENS_MAX_BYTES,
    MAX_TOKEN_BYTES,
    ExampleCounter,
    counter,
)

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext

#: Bytes of a large file counted exactly to estimate its totals (on average).
SAMPLE_BYTES = 1_000_000
_GOLDEN = 2654435761  # 2**32 divided by the golden ratio


def is_billed(context: ScanContext) -> bool:
    """Whether training bills the file: not if it is the validation half of a pair.

    The pair is found as the split checks find it (declared in ``pairs``, or by name
    beside its training file); a file in no pair is still unbilled if named as a
    validation split, as a lone ``valid.jsonl`` is not trained on either.
    """
    split = splits.of(context)
    if split is not None:
        return split.role is splits.Role.TRAIN
    return not splits.named_as_validation(context.display_path)


class Sight(enum.Enum):
    """What the tally sees in an example, judged by an FT6xx check."""

    #: An example over the model's limit (detail: its tokens, and whether they are a
    #: lower bound, for an example too long to be worth counting).
    OVER_LIMIT = enum.auto()


class _Tally(Survey):
    """The token counts of one file, kept for every FT6xx check: one pass, one count."""

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.problem: str | None = None
        self.over: Surveyed | None = None
        #: Data the target does not take: FT603 says so, and its limits say nothing of it.
        self.foreign = context.format not in context.settings.target.accepted
        self.spec = ModelSpec("", "", 0)
        if self.foreign:
            self.active = False
            return
        try:
            settings = context.settings
            self.spec = model_spec(settings.model, settings.config, context.format, settings.target)
        except ConfigError as error:  # settings built by hand: Settings refuses the model
            self.problem = str(error)
            self.active = False
            return
        self.count = ExampleCounter(counter(self.spec.encoding, context.shared), self.spec.encoding)
        #: Whether counts are the service's own: tiktoken's, for a target that counts with
        #: it. Elsewhere a tiktoken encoding only stands in for the model's tokenizer.
        self.proxy = not context.settings.target.encoding
        self.exact = self.count.exact and not self.proxy
        self.size = max(1, context.path.stat().st_size)
        limit = context.settings.config.get("exact-tokens-max-bytes", EXACT_TOKENS_MAX_BYTES)
        self.every = self.size <= limit
        if not self.every:
            # The sample is picked over arrays (_sampled): NumPy is imported here, so that
            # a chunked scan imports it once, before its processes are forked.
            import numpy  # noqa: F401, PLC0415
        #: Examples are sampled by a hash of their line number (the golden ratio's
        #: sequence spreads evenly and does not fall in step with repeating data).
        self.sampled = int(min(1.0, SAMPLE_BYTES / self.size) * 2**32)
        self.examples = 0
        #: The limit, or none (0: the target documents none): nothing is then too long.
        self.limit = self.spec.training_limit or None
        self.half = self.limit // 2 if self.limit else float("inf")
        #: Sums over the examples counted: all, capped at the limit, and the sample.
        self.counted = 0
        self.capped = 0
        self.longest = 0
        self.sample_tokens = 0
        self.sample_bytes = 0
        #: Examples not counted: their bytes, and the longest of them.
        self.rest_bytes = 0
        self.rest_longest = 0
        #: Of those, examples so long that a lower bound proved them over the limit.
        self.giant_bytes = 0
        self.over_limit = 0

    def ready(self) -> None:
        self.over = self.watchers.get(Sight.OVER_LIMIT)

    def visit(self, record: Record) -> None:
        size = len(record.raw)
        self.examples += 1
        if self.every or size > self.half:
            limit = self.limit
            if limit is None:  # counted for the totals only: nothing is too long
                self._counted(record.line, self.count(record))
                return
            # Tool definitions can cost more tokens than their bytes (a one-digit enum
            # item is 4 tokens): with them, only half the limit in bytes proves a fit.
            if self.every or size > limit or _has_tools(record):
                if not self.every and size > limit * MAX_TOKEN_BYTES and self._giant(record, size):
                    return
                self._counted(record.line, self.count(record))
                return
        if (record.line * _GOLDEN) & 0xFFFFFFFF < self.sampled:
            tokens = self.count(record)
            self.sample_tokens += tokens
            self.sample_bytes += size
            self._counted(record.line, tokens)
        else:
            self.rest_bytes += size
            self.rest_longest = max(self.rest_longest, size)

    def visit_batch(self, batch: Batch) -> None:
        """What :meth:`visit` does for each record of ``batch``, over whole lists.

        Only the examples it may count (long ones, and the sample) go through it; the
        bytes of the others are added at once. A file counted whole goes record by
        record.
        """
        if self.every:
            for record in batch.records():
                self.visit(record)
            return
        sizes = list(map(len, batch.raws))
        picked = _sampled(batch.lines, self.sampled)
        if max(sizes) > self.half:
            picked = sorted({*picked, *(i for i, size in enumerate(sizes) if size > self.half)})
        rest = sizes
        if picked:
            rest = sizes.copy()
            for index in picked:
                rest[index] = 0
            for index in picked:
                self.visit(batch.record(index))
        self.examples += len(sizes) - len(picked)
        self.rest_bytes += sum(rest)
        self.rest_longest = max(self.rest_longest, *rest)

    def _giant(self, record: Record, size: int) -> bool:
        """Report an example too long to be worth counting (a lower bound proves it)."""
        characters = sum(len(text) for _, text in texts(record))
        if characters <= self.spec.training_limit * MAX_TOKEN_BYTES:
            return False
        self.over_limit += 1
        self.capped += self.spec.training_limit
        self.rest_bytes += size
        self.giant_bytes += size
        self.rest_longest = max(self.rest_longest, size)
        if self.over is not None:
            self.over.seen(record.line, "", (-(-characters // MAX_TOKEN_BYTES), True))
        return True

    def _counted(self, line: int, tokens: int) -> None:
        limit = self.limit
        self.counted += tokens
        self.capped += tokens if limit is None else min(tokens, limit)
        self.longest = max(self.longest, tokens)
        if limit is not None and tokens > limit:
            self.over_limit += 1
            if self.over is not None:
                self.over.seen(line, "", (tokens, False))

    def __getstate__(self) -> dict[str, Any]:
        # The counter holds a tokenizer: a chunk's state travels without it, and only
        # says whether its counts were exact.
        state = dict(self.__dict__)
        if "count" in state:  # not where the tally has nothing to count
            state["count"] = _Counted(self.count.exact)
        return state

    def merge(self, later: _Tally) -> None:
        if self.problem is not None or self.foreign:
            return
        for total in (
            "examples",
            "counted",
            "capped",
            "sample_tokens",
            "sample_bytes",
            "rest_bytes",
            "giant_bytes",
            "over_limit",
        ):
            setattr(self, total, getattr(self, total) + getattr(later, total))
        self.longest = max(self.longest, later.longest)
        self.rest_longest = max(self.rest_longest, later.rest_longest)

    def conclude(self) -> None:
        """Put the totals in the file's statistics."""
        if self.problem is not None or self.foreign:
            return
        # Tokens per byte of the sampled examples estimate the others (at most 1).
        ratio = self.sample_tokens / self.sample_bytes if self.sample_bytes else 1.0
        estimated = round(ratio * self.rest_bytes)
        total = self.counted + estimated
        capped = self.capped + round(ratio * (self.rest_bytes - self.giant_bytes))
        epochs = _epochs(self.context, self.examples) if is_billed(self.context) else None
        billed_tokens = None if epochs is None else epochs * capped
        price = self.spec.training_price
        self.context.stats.tokens = {
            "total": total,
            "max": max(self.longest, round(ratio * self.rest_longest)),
            "exact": self.exact and self.rest_bytes == 0,
            # Why they are not exact: no encoding files (a token per 4 characters), a
            # target whose tokenizer is not tiktoken's (an encoding stands in), or a file
            # too large to count whole (a sample counted exactly).
            "estimate": "offline"
            if not self.count.exact
            else "proxy"
            if self.proxy
            else "sample"
            if self.rest_bytes
            else None,
            "model": self.spec.name,
            "encoding": self.spec.encoding,
            "limit": self.limit,
            "over_limit": self.over_limit,
            "epochs": epochs,
            "billed": billed_tokens,
            "price": price,
            "estimated_cost": None
            if billed_tokens is None or price is None
            else round(billed_tokens * price / 1_000_000, 4),
        }


@dataclass(frozen=True)
class _Counted:
    """What a merged tally keeps of its counter: whether its counts were exact."""

    exact: bool


def _epochs(context: ScanContext, examples: int) -> int | None:
    """The epochs a job on the file runs by default: the target's, or OpenAI's rule."""
    target = context.settings.target
    if "openai" in target.trains:
        return default_epochs(examples)
    return target.epochs if examples else 0


def _sampled(lines: list[int], sampled: int) -> list[int]:
    """The indexes of the ``lines`` whose examples are in the sample (see ``visit``).

    Over whole arrays, not a test a line in Python: a batch's lines are most often one
    run of consecutive numbers.
    """
    import numpy as np  # noqa: PLC0415 (imported with the tally, see _Tally)

    first, count = lines[0], len(lines)
    if lines[-1] - first == count - 1:  # (increasing: a run if it spans no more)
        numbers = np.arange(first, first + count, dtype=np.uint64)
    else:
        numbers = np.array(lines, dtype=np.uint64)
    # (Products past 64 bits wrap around, which keeps their lowest 32 bits.)
    hashes = (numbers * np.uint64(_GOLDEN)) & np.uint64(0xFFFFFFFF)
    return np.flatnonzero(hashes < sampled).tolist()


def _has_tools(record: Record) -> bool:
    data = record.data
    if record.format is Format.PREFERENCE:
        source = data.get("input")
        return isinstance(source, dict) and bool(source.get("tools"))
    return bool(data.get("tools"))


class _TokenCheck(Surveyed):
    survey_type = _Tally
    survey: _Tally
    #: Every known format: each target's limits apply to the data it takes.
    formats = frozenset(Format) - {Format.UNKNOWN}


@register
class ExampleTooLong(_TokenCheck):
    """An example has more tokens than the model trains on.

    What it does:
        Counts an example's tokens with the target model's tiktoken encoding (``model``
        in the configuration; ``gpt-4o-mini`` by default), as the service counts them:
        prompt plus completion; for chat, 3 tokens per message, 1 per name, 3 priming
        the reply, tool definitions and tool calls; for preference data, the input
        with the longer output. Only examples whose line is longer than the limit in
        bytes can exceed it, so only those are counted.

    Why it matters:
        The service truncates longer examples to the limit without an error; the end
        of the example, where the completion or the assistant's answer is, does not
        train.

    Example:
        A 26,000-character assistant reply (8,032 tokens) with model
        ``gpt-3.5-turbo-0613``, whose limit is 4,096 tokens.

    Fix:
        Shorten or split the example, or target a model with a longer limit (add
        models in ``[tool.pytest_finetune.models]``).
    """

    code = "FT601"
    name = "example-too-long"
    severity = Severity.ERROR

    sees = (Sight.OVER_LIMIT,)

    def seen(self, line: int, where: str, detail: tuple[int, bool]) -> None:
        # The detail: the example's tokens, and whether they are a lower bound.
        tokens, least = detail
        spec, exact = self.survey.spec, self.survey.exact and not least
        about = "at least " if least else "" if exact else "about "
        note = ""
        if not (exact or least):
            note = " (estimated: tiktoken's encoding files are not available)"
            if self.survey.proxy:
                # The target's tokenizer is not tiktoken's: say what stood in for it.
                by = (
                    f"with {spec.encoding}"
                    if self.survey.count.exact
                    else f"at {CHARS_PER_TOKEN} characters a token"
                )
                note = f" (estimated {by}: the tokenizer of {spec.name} is not tiktoken's)"
        self.report(
            line,
            f"This example has {about}{tokens:,} tokens{note}; {spec.name} trains on at most "
            f"{spec.training_limit:,} and cuts the rest silently; shorten or split it",
        )

    def judge(self) -> None:
        if self.survey.problem is not None:
            self.report(None, self.survey.problem)


@dataclass(frozen=True)
class _BudgetOptions:
    max_cost: float = option(
        0.0, "Most US dollars one training run may cost (0: no limit).", minimum=0
    )
    max_billed_tokens: int = option(
        0, "Most tokens one training run may bill (0: no limit).", minimum=0
    )


@register
class OverBudget(_TokenCheck):
    """Training on the file would cost more than the budget.

    What it does:
        Multiplies the tokens of every example (each capped at the model's limit) by
        the default number of epochs (3, more for small files and fewer for large
        ones, as the service chooses) and compares the billed tokens, and their cost
        at the model's training price, with ``max-billed-tokens`` and ``max-cost``.
        Both are off until set; validation files are not billed.

    Why it matters:
        A dataset that grows in a pull request can multiply the cost of the next
        fine-tune; the gate says so before the job starts.

    Example:
        ``max-cost = 5.0`` and a training file of 2 million tokens on ``gpt-4o-mini``
        ($3.00 per million tokens, 3 epochs: about $18).

    Fix:
        Trim or deduplicate the data, train fewer epochs, or raise the budget.
    """

    code = "FT602"
    name = "over-budget"
    severity = Severity.ERROR
    Options = _BudgetOptions

    def judge(self) -> None:
        tokens: dict[str, Any] | None = self.context.stats.tokens
        if not tokens or tokens["billed"] is None:
            return
        about = "" if tokens["exact"] else "about "
        billed, cost, price = tokens["billed"], tokens["estimated_cost"], tokens["price"]
        run = f"{tokens['epochs']} epochs of {tokens['model']}"
        if self.options.max_billed_tokens and billed > self.options.max_billed_tokens:
            self.report(
                None,
                f"Training bills {about}{billed:,} tokens ({run}), over max-billed-tokens = "
                f"{self.options.max_billed_tokens:,}; trim the data or raise the budget",
            )
        if self.options.max_cost and cost is not None and cost > self.options.max_cost:
            self.report(
                None,
                f"Training costs {about}{budget_dollars(cost)} ({billed:,} tokens, {run} at "
                f"${price:,.2f} per million), over max-cost = "
                f"{budget_dollars(self.options.max_cost)}; trim the data or raise the budget",
            )


@register
class FormatNotForModel(Check):
    """The target, or the model, does not fine-tune on data of the file's format.

    What it does:
        Compares the file's format with the formats the target accepts (``target``:
        OpenAI by default; see docs/targets.md), then, for OpenAI and Azure OpenAI,
        with those of the configured model: babbage-002 and davinci-002 take
        prompt/completion data only; the chat models (gpt-4o, gpt-4.1, gpt-3.5-turbo,
        gpt-4, o4-mini, their minis and snapshots) take chat data, and gpt-4o,
        gpt-4o-mini, gpt-4.1, gpt-4.1-mini and gpt-4.1-nano preference data too. The
        model is compared only when one is chosen: ``model`` in the configuration,
        ``--finetune-model``, or the model a training declaration trains; the default
        model is an assumption, not a choice. A model added in
        ``[tool.pytest_finetune.models]`` takes every format unless its ``formats`` key
        lists them. Data of no known format is FT016's.

    Why it matters:
        The service refuses the file, often only once the job starts, after the upload
        (``invalid_training_file``: the model "requires data in the chat-completion
        format"); a trainer fails on the first example, or trains on the wrong columns.

    Example:
        Alpaca data (``instruction``, ``input``, ``output``) for OpenAI, or
        prompt/completion data with ``model = "gpt-4o-mini-2024-07-18"``.

    Fix:
        Convert the data to a format the target takes (``pytest-finetune prepare``),
        set the ``target`` the data is meant for, or train a model that takes the data
        as it is: babbage-002 or davinci-002 for prompt/completion.
    """

    code = "FT603"
    name = "format-not-for-model"
    severity = Severity.ERROR
    formats = None

    def finish(self) -> None:
        settings = self.context.settings
        fmt = self.context.format
        if fmt is Format.UNKNOWN or not self.context.stats.examples:
            return
        if fmt not in settings.target.accepted:
            self.report(None, not_accepted(fmt, settings.target))
            return
        # Other targets' formats are the service's, whatever the model: the table's
        # formats of a model are OpenAI's per-model rules.
        if settings.model is None or "openai" not in settings.target.trains:
            return
        try:
            spec = model_spec(settings.model, settings.config, fmt, settings.target)
        except ConfigError:  # settings built by hand: FT601 reports the model
            return
        if fmt not in spec.formats:
            self.report(None, wrong_format(fmt, spec, settings.config))


def not_accepted(fmt: Format, target: Target) -> str:
    """FT603's message for data the target does not take: what it is and what to do."""
    # The default target keeps the words it always had: it is what "fine-tuning" meant.
    who = "fine-tuning" if target.name == DEFAULT_TARGET else target.title
    preferred = preferred_format(target, fmt)
    if preferred not in target.accepted:
        takes = ", ".join(accepted.description for accepted in target.formats)
        advice = f"it takes {takes}"
    elif fmt in CONVERSIONS and preferred in SUPPORTED:
        advice = CONVERSIONS[fmt]
    else:
        advice = f"convert it to {preferred.description}"
    return f"This is {fmt.description} data, which {who} does not accept; {advice}"


#: Models named as the alternative; beyond these, "such as".
_NAMED_MODELS = 3
#: How data of one format becomes data of another, where it can.
_CONVERSIONS = {
    (Format.PROMPT_COMPLETION, Format.CHAT): "convert the examples to chat messages",
    (Format.CHAT, Format.PROMPT_COMPLETION): "convert the examples to prompt/completion pairs",
    (Format.PREFERENCE, Format.CHAT): "train on the preferred outputs as chat examples",
}


def wrong_format(fmt: Format, spec: ModelSpec, config: dict[str, Any]) -> str:
    """FT603's message: what the data is, what the model takes, and what to do."""
    name = FORMAT_NAMES.get(fmt, fmt.description)
    fixes = [
        _CONVERSIONS[fmt, to]
        for to in FORMAT_NAMES
        if to in spec.formats and (fmt, to) in _CONVERSIONS
    ]
    others = models_for(fmt, config)
    if len(others) > _NAMED_MODELS:
        such = _or(others[:_NAMED_MODELS])
        fixes.append(f"train a model that takes {name} data, such as {such}")
    elif others:
        fixes.append(f"train {_or(others)}")
    if not fixes:
        fixes.append(f"train a model that takes {name} data")
    return (
        f"{name[0].upper()}{name[1:]} data, but {spec.name} fine-tunes on "
        f"{formats_text(spec.formats)} data only: {', or '.join(fixes)}"
    )


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
