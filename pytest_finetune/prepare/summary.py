"""What prepare prints: the fixes with their counts, the data, tokens and cost, the next step.

As the legacy tool's closing words: what was changed, what the data is (task, classes
and their balance), what training will cost, and the exact commands to go on with.
A dry run prints the same, with a few examples of each change, and writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_finetune.formats import Format
from pytest_finetune.models import FORMAT_NAMES, default_epochs, model_spec, models_for
from pytest_finetune.money import dollars
from pytest_finetune.outputs import summary
from pytest_finetune.paths import shown
from pytest_finetune.prepare.convert import Conversion
from pytest_finetune.prepare.fixes import Change
from pytest_finetune.prepare.read import SourceKind
from pytest_finetune.prepare.run import Output, Prepared, relative_to_config
from pytest_finetune.redact import redact
from pytest_finetune.wording import plural, quote, with_rest

#: Classes named in the summary; the rest are counted.
SHOWN_CLASSES = 8
#: Who trains on each format that OpenAI's jobs do not take.
_TRAINERS = {
    Format.ALPACA: "LLaMA-Factory or Axolotl",
    Format.SHAREGPT: "LLaMA-Factory or Axolotl",
    Format.SHAREGPT_PREFERENCE: "LLaMA-Factory (a ranking dataset)",
    Format.TRL_PREFERENCE: "TRL's DPOTrainer",
    Format.TRANSCRIPTS: "TRL's DPOTrainer (implicit prompt)",
    Format.UNPAIRED_PREFERENCE: "TRL's KTOTrainer",
    Format.GEMINI: "Vertex AI's supervised tuning",
    Format.CLAUDE: "Amazon Bedrock's Claude fine-tuning",
    Format.NOVA: "Amazon Bedrock's Nova fine-tuning",
}
#: Unmappable parts listed for the examples a conversion left out; the rest are counted.
SHOWN_DROPPED = 10
_INDENT = "  "


def render(prepared: Prepared) -> list[str]:
    """The lines prepare prints after a run (or a dry run)."""
    dry = prepared.options.dry_run
    source = prepared.source
    unit = "row" if source.kind in (SourceKind.CSV, SourceKind.TSV) else "example"
    conversion = prepared.conversion
    described = (
        f"{conversion.source.description} data"
        if conversion
        else f"{prepared.format.description} data"
    )
    lines = [
        f"{prepared.shown}: {source.kind}, {plural(len(source.examples), unit)}, {described}"
        + (" (dry run: nothing is written)" if dry else ""),
        "",
    ]
    if conversion:
        lines += ["Conversion:" if not dry else "Conversion to make:"]
        lines += [_INDENT + line for line in _conversion(conversion, prepared.shown)]
        lines.append("")
    lines += ["Fixes to apply:" if dry else "Fixes applied:"]
    lines += _changes(prepared.changes, samples=dry)
    lines += ["", "Data:"]
    lines += [_INDENT + line for line in _data(prepared)]
    lines += ["", "Would write:" if dry else "Wrote:"]
    width = max(len(output.shown) for output in prepared.outputs)
    for output in prepared.outputs:
        lines.append(f"{_INDENT}{output.shown:<{width}}  {_contents(output)}")
    lines += [_INDENT + note for note in prepared.notes]
    training = _training(prepared)
    if training:
        lines += ["", "Tokens and cost:"]
        lines += [_INDENT + line for line in training]
    remaining = summary.statistics(prepared.results)
    if remaining:
        lines += [
            "",
            "Still found in the prepared files (`pytest-finetune rules CODE` explains each; "
            "[*]: a safe fix that was not applied):",
        ]
        lines += [_INDENT + line for line in remaining]
    lines += ["", "Next:"]
    lines += [_INDENT + line for line in _next(prepared)]
    # Samples, prefixes and class labels quote the data: mask what a secret in it shows.
    return [redact(line) for line in lines]


def _conversion(conversion: Conversion, display: str) -> list[str]:
    lines = [
        f"to {conversion.target.description}: {plural(conversion.converted, 'example')} converted"
    ]
    if conversion.dropped_examples:
        lines.append(
            f"{plural(conversion.dropped_examples, 'example')} left out, holding what "
            f"{conversion.target.description} data cannot hold:"
        )
        shown = [
            _INDENT + problem.describe(display) for problem in conversion.dropped[:SHOWN_DROPPED]
        ]
        lines += with_rest(shown, len(conversion.dropped), indent=_INDENT)
    return lines


def _changes(changes: list[Change], *, samples: bool) -> list[str]:
    made = [change for change in changes if change.count or change.note]
    if not made:
        return [_INDENT + "none: the data needed no fix prepare makes"]
    width = max(len(change.fix.name) for change in made)
    lines = []
    for change in made:
        codes = ",".join(change.fix.codes)
        lines.append(
            f"{_INDENT}{codes:<11} {change.fix.name:<{width}}  {change.what or change.note}"
        )
        if samples:
            for sample in change.samples:
                if sample.after is None:
                    lines.append(f"{_INDENT * 4}line {sample.line}: dropped {sample.before}")
                elif not sample.after:
                    lines.append(f"{_INDENT * 4}line {sample.line}: {sample.before}")
                else:
                    lines.append(
                        f"{_INDENT * 4}line {sample.line}: {sample.before} -> {sample.after}"
                    )
    return lines


def _data(prepared: Prepared) -> list[str]:
    conv = prepared.conventions
    lines = []
    if prepared.format is Format.PROMPT_COMPLETION:
        lines.append(f"Task: {conv.task.value.replace('_', ' ')}")
        parts = []
        if conv.separator:
            parts.append(f"prompts end with {conv.separator.text!r}")
        if conv.stop:
            parts.append(f"completions end with {conv.stop.text!r}")
        if parts:
            lines.append("Conventions: " + ", ".join(parts))
    elif prepared.classes:
        lines.append("Task: classification")
    classes = prepared.classes
    if classes:
        largest, smallest = max(classes.values()), min(classes.values())
        lines.append(
            f"Classes: {len(classes)}, the largest {largest / smallest:.1f} times the smallest: "
            + _classes(classes)
        )
    lines.append(f"Examples: {len(prepared.source.examples):,} read, {_kept(prepared):,} kept")
    return lines


def _kept(prepared: Prepared) -> int:
    return sum(len(output.examples) for output in prepared.outputs)


def _classes(classes: dict[str, int]) -> str:
    total = sum(classes.values())
    shown_classes = [
        f"{quote(label, 30)} {count:,} ({count / total:.0%})"
        for label, count in list(classes.items())[:SHOWN_CLASSES]
    ]
    if len(classes) > SHOWN_CLASSES:
        shown_classes.append(f"and {len(classes) - SHOWN_CLASSES} more")
    return ", ".join(shown_classes)


def _contents(output: Output) -> str:
    text = plural(len(output.examples), "example")
    if output.classes:
        counts = ", ".join(
            f"{quote(label, 20)} {count:,}"
            for label, count in list(output.classes.items())[:SHOWN_CLASSES]
        )
        more = "" if len(output.classes) <= SHOWN_CLASSES else ", ..."
        text += f" ({counts}{more})"
    return text


def _tokens(prepared: Prepared, output: Output) -> dict[str, Any] | None:
    dataset = prepared.results.datasets.get(output.shown)
    return dataset.stats.get("tokens") if dataset else None


def _training(prepared: Prepared) -> list[str]:
    train = prepared.outputs[0]
    figures = _tokens(prepared, train)
    if not figures or figures.get("total") is None:
        if not prepared.format.supported:
            return [
                f"Not counted: tokens and prices are counted for OpenAI's formats, not for "
                f"{prepared.format.description} data"
            ]
        return [
            "Not counted: the token checks (FT6xx) are not selected for these files",
        ]
    lines = []
    for output in prepared.outputs:
        counted = _tokens(prepared, output) or {}
        if counted.get("total") is None:
            continue
        exact = "exact" if counted.get("exact", True) else "estimated"
        what = "training file" if output is train else "validation file"
        lines.append(
            f"{counted['total']:,} tokens in the {what} ({exact}, {counted.get('encoding', '')})"
            if counted.get("encoding")
            else f"{counted['total']:,} tokens in the {what} ({exact})"
        )
    epochs = figures.get("epochs") or default_epochs(len(train.examples))
    model = figures.get("model") or prepared.model
    billed = figures.get("billed")
    line = (
        f"Training {model}: {plural(epochs, 'epoch')} (the default for "
        f"{plural(len(train.examples), 'example')})"
    )
    if billed is not None:
        line += f", {billed:,} tokens billed"
    cost = figures.get("estimated_cost")
    if cost is not None:
        line += f", about {dollars(cost)}"
    elif figures.get("price") is None:
        line += "; its price is unknown: set training-price in [tool.pytest_finetune.models]"
    lines.append(line)
    suggested, _note = _model_for(prepared)
    if suggested != prepared.model:
        # Priced as configured, but that model cannot train the data (FT603).
        lines.append(
            f"{prepared.model} does not fine-tune on {FORMAT_NAMES[prepared.format]} data "
            f"(FT603): the next step names {suggested}, which does"
        )
    return lines


def _next(prepared: Prepared) -> list[str]:
    outputs = prepared.outputs
    folder = outputs[0].path.parent
    target = shown(folder)
    target = "." if target in ("", ".") else target.rstrip("/") + "/"
    lines = [
        "1. Lint the prepared files as your tests will:",
        f"     pytest {target}",
    ]
    source = prepared.settings.source
    if not prepared.format.supported:
        # The training snippet runs OpenAI's jobs: data for other trainers goes to them.
        what = "files" if len(outputs) == 2 else "file"
        lines.append(
            f"2. Train on the {what} with {_TRAINERS.get(prepared.format, 'a trainer')}, which "
            f"takes {prepared.format.description} data"
        )
    elif len(outputs) == 2:
        in_toml = (
            source is not None and source.path is not None and source.path.name != "pyproject.toml"
        )
        config = shown(source.path) if source is not None and source.path else "pyproject.toml"
        table = "[[train]]" if in_toml else "[[tool.pytest_finetune.train]]"
        threshold = (
            "min-accuracy = 0.9"
            if prepared.classes
            else "# add a threshold: max-valid-loss or min-valid-token-accuracy"
        )
        train, valid = (relative_to_config(output.path, prepared.settings) for output in outputs)
        model, note = _model_for(prepared)
        lines += [
            f"2. To train a model and gate on its accuracy, add to {config}:",
            f"     {table}",
            f"     train = {json.dumps(train)}",
            f"     valid = {json.dumps(valid)}",
            f"     model = {json.dumps(model)}" + (f"    # {note}" if note else ""),
            '     backend = "openai"    # or "local": a free baseline, no key needed',
            f"     {threshold}",
            "   (or mark a test: @pytest.mark.finetune(train=..., valid=..., ...)), then run:",
            f"     pytest {target} --finetune-train",
        ]
    else:
        lines += [
            "2. To train and gate on accuracy, hold out validation examples: run prepare "
            "again with --split",
        ]
    conv = prepared.conventions
    if prepared.format is Format.PROMPT_COMPLETION and (conv.separator or conv.stop):
        asks = []
        if conv.separator:
            asks.append(f"end each prompt with {conv.separator.text!r}")
        if conv.stop:
            asks.append(f"pass stop=[{json.dumps(conv.stop.text)}]")
        lines.append(f"3. When you call the fine-tuned model, {' and '.join(asks)}.")
    return lines


def _model_for(prepared: Prepared) -> tuple[str, str | None]:
    """The model the training snippet names, with a note on it when it is not the usual one.

    The configured model (or the default for the data's format) if it fine-tunes on
    the data's format; else the cheapest that does, since the job would fail (FT603).
    """
    config = prepared.settings.config
    spec = model_spec(prepared.model, config, prepared.format, prepared.settings.target)
    if prepared.format in spec.formats:
        return prepared.model, None
    takes = models_for(prepared.format, config)
    if not takes:  # every built-in model overridden away: nothing better to name
        return prepared.model, None
    name = FORMAT_NAMES[prepared.format]
    if len(takes) == 1:
        return takes[0], f"the model for {name} data"
    others = " or ".join(json.dumps(other) for other in takes[1:])
    return takes[0], f"the cheapest model for {name} data; or {others}"
