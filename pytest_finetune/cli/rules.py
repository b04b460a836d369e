"""``pytest-finetune rules``: list the checks, explain some, or regenerate the catalog."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from pytest_finetune import catalog
from pytest_finetune.checks import REGISTRY, Check
from pytest_finetune.checks.registry import suggestion
from pytest_finetune.cli.status import OK, USAGE
from pytest_finetune.outputs import terminal


def add_parser(commands: Any) -> None:
    """Add the command to ``commands`` (argparse's subparsers)."""
    rules = commands.add_parser(
        "rules",
        help="list the checks, or explain one",
        description="List every check, or show the documentation of the ones named.",
    )
    rules.add_argument("checks", nargs="*", metavar="CHECK", help="a code or a name")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    rules.add_argument(
        "--catalog",
        metavar="DIR",
        type=Path,
        help="regenerate every page of the catalog under DIR (the repository's checks/)",
    )
    rules.add_argument(
        "--docs",
        metavar="FILE",
        type=Path,
        nargs="+",
        help="with --catalog: also regenerate the blocks marked <!-- generated: ... --> in "
        "these Markdown files (check counts, tables of checks linking to the catalog)",
    )
    rules.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    if args.catalog:
        if args.checks:
            # The index links every page: a catalog of some checks would be half a catalog.
            print(
                "pytest-finetune: --catalog regenerates every page; name no CHECK with it",
                file=sys.stderr,
            )
            return USAGE
        changed = catalog.write(args.catalog)
        for path in changed:
            print(f"wrote {path}")
        print(f"{len(changed)} page(s) changed under {args.catalog}")
        if args.docs:
            changed = catalog.write_docs(args.docs, args.catalog)
            for path in changed:
                print(f"wrote {path}")
            print(f"{len(changed)} of {len(args.docs)} Markdown file(s) changed")
        return OK
    if args.docs:
        print(
            "pytest-finetune: --docs needs --catalog DIR, the catalog its tables link to",
            file=sys.stderr,
        )
        return USAGE
    checks = sorted(REGISTRY.values(), key=lambda check: check.code)
    if args.checks:
        by_name = {check.name: check for check in checks}
        wanted = []
        for name in args.checks:
            check = REGISTRY.get(name.upper()) or by_name.get(name)
            if check is None:
                print(f"pytest-finetune: unknown check {name!r}{suggestion(name)}", file=sys.stderr)
                return USAGE
            wanted.append(check)
        checks = wanted
    if args.format == "json":
        print(json.dumps([_rule_json(check) for check in checks], indent=2))
    elif args.checks:
        print("\n\n".join(_rule_text(check) for check in checks))
    else:
        width = max(len(check.name) for check in checks)
        columns = terminal.width()
        for check in checks:
            fix = "[*]" if check.fixable else "   "
            opt_in = "" if check.default else " (opt-in)"
            row = f"{check.code}  {check.name:<{width}}  {check.severity!s:<7}  {fix}  "
            for line in terminal.hanging(f"{row}{check.summary()}{opt_in}", columns, len(row)):
                print(line)
    return OK


def _rule_json(check: type[Check]) -> dict[str, object]:
    return {
        "code": check.code,
        "name": check.name,
        "family": check.family().title,
        "severity": str(check.severity),
        "fixable": check.fixable,
        "default": check.default,
        "formats": None if check.formats is None else sorted(f.value for f in check.formats),
        "summary": check.summary(),
        "sections": check.sections(),
        "options": [
            {"name": o.name, "default": o.default, "doc": o.doc, "minimum": o.minimum}
            for o in check.option_docs()
        ],
    }


def _rule_text(check: type[Check]) -> str:
    lines = [
        f"{check.code} {check.name} ({check.severity}"
        f"{', safe fix' if check.fixable else ''}{'' if check.default else ', opt-in'})",
        "",
        check.summary(),
    ]
    for heading, body in check.sections().items():
        lines += ["", f"{heading}:", textwrap.indent(body, "    ")]
    options = check.option_docs()
    if options:
        lines += ["", "Options:"]
        lines += [f"    {o.name} = {o.default!r}: {o.text}" for o in options]
    return "\n".join(lines)
