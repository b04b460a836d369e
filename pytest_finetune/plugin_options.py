"""The plugin's options and ini keys: declared, read into configuration, refused early.

The configuration keys a command line overrides are :mod:`pytest_finetune.overrides`
(``pytest-finetune check`` takes them too); here are the rest of pytest's
``--finetune-*`` options (reports, training, plots), the ini keys (``finetune_*``), and
the checks of the options' paths made before any test runs, not after.
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_finetune import overrides
from pytest_finetune.config_keys import KEYS, MAX_NUMBER, Key
from pytest_finetune.outputs import report


def add(parser: pytest.Parser) -> None:
    """Declare the options (``--finetune-*``) and the ini keys (``finetune_*``)."""
    group = parser.getgroup("finetune", "fine-tuning datasets (pytest-finetune)")
    for name, option in overrides.OPTIONS.items():
        group.addoption(f"--finetune-{name}", **option)
    group.addoption(
        "--finetune-report", metavar="PATH", type=Path, help="Write a JSON report to PATH."
    )
    group.addoption(
        "--finetune-sarif", metavar="PATH", type=Path, help="Write a SARIF 2.1.0 log to PATH."
    )
    group.addoption(
        "--finetune-force",
        action="store_true",
        default=False,
        help="Let --finetune-report and --finetune-sarif replace a file that is not a report "
        "of pytest-finetune (by default refused: it may be a dataset).",
    )
    group.addoption(
        "--finetune-github",
        action="store_true",
        default=None,
        help="Print GitHub Actions annotations (default: on when GITHUB_ACTIONS is set).",
    )
    group.addoption(
        "--no-finetune-github",
        action="store_false",
        dest="finetune_github",
        help="Do not print GitHub Actions annotations.",
    )
    group.addoption(
        "--no-finetune",
        action="store_true",
        default=False,
        help="Do not collect datasets (the finetune marker still works).",
    )
    group.addoption(
        "--finetune-train",
        action="store_true",
        default=False,
        help="Run the training items (finetune marker, [[train]] declarations): train or "
        "reuse, measure, assert thresholds. Without it they are skipped.",
    )
    group.addoption(
        "--finetune-max-cost",
        metavar="USD",
        type=_usd,
        default=None,
        help="Refuse to create a training job estimated to cost more than USD.",
    )
    group.addoption(
        "--finetune-plots",
        metavar="DIR",
        type=Path,
        default=None,
        help="Write charts as HTML into DIR: each trained model's metrics and confusion "
        "matrix, and the class balance of the datasets.",
    )
    group.addoption(
        "--finetune-plots-offline",
        action="store_true",
        default=False,
        help="Embed plotly.js in each chart (4.8 MB a file) so that it opens without a "
        "network; by default the charts load it from its CDN.",
    )
    group.addoption(
        "--finetune-retrain",
        action="store_true",
        default=False,
        help="Start new training jobs even where a job for the same data exists.",
    )
    for name, key in KEYS.items():
        if key.ini:
            parser.addini(Key.ini_name(name), f"pytest-finetune: {key.doc}", type=key.ini)


def _usd(text: str) -> float:
    """A price on the command line: a finite number of dollars, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_NUMBER:  # also false for nan
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of dollars (0 or more)")
    return value


def check_output_paths(config: pytest.Config) -> None:
    """Refuse output paths that cannot be written now, not after every test has run.

    Nor anything the user owns: a dataset, a device, any file that is not one of our
    reports (unless ``--finetune-force``).
    """
    paths = [config.getoption(option) for option in ("--finetune-report", "--finetune-sarif")]
    if len(paths) == 2 and None not in paths and paths[0].resolve() == paths[1].resolve():
        raise pytest.UsageError("--finetune-report and --finetune-sarif name the same file")
    for option in ("--finetune-report", "--finetune-sarif"):
        path: Path | None = config.getoption(option)
        if path is None:
            continue
        if path.is_dir():
            raise pytest.UsageError(f"{option}: {path} is a folder; give the path of a file")
        try:
            target = path.resolve(strict=False) if path.is_symlink() else path
        except (RuntimeError, OSError):  # a loop: RuntimeError before Python 3.13
            raise pytest.UsageError(
                f"{option}: {path} is a symlink loop; give the path of a file"
            ) from None
        if target.exists() and not target.is_file():
            # A device or a pipe would be replaced by a regular file.
            raise pytest.UsageError(
                f"{option}: {path} is not a regular file (a device or a pipe); give the path "
                "of a file"
            )
        if (
            target.is_file()
            and not config.getoption("finetune_force")
            and not report.is_ours(target)
        ):
            raise pytest.UsageError(
                f"{option}: {path} exists and is not a report of pytest-finetune (a "
                "dataset?); it would be replaced: give another path, or --finetune-force"
            )
        blocking = report.not_a_folder(path.parent)
        if blocking is not None:
            raise pytest.UsageError(f"{option}: cannot write {path}: {blocking} is not a folder")
    folder: Path | None = config.getoption("--finetune-plots")
    if folder is not None:
        blocking = report.not_a_folder(folder)
        if blocking == folder:
            raise pytest.UsageError(
                f"--finetune-plots: {folder} is not a folder; give a folder for the charts "
                "(created if missing)"
            )
        if blocking is not None:
            raise pytest.UsageError(
                f"--finetune-plots: cannot create the folder {folder}: {blocking} is not a folder"
            )


#: The options whose value is a path: given as two words, pytest may take it for a test path.
_PATH_OPTIONS = ("--finetune-report", "--finetune-sarif", "--finetune-plots")


def check_rootdir(config: pytest.Config) -> None:
    """Refuse a rootdir that pytest chose from a path option's value given as two words.

    pytest picks the rootdir before it loads plugins, so it reads ``--finetune-report
    /abs/out.json`` as an unknown option and a test path; when that path exists, the
    rootdir (hence the configuration file, ``testpaths`` and the report's paths) moves.
    ``--junitxml`` is immune only because pytest knows it that early. The rootdir pytest
    would have chosen without those values is asked of pytest's own function (skipped
    on a pytest whose internals moved).
    """
    words = list(config.invocation_params.args)
    spaced = [
        (option, value)
        for option, value in itertools.pairwise(words)
        if option in _PATH_OPTIONS and (config.invocation_params.dir / value).exists()
    ]
    if not spaced or config.option.rootdir:
        return
    try:
        from _pytest.config.findpaths import determine_setup  # noqa: PLC0415

        intended = determine_setup(
            inifile=config.option.inifilename,
            override_ini=config.option.override_ini,
            args=config.option.file_or_dir or [],
            rootdir_cmd_arg=None,
            invocation_dir=config.invocation_params.dir,
        )[0]
    except Exception:  # a pytest whose internals moved: nothing to compare with
        return
    if intended == config.rootpath:
        return
    option, value = spaced[0]
    raise pytest.UsageError(
        f"{option} {value}: pytest took {value} for a test path when it chose the rootdir "
        f"(it chose {config.rootpath}, not {intended}), as it does before it knows the "
        f"plugins' options; write {option}={value}"
    )


def ini_table(config: pytest.Config) -> dict[str, Any]:
    """The configuration keys set in pytest's ini file (``finetune_*``)."""
    table = {}
    for name, key in KEYS.items():
        if key.ini:
            value = overrides.ini_value(name, config.getini(Key.ini_name(name)))
            if value:
                table[name] = value
    return table


def cli_table(config: pytest.Config) -> dict[str, Any]:
    """The configuration keys set on the command line (``--finetune-*``)."""
    return overrides.table(lambda name: config.getoption("finetune_" + name.replace("-", "_")))
