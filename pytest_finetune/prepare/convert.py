"""Converting the data to the format asked for (``--to``), through OpenAI's formats.

Each example is read as OpenAI data and written in the target format
(:mod:`pytest_finetune.conversions`). Whatever an example holds that the target (or
OpenAI's formats on the way) cannot hold is reported by line and where in the record;
prepare then stops and writes nothing, unless ``--drop-unmappable`` leaves those
examples out. Examples already in the target format are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_finetune.conversions import READABLE, Style, from_openai, to_openai
from pytest_finetune.formats import Format, detect
from pytest_finetune.prepare.read import Example, PrepareError
from pytest_finetune.wording import plural


@dataclass(frozen=True)
class Problem:
    """What one example holds that the conversion cannot map, in words for the user."""

    line: int
    where: str
    reason: str

    def describe(self, display: str) -> str:
        """``path:line: where: reason``."""
        where = f"{self.where}: " if self.where else ""
        return f"{display}:{self.line}: {where}{self.reason}"


@dataclass
class Conversion:
    """What converting did: from which format to which, and the examples left out."""

    source: Format
    target: Format
    #: Examples converted (the others were in the target format already).
    converted: int = 0
    #: The unmappable parts of the examples left out (``--drop-unmappable``).
    dropped: list[Problem] = field(default_factory=list)
    #: Examples left out.
    dropped_examples: int = 0


def convert(
    examples: list[Example],
    source: Format,
    target: Format,
    display: str,
    *,
    style: Style = Style.DEFAULT,
    drop: bool = False,
) -> tuple[list[Example], Conversion]:
    """The examples in format ``target``; PrepareError on unmappable parts, unless ``drop``."""
    result = Conversion(source, target)
    kept: list[Example] = []
    problems: list[Problem] = []
    bad_examples = 0
    for example in examples:
        fmt = detect(example.data)
        if fmt is target and style is Style.DEFAULT:
            kept.append(example)
            continue
        found = _convert(example, fmt, target, style)
        if isinstance(found, list):
            problems += found
            bad_examples += 1
        else:
            kept.append(found)
            result.converted += 1
    if problems and not drop:
        one = bad_examples == 1
        raise PrepareError(
            f"{display}: {plural(bad_examples, 'example')} {'holds' if one else 'hold'} what "
            f"{target.description} data cannot hold; nothing was written. Correct "
            f"{'it' if one else 'them'}, or run again with --drop-unmappable to leave "
            f"{'it' if one else 'them'} out",
            [problem.describe(display) for problem in problems],
        )
    result.dropped = problems
    result.dropped_examples = bad_examples
    return kept, result


def _convert(
    example: Example, fmt: Format, target: Format, style: Style
) -> Example | list[Problem]:
    """The example converted, or what in it cannot be mapped."""
    line = example.line
    if fmt not in READABLE:
        return [Problem(line, "", f"{fmt.description} data, which is not converted")]
    read = to_openai(fmt, example.data)
    problems = [Problem(line, item.where, item.reason) for item in read.unmappable]
    chosen = style if style is not Style.DEFAULT else read.style
    written = from_openai(target, read.data, style=chosen)
    shape = read.format
    problems += [
        Problem(line, f"{item.where} (of the example as {_SHAPES[shape]})", item.reason)
        for item in written.unmappable
    ]
    if problems:
        return problems
    return Example(line, written.data)


_SHAPES = {
    Format.CHAT: "chat",
    Format.PREFERENCE: "OpenAI preference data",
    Format.PROMPT_COMPLETION: "prompt/completion",
}
