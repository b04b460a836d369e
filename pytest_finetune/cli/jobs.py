"""``pytest-finetune jobs``: the saved fine-tuning jobs, and cancelling one left running.

It reads the configuration pytest reads (the closest ``[tool.pytest_finetune]`` or
``finetune.toml`` above the current folder, or ``--config``): the state file, and
the connection settings of each backend, so that a job is cancelled at the service
that runs it (the configured ``base-url`` or Azure ``endpoint``) with the key of its
configured variable. This is the command printed when Ctrl-C stops following a job.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Any

from pytest_finetune.cli.status import FAILED, OK, USAGE
from pytest_finetune.config import Settings
from pytest_finetune.config_file import ConfigSource, read_config_file
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.redact import redact
from pytest_finetune.training.backends import make_backend
from pytest_finetune.training.backends.base import JobNotFound, Refused
from pytest_finetune.training.backends.table import BACKENDS
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.state import JobEntry, JobStore, StateError

#: Where pytest keeps the state unless ``state-file`` says otherwise (its cache).
CACHED_STATE = Path(".pytest_cache", "d", "finetune", "jobs.json")


def add_parser(commands: Any) -> None:
    """Add the command to ``commands`` (argparse's subparsers)."""
    jobs = commands.add_parser(
        "jobs",
        help="the fine-tuning jobs the state file knows; cancel one",
        description="List the saved fine-tuning jobs, or cancel one, at the service and "
        "with the key that the configuration names (as pytest --finetune-train does).",
    )
    actions = jobs.add_subparsers(title="commands", metavar="COMMAND")
    listing = actions.add_parser(
        "list", help="the saved jobs", description="List the jobs of the state file."
    )
    cancel = actions.add_parser(
        "cancel",
        help="cancel a job left running",
        description="Cancel a fine-tuning job at its service. Exit status: 1 when the "
        "service refuses, 2 on a usage or configuration error, else 0.",
    )
    cancel.add_argument("job", metavar="JOB", help="the job's id (ftjob-...)")
    cancel.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        help="the job's backend (default: the state file's, else openai)",
    )
    for command in (listing, cancel):
        command.add_argument(
            "--config",
            type=Path,
            metavar="FILE",
            help="the pyproject.toml or finetune.toml to read (default: the closest above "
            "the current folder)",
        )
        command.add_argument(
            "--state-file",
            type=Path,
            metavar="FILE",
            help="the job state (default: the configuration's state-file, else pytest's cache)",
        )
    listing.set_defaults(run=run_list)
    cancel.set_defaults(run=run_cancel)
    jobs.set_defaults(run=lambda args: _help(jobs))


def run_list(args: argparse.Namespace) -> int:
    """List the saved jobs."""
    _settings, store = _configured(args)
    if store is None:
        print("No job state found: no fine-tuning job was started from here.")
        return OK
    try:
        entries = store.entries()
    except StateError as error:
        print(f"pytest-finetune: {error}", file=sys.stderr)
        return USAGE
    if not entries:
        print(f"No job in {store.path}.")
        return OK
    rows = [("job", "backend", "status", "model", "train", "updated")]
    for entry in sorted(entries, key=lambda entry: entry.updated):
        rows.append(
            (
                entry.job or "-",
                entry.backend,
                entry.status or "-",
                entry.fine_tuned_model or entry.base_model or "-",
                entry.train,
                str(datetime.datetime.fromtimestamp(int(entry.updated))),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            redact(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        )
    return OK


def run_cancel(args: argparse.Namespace) -> int:
    """Cancel one job at its service."""
    settings, store = _configured(args)
    backend_name = args.backend or _saved_backend(store, args.job) or "openai"
    try:
        backend = make_backend(backend_name, settings)
        try:
            job = backend.retrieve(args.job)
            if job.finished:
                done = f"Job {job.id} at {backend_name} has finished ({job.status})"
                print(f"{done}: nothing to cancel.")
                return OK
            job = backend.cancel(args.job)
        finally:
            backend.close()
    except JobNotFound:
        print(f"pytest-finetune: {backend_name} knows no job {args.job}.", file=sys.stderr)
        return FAILED
    except Refused as refused:
        print(f"pytest-finetune: {redact(str(refused))}", file=sys.stderr)
        return FAILED
    print(f"Cancelled job {job.id} at {backend_name} ({job.status}).")
    return OK


def _configured(args: argparse.Namespace) -> tuple[TrainingSettings, JobStore | None]:
    """The training settings the configuration gives, and the state file, if any."""
    source = _source(args.config)
    root = source.root if source else Path.cwd()
    table = source.table if source else {}
    settings = TrainingSettings.from_table(table.get("training"), root)
    path = args.state_file or settings.state_file or _cached_state(Path.cwd())
    return settings, JobStore(path) if path is not None else None


def _source(config: Path | None) -> ConfigSource | None:
    if config is None:
        return Settings().source_for(Path.cwd() / CACHED_STATE.parts[0])
    if not config.is_file():
        raise ConfigError(f"--config {config}: no such file")
    source = read_config_file(config)
    if source is None:
        raise ConfigError(f"--config {config}: it has no [tool.pytest_finetune] table")
    return source


def _cached_state(folder: Path) -> Path | None:
    """The state file in pytest's cache of ``folder``, or of the closest folder above."""
    for candidate in (folder, *folder.parents):
        if (candidate / CACHED_STATE).is_file():
            return candidate / CACHED_STATE
    return None


def _saved_backend(store: JobStore | None, job: str) -> str | None:
    if store is None:
        return None
    try:
        entries: list[JobEntry] = store.entries()
    except StateError:
        return None
    return next((entry.backend for entry in entries if entry.job == job), None)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return USAGE
