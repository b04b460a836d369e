"""One run of prepare: read, fix, split, write (unless a dry run), and lint what it wrote.

The prepared files are linted with the project's configuration, as ``pytest`` will lint
them, so that the summary can give their classes, tokens and cost and say what is
left to fix by hand. A dry run lints copies in a temporary folder and writes nothing
beside the data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune import models, targets
from pytest_finetune.checks import REGISTRY
from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.conventions import CLASSIFICATION_RATIO, Conventions, Task, label_of
from pytest_finetune.conversions import READABLE, Style, openai_shape
from pytest_finetune.formats import CONVERSIONS, Format, Record, closest_format, detect, detect_file
from pytest_finetune.lint import DETECTION_RECORDS
from pytest_finetune.outputs.report import not_a_folder
from pytest_finetune.outputs.results import RunResults
from pytest_finetune.paths import shown
from pytest_finetune.prepare import fixes, split, write
from pytest_finetune.prepare.convert import Conversion, convert
from pytest_finetune.prepare.fixes import Change, Fix, FixContext
from pytest_finetune.prepare.read import Example, PrepareError, Source, read
from pytest_finetune.prepare.split import DEFAULT_SEED
from pytest_finetune.scan import scan
from pytest_finetune.wording import plural


@dataclass(frozen=True)
class Options:
    """What the user asked of prepare."""

    path: Path
    out_dir: Path | None = None
    #: Split into training and validation files; ``None``: if the data is classification.
    split: bool | None = None
    seed: int = DEFAULT_SEED
    #: Fixes named with ``--fix`` (run even if unsafe) and ``--no-fix`` (not run).
    fixes: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    #: The format to write (``--to``); ``None``: the data's own, or OpenAI's for it.
    to: Format | None = None
    #: The variant of the format to write, where it has several (``--style``).
    style: Style = Style.DEFAULT
    #: Leave out the examples that hold what the format cannot (``--drop-unmappable``).
    drop_unmappable: bool = False


@dataclass
class Output:
    """One prepared file: where it goes, how it is shown, and what it holds."""

    path: Path
    shown: str
    examples: list[Example]
    classes: dict[str, int] | None = None


@dataclass
class Prepared:
    """Everything one run did, for the summary."""

    source: Source
    shown: str
    format: Format
    changes: list[Change]
    conventions: Conventions
    #: Class counts of the prepared data (``None``: not classification).
    classes: dict[str, int] | None
    outputs: list[Output]
    #: The lint of the prepared files.
    results: RunResults
    settings: FileSettings
    model: str
    options: Options
    notes: list[str] = field(default_factory=list)
    #: What converting to another format did (``None``: no conversion).
    conversion: Conversion | None = None

    @property
    def task(self) -> Task:
        """What the prepared data trains."""
        return self.conventions.task


def chosen_fixes(
    settings: FileSettings, named: Iterable[str], skipped: Iterable[str]
) -> list[type[Fix]]:
    """The fixes to run: safe ones whose checks are selected, plus those named, less skipped."""
    named, skipped = set(named), set(skipped)
    selected = {check.code for check in settings.checks}
    chosen = []
    for fix in fixes.FIXES:
        wanted = fix.safe and any(code in selected or code not in REGISTRY for code in fix.codes)
        if fix.always or fix.name in named or (wanted and fix.name not in skipped):
            chosen.append(fix)
    return chosen


def prepare(options: Options, settings: Settings) -> Prepared:
    """Prepare one file; raises PrepareError (with what to do) when it cannot."""
    source_shown = shown(options.path)
    if options.out_dir is not None:
        _check_out_dir(options.out_dir)
    source = read(options.path, source_shown)
    fmt = detect_file(example.data for example in source.examples[:DETECTION_RECORDS])
    # The settings of where the files go: what `pytest` will lint them with.
    guess = write.output_paths(options.path, options.out_dir, split=False)[0]
    file_settings = settings.for_file(guess)
    fmt, examples, conversion, notes = _converted(
        options, source, fmt, source_shown, file_settings.target
    )
    # An unknown model is a configuration error: say so before writing anything.
    model = models.model_spec(
        file_settings.model, file_settings.config, fmt, file_settings.target
    ).name
    context = FixContext(fmt, source, file_settings)
    examples, changes = fixes.run(
        examples, chosen_fixes(file_settings, options.fixes, options.skip), context
    )
    if not examples:
        raise PrepareError(f"{source_shown}: no example is left after the fixes; nothing to write")
    conv = context.conventions(examples)
    label = _labeller(examples, conv)
    splitting = options.split if options.split is not None else label is not None
    if splitting and split.valid_size(len(examples)) == 0:
        notes.append("Too few examples to split; wrote them all to one file")
        splitting = False
    paths = write.output_paths(options.path, options.out_dir, split=splitting)
    if splitting:
        halves = split.split(examples, seed=options.seed, label=label)
        parts = [halves.train, halves.valid]
    else:
        parts = [examples]
    outputs = [
        Output(path, shown(path), part, _count(part, label) if label else None)
        for path, part in zip(paths, parts, strict=True)
    ]
    names = {output.path: output.shown for output in outputs}
    if options.dry_run:
        try:
            write.refuse_existing(paths, names)
        except PrepareError as error:
            notes.append(f"A real run would stop here: {error.message}")
        results = _lint_copies(outputs, settings)
    else:
        write.recover(paths)  # what a killed run left
        write.refuse_existing(paths, names)
        write.write_all([(o.path, write.encode(o.examples)) for o in outputs], names)
        results = _lint(outputs, settings, {output.path: output.path for output in outputs})
    return Prepared(
        source=source,
        shown=source_shown,
        format=fmt,
        changes=changes,
        conventions=conv,
        classes=_count(examples, label) if label else None,
        outputs=outputs,
        results=results,
        settings=file_settings,
        model=model,
        options=options,
        notes=notes,
        conversion=conversion,
    )


def _converted(
    options: Options, source: Source, fmt: Format, display: str, goes_to: targets.Target
) -> tuple[Format, list[Example], Conversion | None, list[str]]:
    """The examples in the format to write: ``--to``'s, or what the target takes of them."""
    target = options.to or _for_target(goes_to, fmt, display, source)
    examples = list(source.examples)
    if target is None:
        note = (
            f"{goes_to.title} does not fine-tune on {fmt.description} data, and it converts "
            f"to nothing {goes_to.title} takes; written as it is"
        )
        return fmt, examples, None, [note]
    notes = _elsewhere(goes_to, target) if options.to else []
    if target is fmt and options.style is Style.DEFAULT:
        return fmt, examples, None, notes
    # A dry run shows what converting leaves out, and says that a real run would stop.
    examples, conversion = convert(
        examples,
        fmt,
        target,
        display,
        style=options.style,
        drop=options.drop_unmappable or options.dry_run,
    )
    if conversion.dropped and not options.drop_unmappable:
        notes.append(
            f"A real run would stop here: {plural(conversion.dropped_examples, 'example')} "
            "cannot be converted; --drop-unmappable leaves "
            f"{'it' if conversion.dropped_examples == 1 else 'them'} out"
        )
    if not examples:
        raise PrepareError(
            f"{display}: no example is left after converting; nothing to write",
            [problem.describe(display) for problem in conversion.dropped],
        )
    return target, examples, conversion, notes


def _elsewhere(goes_to: targets.Target, fmt: Format) -> list[str]:
    """A note on data written for another target than the configured one, naming it."""
    if fmt in goes_to.accepted:
        return []
    names = [name for name, other in targets.TARGETS.items() if fmt in other.accepted]
    if not names:
        return []
    choice = " or ".join(f'target = "{name}"' for name in names)
    return [
        f"{goes_to.title} (the configured target) does not fine-tune on {fmt.description} "
        f"data: set {choice} so that pytest lints the files as their trainer takes them"
    ]


def _for_target(
    goes_to: targets.Target, fmt: Format, display: str, source: Source
) -> Format | None:
    """The format the target takes that data of ``fmt`` converts to (``None``: none does)."""
    preferred = targets.preferred_format(goes_to, fmt)
    if preferred in goes_to.accepted:
        return preferred
    if fmt not in READABLE:
        raise PrepareError(_unsupported(display, fmt, source.examples, goes_to))
    # Read as OpenAI's data, where the target takes that (an unpaired KTO example as chat).
    shape = openai_shape(fmt)
    return shape if shape in goes_to.accepted else None


def _check_out_dir(folder: Path) -> None:
    """Refuse an ``--out-dir`` that is, or is under, a file: before any work is done."""
    blocking = not_a_folder(folder)
    if blocking == folder:
        raise PrepareError(
            f"--out-dir: {shown(folder)} is not a folder; give a folder to write into "
            "(created if missing)",
            usage=True,
        )
    if blocking is not None:
        raise PrepareError(
            f"--out-dir: cannot create the folder {shown(folder)}: {shown(blocking)} is not "
            "a folder",
            usage=True,
        )


def _unsupported(where: str, fmt: Format, examples: list[Example], goes_to: targets.Target) -> str:
    if fmt is not Format.UNKNOWN:
        return (
            f"{where}: this is {fmt.description} data, which {goes_to.title} does not "
            f"fine-tune on; {CONVERSIONS[fmt]}"
        )
    keys = sorted({str(key) for example in examples[:DETECTION_RECORDS] for key in example.data})
    closest, hints = closest_format(keys)
    message = (
        f"{where}: unrecognised format (keys: {', '.join(keys) or 'none'}); expected "
        "prompt and completion (columns, for CSV), chat (messages) or preference data"
    )
    if closest is not Format.UNKNOWN and hints:
        message += f"; rename {', '.join(hints)}"
    return message


def _labeller(examples: list[Example], conv: Conventions) -> Any:
    """The class label of an example, if the data is classification (as FT5xx decide it)."""
    if conv.task is not Task.CLASSIFICATION:
        return None

    def label(example: Example) -> str | None:
        return label_of(Record(example.line, b"", example.data, detect(example.data)), conv)

    counts = _count(examples, label)
    if "task" not in conv.declared and len(counts) * CLASSIFICATION_RATIO >= len(examples):
        return None  # the head looked like classification; the whole file does not
    return label


def _count(examples: list[Example], label: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for example in examples:
        name = label(example)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _lint_copies(outputs: list[Output], settings: Settings) -> RunResults:
    """Lint what a real run would write, from copies in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="pytest-finetune-prepare-") as folder:
        copies = {}
        for output in outputs:
            copy = Path(folder) / output.path.name
            with copy.open("wb") as stream:
                stream.writelines(write.encode(output.examples))
            copies[output.path] = copy
        return _lint(outputs, settings, copies)


def _lint(outputs: list[Output], settings: Settings, files: dict[Path, Path]) -> RunResults:
    """Lint the prepared data with the settings of where it goes, as `pytest` will."""
    results = RunResults()
    shared: dict[str, Any] = {}
    for output in outputs:
        file_settings = settings.for_file(output.path)
        fmt = detect_file(example.data for example in output.examples[:DETECTION_RECORDS])
        file_settings.checks = [check for check in file_settings.checks if check.applies_to(fmt)]
        result = scan(files[output.path], output.shown, fmt, file_settings, shared)
        results.add_scan(result)
    return results


def relative_to_config(path: Path, settings: FileSettings) -> str:
    """``path`` as a ``[[train]]`` entry writes it: relative to the configuration's folder.

    Without a configuration file, relative to the working folder (where pyproject.toml
    would be); absolute when it is not under that folder.
    """
    root = settings.source.root if settings.source and settings.source.path else Path.cwd()
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
