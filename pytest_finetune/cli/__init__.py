"""The ``pytest-finetune`` command: the linter outside pytest, prepare, and the registry.

``check`` runs the checks the plugin runs, with the same configuration (the closest
``[tool.pytest_finetune]`` or ``finetune.toml``, and the ``finetune_*`` keys of pytest's
own configuration file), and prints the same findings: for pre-commit hooks, editors
and scripts. Exit status: 1 when a finding fails (``fail-on``), 2 on a usage or
configuration error, else 0.

One module per command (:mod:`.rules`, :mod:`.check`, :mod:`.stats`, :mod:`.prepare`,
:mod:`.jobs`);
:mod:`.linting` is what ``check`` and ``stats`` share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pytest_finetune import __version__
from pytest_finetune.catalog import CatalogError
from pytest_finetune.cli import check, jobs, prepare, rules, stats
from pytest_finetune.cli.status import OK, USAGE
from pytest_finetune.config_keys import ConfigError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return USAGE
    try:
        status: int = args.run(args)
    except BrokenPipeError:  # `pytest-finetune rules | head`
        sys.stderr.close()
        return OK
    except (ConfigError, CatalogError) as error:
        print(f"pytest-finetune: {error}", file=sys.stderr)
        return USAGE
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-finetune",
        description="Lint fine-tuning datasets; see also `pytest DATA_DIR`.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="show the version"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in (rules, check, stats, prepare, jobs):
        command.add_parser(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
