"""Shared helpers: build a project of datasets in a temporary folder and lint it."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# pytester's in-process runs unload modules first imported during a run, and numpy
# (imported lazily by the fingerprint logs) cannot be loaded twice in one process:
# load it before any run.
import numpy  # noqa: F401
import pytest

from pytest_finetune import extensions

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
#: Real datasets from public repositories, with their sources and licences (README.md).
REAL = ROOT / "tests" / "data" / "real"
TIKTOKEN = SHARED / "tiktoken"

# Offline machines get tiktoken's encodings from the shared folder; a user's own
# cache setting wins.
if TIKTOKEN.is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN))
# The encodings' decoded tables (pytest_finetune.tokenizer_cache) are kept in a folder
# of the run's own, not the user's ~/.cache; xdist's workers and the pytest runs that
# tests start inherit it, and it goes when the run ends.
if "PYTEST_FINETUNE_CACHE_DIR" not in os.environ:
    _TABLES = tempfile.mkdtemp(prefix="pytest-finetune-tables-")
    os.environ["PYTEST_FINETUNE_CACHE_DIR"] = _TABLES
    atexit.register(shutil.rmtree, _TABLES, ignore_errors=True)


def _encodings_available() -> bool:
    from pytest_finetune import token_counting  # noqa: PLC0415 (after TIKTOKEN_CACHE_DIR is set)

    return all(token_counting.counter(name).exact for name in ("o200k_base", "cl100k_base"))


#: Whether tiktoken's encodings load (from the network, the cache or ../shared/tiktoken).
ENCODINGS = _encodings_available()
#: For tests of exact token counts: without the encodings the linter estimates, and
#: these tests are skipped rather than failed.
needs_encodings = pytest.mark.skipif(
    not ENCODINGS, reason="tiktoken's encoding files are unavailable (offline, no ../shared)"
)

#: For tests of named pipes (a reader blocks until a writer opens one) and /dev/null.
needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@dataclass
class Lint:
    """The outcome of a pytest run over a project of datasets."""

    result: pytest.RunResult
    report: dict[str, Any]

    @property
    def output(self) -> str:
        return self.result.stdout.str()

    def dataset(self, path: str) -> dict[str, Any]:
        for dataset in self.report["datasets"]:
            if dataset["path"] == path:
                return dataset  # type: ignore[no-any-return]
        raise KeyError(f"{path} not in report: {[d['path'] for d in self.report['datasets']]}")

    def findings(self, path: str, code: str | None = None) -> list[tuple[int | None, str]]:
        """``(line, code)`` of each finding in ``path`` (of ``code`` only, if given)."""
        return [
            (finding["line"], finding["code"])
            for finding in self.dataset(path)["findings"]
            if code is None or finding["code"] == code
        ]

    def lines(self, path: str, code: str) -> list[int | None]:
        return [line for line, _ in self.findings(path, code)]


#: The functions of the lint's C module, as its stub declares them (see extensions.py).
COMPILED = re.findall(r"^def (\w+)\(", (ROOT / "pytest_finetune" / "_native.pyi").read_text(), re.M)


def python_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint in pure Python: the C module's functions left unused."""
    for name in COMPILED:
        monkeypatch.setattr(extensions, name, None)


@pytest.fixture(params=["python", "c"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test in pure Python, then with the C module where it is built and used."""
    if request.param == "python":
        python_only(monkeypatch)
    elif any(getattr(extensions, name) is None for name in COMPILED):
        pytest.skip(f"the C module is not built, or {extensions.DISABLE} is set")
    return str(request.param)


@pytest.fixture(autouse=True)
def _terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # The output of inner pytest runs (the short summary's " - reason" tails, the
    # summary table) depends on the terminal width: pin it, so that a CI runner's wide
    # or narrow terminal reads the same as a developer's.
    monkeypatch.setenv("COLUMNS", "80")


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, "utf-8")
        else:
            path.write_bytes(content)


def validate_report(data: Any) -> None:
    """Raise if ``data`` does not follow the report's JSON Schema (shipped in the package)."""
    import jsonschema  # noqa: PLC0415  (the test extra)

    from pytest_finetune.outputs.report import SCHEMA_FILE  # noqa: PLC0415

    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


@pytest.fixture
def lint(pytester: pytest.Pytester):
    """Write ``files`` into a fresh project, run pytest on it, parse the JSON report."""

    def run(files: Mapping[str, str | bytes], *args: str, subprocess: bool = False) -> Lint:
        write_files(pytester.path, files)
        report = pytester.path / ".report.json"
        arguments = ["-p", "no:cacheprovider", f"--finetune-report={report}", *args]
        if subprocess:
            result = pytester.runpytest_subprocess(*arguments)
        else:
            result = pytester.runpytest(*arguments)
        data = json.loads(report.read_text("utf-8")) if report.exists() else {}
        if data:
            # Every report the suite reads is held to the published schema.
            validate_report(data)
        return Lint(result, data)

    return run


@pytest.fixture(autouse=True, scope="session")
def _temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The training state's lock files (one a state file and job key) and Dask's
    # scratch space go to the system's temporary folder, and stay there: a folder of
    # the run's own takes them (and those of the pytest runs it starts), not /tmp.
    folder = tmp_path_factory.mktemp("tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(folder))
        patch.setattr(tempfile, "tempdir", str(folder))
        yield
