"""``pytest-finetune prepare``: fix what can be fixed safely, and split train/valid."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_finetune.cli.lint_files import ini_defaults
from pytest_finetune.cli.status import FAILED, OK, USAGE
from pytest_finetune.config import Settings
from pytest_finetune.conversions import WRITABLE, Style
from pytest_finetune.formats import Format
from pytest_finetune.outputs import terminal
from pytest_finetune.prepare import fixes
from pytest_finetune.prepare.read import SHOWN_PROBLEMS, PrepareError
from pytest_finetune.prepare.run import Options, prepare
from pytest_finetune.prepare.split import DEFAULT_SEED
from pytest_finetune.redact import redact
from pytest_finetune.wording import did_you_mean, with_rest


def add_parser(commands: Any) -> None:
    """Add the command to ``commands`` (argparse's subparsers)."""
    command = commands.add_parser(
        "prepare",
        help="convert, fix what can be fixed safely and split train/valid",
        description="Read a dataset (JSON Lines, JSON, CSV or TSV), convert it to another "
        "format if asked (--to), apply the safe fixes of the checks, split it into "
        "training and validation files (classification data, or --split) and say what to "
        "do next. The input file is never modified and no existing file is overwritten.",
        epilog=_fix_list(),
        formatter_class=_FixListFormatter,
    )
    command.add_argument("path", type=Path, metavar="FILE", help="the data to prepare")
    command.add_argument(
        "-o",
        "--out-dir",
        type=Path,
        metavar="DIR",
        help="where to write the prepared files (default: beside FILE)",
    )
    splitting = command.add_mutually_exclusive_group()
    splitting.add_argument(
        "--split",
        action="store_true",
        default=None,
        help="write _prepared_train.jsonl and _prepared_valid.jsonl (default for "
        "classification data)",
    )
    splitting.add_argument(
        "--no-split", dest="split", action="store_false", help="write one _prepared.jsonl"
    )
    command.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of the split (default {DEFAULT_SEED})"
    )
    command.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help="also apply these fixes (the opt-in ones below, or a safe one the "
        "configuration's selection leaves out)",
    )
    command.add_argument(
        "--no-fix",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help="do not apply these safe fixes",
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change, with examples, and write nothing",
    )
    command.add_argument(
        "--model", metavar="MODEL", help="model for token limits and cost (default: configuration)"
    )
    command.add_argument(
        "--to",
        metavar="FORMAT",
        choices=[fmt.value for fmt in sorted(WRITABLE)],
        help="convert to this format: "
        + ", ".join(fmt.value for fmt in sorted(WRITABLE))
        + " (default: the data's own format, or OpenAI's chat or preference format for "
        "data fine-tuning services do not take)",
    )
    command.add_argument(
        "--style",
        choices=[Style.STANDARD.value, Style.CONVERSATIONAL.value],
        help="for TRL's formats: plain strings (standard) or lists of messages "
        "(conversational, the default); for chosen_rejected: TRL's implicit-prompt "
        "variants instead of hh-rlhf text",
    )
    command.add_argument(
        "--drop-unmappable",
        action="store_true",
        help="leave out the examples that hold what --to FORMAT cannot (an image, a tool "
        "result without its call, ...) instead of stopping; each is listed",
    )
    command.add_argument(
        "--target",
        metavar="TARGET",
        help="where the data goes: openai, azure, together, fireworks, vertex, bedrock or trl "
        "(default: configuration)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    named = _fix_names(args.fix, "--fix")
    skipped = _fix_names(args.no_fix, "--no-fix")
    if named is None or skipped is None:
        return USAGE
    both = sorted(set(named) & set(skipped))
    if both:
        print(
            f"pytest-finetune prepare: {', '.join(both)} given to both --fix and --no-fix",
            file=sys.stderr,
        )
        return USAGE
    # Imported here: the summary imports what the rest of the command line does not need.
    from pytest_finetune.prepare import summary  # noqa: PLC0415

    defaults, _skip = ini_defaults([args.path])
    given = {"model": args.model, "target": args.target}
    settings = Settings(
        defaults=defaults, overrides={key: value for key, value in given.items() if value}
    )
    options = Options(
        path=args.path,
        out_dir=args.out_dir,
        split=args.split,
        seed=args.seed,
        fixes=tuple(named),
        skip=tuple(skipped),
        dry_run=args.dry_run,
        to=Format(args.to) if args.to else None,
        style=Style(args.style) if args.style else Style.DEFAULT,
        drop_unmappable=args.drop_unmappable,
    )
    try:
        prepared = prepare(options, settings)
    except PrepareError as error:
        _refusal(error)
        return USAGE if error.usage else FAILED
    for line in summary.render(prepared):
        print(line)
    return OK


class _FixListFormatter(argparse.HelpFormatter):
    """argparse's wrapping for the description; the fix list keeps a row a fix, wrapped.

    Each row's summary continues under itself (or under an indent in a narrow
    terminal), so that the list reads as a table at any width.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if not text.startswith(_FIX_LIST):
            return super()._fill_text(text, width, indent)
        lines = []
        for line in text.splitlines():
            row = len(line) - len(line.split("  ")[-1].lstrip()) if line.startswith(" ") else 4
            lines += terminal.hanging(line, width, row)
        return "\n".join(lines)


_FIX_LIST = "fixes (safe ones run by default"


def _fix_list() -> str:
    lines = [f"{_FIX_LIST}; opt-in ones only when named with --fix):"]
    width = max(len(fix.name) for fix in fixes.FIXES)
    for fix in fixes.FIXES:
        kind = "always" if fix.always else "safe" if fix.safe else "opt-in"
        lines.append(
            f"  {fix.name:<{width}}  {kind:<6}  {','.join(fix.codes):<11}  "
            + fix.summary().replace("``", "")
        )
    return "\n".join(lines)


def _fix_names(values: list[str], option: str) -> list[str] | None:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if name not in fixes.BY_NAME:
            hint = did_you_mean(name, fixes.BY_NAME)
            print(
                f"pytest-finetune prepare: {option}: unknown fix {name!r}{hint} (see --help)",
                file=sys.stderr,
            )
            return None
        if option == "--no-fix" and fixes.BY_NAME[name].always:
            print(
                f"pytest-finetune prepare: --no-fix: {name!r} is part of writing JSON Lines "
                "and cannot be turned off",
                file=sys.stderr,
            )
            return None
    return names


def _refusal(error: PrepareError) -> None:
    print(f"pytest-finetune prepare: {redact(error.message)}", file=sys.stderr)
    shown = [f"  {redact(detail)}" for detail in error.details[:SHOWN_PROBLEMS]]
    for line in with_rest(shown, len(error.details), indent="  "):
        print(line, file=sys.stderr)
