"""The ``pytest-finetune`` command: the linter outside pytest, prepare, and the registry.

``check`` runs the checks the plugin runs, with the same configuration (the closest
``[tool.pytest_finetune]`` or ``finetune.toml``, and the ``finetune_*`` keys of pytest's
own configuration file), and prints the same findings: for pre-commit hooks, editors
and scripts. Exit status: 1 when a finding fails (``fail-on``), 2 on a usage or
configuration error, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_finetune import catalog
from pytest_finetune.checks import REGISTRY, Check
from pytest_finetune.config import Settings
from pytest_finetune.findings import Severity, did_you_mean, plural
from pytest_finetune.lint import NORECURSEDIRS, find_datasets, plan
from pytest_finetune.outputs import github, report, sarif, summary
from pytest_finetune.outputs.results import RunResults
from pytest_finetune.prepare import fixes
from pytest_finetune.prepare.read import SHOWN_PROBLEMS, PrepareError
from pytest_finetune.prepare.run import Options, prepare, shown
from pytest_finetune.prepare.split import DEFAULT_SEED
from pytest_finetune.scan import scan
from pytest_finetune.schema import KEYS, ConfigError, Key

#: Exit statuses, as pytest and ruff use them.
OK, FAILED, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        status: int = args.run(args)
    except BrokenPipeError:  # `pytest-finetune rules | head`
        sys.stderr.close()
        return OK
    except ConfigError as error:
        print(f"pytest-finetune: {error}", file=sys.stderr)
        return USAGE
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-finetune",
        description="Lint fine-tuning datasets; see also `pytest DATA_DIR`.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
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
        help="regenerate the catalog pages under DIR (the repository's checks/)",
    )
    rules.set_defaults(run=_rules)

    check = commands.add_parser(
        "check",
        help="run the checks on datasets, as `pytest` does",
        description="Run the checks the pytest plugin runs, with the same configuration, "
        "and print the findings. Exit status: 1 if a finding fails (fail-on), 2 on a "
        "usage or configuration error, 0 otherwise.",
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path()],
        metavar="PATH",
        help="dataset files, or folders to search for them (default: .)",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="text: path:line: CODE message lines, then the statistics; json: the report "
        "of --finetune-report; sarif: SARIF 2.1.0; github: GitHub Actions annotations",
    )
    _selection_options(check)
    check.set_defaults(run=_check)

    stats = commands.add_parser(
        "stats",
        help="the summary table for datasets: format, examples, classes, tokens, cost, findings",
        description="Lint datasets and print the summary: format, examples, classes, "
        "tokens, estimated cost and findings by code.",
    )
    stats.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="dataset files")
    stats.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    _selection_options(stats)
    stats.set_defaults(run=_stats)

    prepare_command = commands.add_parser(
        "prepare",
        help="fix what can be fixed safely and split train/valid",
        description="Read a dataset (JSON Lines, JSON, CSV or TSV), apply the safe fixes of "
        "the checks, split it into training and validation files (classification data, "
        "or --split) and say what to do next. The input file is never modified and no "
        "existing file is overwritten.",
        epilog=_fix_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prepare_command.add_argument("path", type=Path, metavar="FILE", help="the data to prepare")
    prepare_command.add_argument(
        "-o",
        "--out-dir",
        type=Path,
        metavar="DIR",
        help="where to write the prepared files (default: beside FILE)",
    )
    splitting = prepare_command.add_mutually_exclusive_group()
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
    prepare_command.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of the split (default {DEFAULT_SEED})"
    )
    prepare_command.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help="also apply these fixes (the opt-in ones below, or a safe one the "
        "configuration's selection leaves out)",
    )
    prepare_command.add_argument(
        "--no-fix",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help="do not apply these safe fixes",
    )
    prepare_command.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change, with examples, and write nothing",
    )
    prepare_command.add_argument(
        "--model", metavar="MODEL", help="model for token limits and cost (default: configuration)"
    )
    prepare_command.set_defaults(run=_prepare)
    return parser


def _selection_options(command: argparse.ArgumentParser) -> None:
    """The plugin's --finetune-* selection options, under their short names."""
    command.add_argument(
        "--select",
        metavar="CHECKS",
        help="checks to run (codes, prefixes "
        "such as FT1, names, ALL), replacing 'select' from the configuration",
    )
    command.add_argument("--extend-select", metavar="CHECKS", help="checks to run in addition")
    command.add_argument("--ignore", metavar="CHECKS", help="checks not to run")
    command.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="lowest severity that fails (default: error)",
    )
    command.add_argument("--model", metavar="MODEL", help="target model for token limits and cost")


def _fix_list() -> str:
    lines = ["fixes (safe ones run by default; opt-in ones only when named with --fix):"]
    width = max(len(fix.name) for fix in fixes.FIXES)
    for fix in fixes.FIXES:
        kind = "always" if fix.always else "safe" if fix.safe else "opt-in"
        lines.append(
            f"  {fix.name:<{width}}  {kind:<6}  {','.join(fix.codes):<11}  "
            + fix.summary().replace("``", "")
        )
    return "\n".join(lines)


def _rules(args: argparse.Namespace) -> int:
    if args.catalog:
        changed = catalog.write(args.catalog)
        for path in changed:
            print(f"wrote {path}")
        print(f"{len(changed)} page(s) changed under {args.catalog}")
        return 0
    checks = sorted(REGISTRY.values(), key=lambda check: check.code)
    if args.checks:
        by_name = {check.name: check for check in checks}
        wanted = []
        for name in args.checks:
            check = REGISTRY.get(name.upper()) or by_name.get(name)
            if check is None:
                print(f"pytest-finetune: unknown check {name!r}", file=sys.stderr)
                return 2
            wanted.append(check)
        checks = wanted
    if args.format == "json":
        print(json.dumps([_rule_json(check) for check in checks], indent=2))
    elif args.checks:
        print("\n\n".join(_rule_text(check) for check in checks))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            fix = "[*]" if check.fixable else "   "
            print(
                f"{check.code}  {check.name:<{width}}  {check.severity!s:<7}  {fix}  "
                f"{check.summary()}"
            )
    return 0


def _rule_json(check: type[Check]) -> dict[str, object]:
    return {
        "code": check.code,
        "name": check.name,
        "family": check.family().title,
        "severity": str(check.severity),
        "fixable": check.fixable,
        "formats": None if check.formats is None else sorted(f.value for f in check.formats),
        "summary": check.summary(),
        "sections": check.sections(),
        "options": [
            {"name": name, "default": default, "doc": doc}
            for name, default, doc in check.option_docs()
        ],
    }


def _rule_text(check: type[Check]) -> str:
    lines = [
        f"{check.code} {check.name} ({check.severity}{', safe fix' if check.fixable else ''})",
        "",
        check.summary(),
    ]
    for heading, body in check.sections().items():
        lines += ["", f"{heading}:", textwrap.indent(body, "    ")]
    options = check.option_docs()
    if options:
        lines += ["", "Options:"]
        lines += [f"    {name} = {default!r}: {doc}" for name, default, doc in options]
    return "\n".join(lines)


# -- check and stats ---------------------------------------------------------------


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's part of the configuration, as the plugin's options give it."""
    table: dict[str, Any] = {}
    for name in ("select", "extend-select", "ignore"):
        value = getattr(args, name.replace("-", "_"), None)
        if value:
            table[name] = [part.strip() for part in value.split(",") if part.strip()]
    for name in ("fail-on", "model"):
        value = getattr(args, name.replace("-", "_"), None)
        if value:
            table[name] = value
    return table


def ini_defaults(paths: Sequence[Path]) -> tuple[dict[str, Any], list[str]]:
    """The ``finetune_*`` keys and ``norecursedirs`` of the pytest configuration for ``paths``.

    Found as pytest finds its configuration file, with pytest's own function (``None``
    of it, on a pytest whose internals moved: the keys are then not read).
    """
    try:
        from _pytest.config.findpaths import locate_config  # noqa: PLC0415

        try:
            found = locate_config(Path.cwd(), list(paths))
        except TypeError:  # pytest before 8.1 took the arguments only
            found = locate_config(list(paths))  # type: ignore[call-arg, arg-type]
        values: dict[str, Any] = dict(found[2])
    except Exception:  # a pytest that reads its configuration otherwise
        return {}, list(NORECURSEDIRS)
    table: dict[str, Any] = {}
    for name, key in KEYS.items():
        value = _ini_value(values.get(Key.ini_name(name)), key.ini)
        if key.ini and value:
            table[name] = value
    skip = _ini_value(values.get("norecursedirs"), "args")
    return table, (skip if isinstance(skip, list) else list(NORECURSEDIRS))


def _ini_value(raw: Any, kind: str | None) -> Any:
    value = getattr(raw, "value", raw)  # pytest 9 wraps values with their origin
    if isinstance(value, str):
        if kind == "linelist":
            return [line.strip() for line in value.splitlines() if line.strip()]
        if kind == "args":
            return value.split()
        return value.strip()
    return value


def _settings(args: argparse.Namespace, paths: Sequence[Path]) -> tuple[Settings, list[str]]:
    defaults, skip = ini_defaults(paths)
    return Settings(defaults=defaults, overrides=_overrides(args)), skip


def _lint_all(
    paths: Sequence[Path], settings: Settings, skip: Sequence[str]
) -> tuple[RunResults, int, list[str]] | None:
    """Lint every dataset: the results, how many findings fail, and the checks that crashed.

    ``None`` (after saying why) when a path does not exist.
    """
    missing = [path for path in paths if not path.exists()]
    if missing:
        for path in missing:
            print(f"pytest-finetune: {path}: no such file or folder", file=sys.stderr)
        return None
    results = RunResults()
    shared: dict[str, Any] = {}
    failing = 0
    crashes = []
    for path in find_datasets(paths, settings, skip=skip):
        fmt, file_settings = plan(path, settings)
        result = scan(path, shown(path), fmt, file_settings, shared)
        results.add_scan(result, file_settings.fail_on)
        for outcome in result.outcomes.values():
            failing += outcome.failing(file_settings.fail_on)
            if outcome.crash is not None:
                crashes.append(
                    f"pytest-finetune bug: check {outcome.code} crashed on {shown(path)} "
                    f"{outcome.crash}"
                )
    for path in paths:
        if path.is_file() and not settings.is_dataset(path):
            print(
                f"pytest-finetune: {path}: skipped, not a dataset by the configuration's "
                "include and exclude (as pytest would)",
                file=sys.stderr,
            )
    return results, failing, crashes


def _check(args: argparse.Namespace) -> int:
    settings, skip = _settings(args, args.paths)
    linted = _lint_all(args.paths, settings, skip)
    if linted is None:
        return USAGE
    results, failing, crashes = linted
    if args.format == "json":
        print(json.dumps(report.build(results), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(sarif.build(results), indent=2, ensure_ascii=False))
    elif args.format == "github":
        for line in github.commands(results.findings()):
            print(line)
    else:
        for line in _text(results):
            print(line)
    for crash in crashes:
        print(crash, file=sys.stderr)
    if crashes:
        return USAGE
    return FAILED if failing else OK


def _text(results: RunResults) -> list[str]:
    """Findings as ``path:line: CODE message``, then the summary and the statistics (ruff)."""
    if not results.datasets:
        return ["No dataset found."]
    lines = []
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        lines += [finding.render() for finding in dataset.all_findings()]
        for code, findings in sorted(dataset.findings.items()):
            more = sum(dataset.counts.get(code, {}).values()) - len(findings)
            if more > 0:
                lines.append(f"{dataset.path}: ... and {more:,} more {code} findings")
    counts: dict[Severity, int] = {}
    fixable = 0
    for dataset in results.datasets.values():
        for code, by_severity in dataset.counts.items():
            for severity, count in by_severity.items():
                counts[severity] = counts.get(severity, 0) + count
            check = REGISTRY.get(code)
            if check is not None and check.fixable:
                fixable += sum(by_severity.values())
    total = sum(counts.values())
    if lines:
        lines.append("")
    lines += summary.dataset_table(results)
    statistics = summary.statistics(results)
    if statistics:
        lines += ["", *statistics]
    files = plural(len(results.datasets), "file")
    if not total:
        lines += ["", f"All checks passed ({files})."]
        return lines
    severities = ", ".join(
        plural(counts[severity], str(severity)) for severity in sorted(counts, reverse=True)
    )
    lines += ["", f"Found {plural(total, 'finding')} in {files} ({severities})."]
    if fixable:
        have = "has" if fixable == 1 else "have"
        lines.append(
            f"[*] {plural(fixable, 'finding')} {have} a safe fix: "
            "run `pytest-finetune prepare FILE`."
        )
    return lines


def _stats(args: argparse.Namespace) -> int:
    settings, skip = _settings(args, args.paths)
    linted = _lint_all(args.paths, settings, skip)
    if linted is None:
        return USAGE
    results, _failing, crashes = linted
    if args.format == "json":
        print(json.dumps(report.build(results), indent=2, ensure_ascii=False))
    else:
        for line in _stats_text(results):
            print(line)
    for crash in crashes:
        print(crash, file=sys.stderr)
    return USAGE if crashes else OK


def _stats_text(results: RunResults) -> list[str]:
    if not results.datasets:
        return ["No dataset found."]
    lines = summary.dataset_table(results)
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        classes = dataset.stats.get("classes")
        if classes:
            total = sum(classes.values())
            largest, smallest = max(classes.values()), min(classes.values())
            lines += [
                "",
                f"{dataset.path}: {len(classes)} classes, the largest "
                f"{largest / smallest:.1f} times the smallest",
            ]
            lines += [
                f"  {label!r:<30} {count:>8,}  {count / total:6.1%}"
                for label, count in classes.items()
            ]
        tokens = dataset.stats.get("tokens")
        if tokens and tokens.get("total") is not None:
            lines += ["", f"{dataset.path}: {_token_line(tokens)}"]
    figures = summary.figures(results)
    if figures:
        lines += ["", *figures]
    statistics = summary.statistics(results)
    if statistics:
        lines += ["", *statistics]
    return lines


def _token_line(tokens: dict[str, Any]) -> str:
    exact = "exact" if tokens.get("exact", True) else "estimated"
    line = f"{tokens['total']:,} tokens ({exact}"
    if tokens.get("encoding"):
        line += f", {tokens['encoding']}"
    line += ")"
    if tokens.get("max") is not None:
        line += f", the longest example {tokens['max']:,}"
    if tokens.get("epochs"):
        line += f"; {plural(tokens['epochs'], 'epoch')} of {tokens.get('model', 'the model')}"
        if tokens.get("billed") is not None:
            line += f", {tokens['billed']:,} tokens billed"
        if tokens.get("estimated_cost") is not None:
            line += f", about ${tokens['estimated_cost']:,.2f}"
    return line


# -- prepare -----------------------------------------------------------------------


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


def _prepare(args: argparse.Namespace) -> int:
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
    from pytest_finetune.prepare import summary as prepare_summary  # noqa: PLC0415

    defaults, _skip = ini_defaults([args.path])
    settings = Settings(defaults=defaults, overrides={"model": args.model} if args.model else {})
    options = Options(
        path=args.path,
        out_dir=args.out_dir,
        split=args.split,
        seed=args.seed,
        fixes=tuple(named),
        skip=tuple(skipped),
        dry_run=args.dry_run,
    )
    try:
        prepared = prepare(options, settings)
    except PrepareError as error:
        _refusal(error, print_error=lambda line: print(line, file=sys.stderr))
        return FAILED
    for line in prepare_summary.render(prepared):
        print(line)
    return OK


def _refusal(error: PrepareError, print_error: Callable[[str], None]) -> None:
    print_error(f"pytest-finetune prepare: {error.message}")
    for detail in error.details[:SHOWN_PROBLEMS]:
        print_error(f"  {detail}")
    if len(error.details) > SHOWN_PROBLEMS:
        print_error(f"  ... and {len(error.details) - SHOWN_PROBLEMS:,} more")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
