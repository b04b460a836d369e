"""Job state: which job trains which data, saved before any waiting.

The key is a hash of the training bytes, the validation bytes, the backend and the
job parameters (base model, hyperparameters, seed, suffix): the same key means the
same model, so a finished job is reused and a running one is followed again instead
of paying for a second one. Thresholds are not part of the key: changing what is
asserted does not retrain.

The store is one JSON file (under the pytest cache by default, or a file committed
with the data), rewritten atomically under a lock so that parallel workers and
interrupted runs never see half of it. A per-key lock makes "look for a job, else
create one" atomic across xdist workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_finetune.outputs.report import write_json

#: The job metadata field that carries the key, so the provider's job list finds it.
METADATA_KEY = "pytest_finetune_key"
_CHUNK = 1 << 20


def job_key(train: Path, valid: Path, backend: str, parameters: Mapping[str, Any]) -> str:
    """The hex SHA-256 that identifies one model: data, backend and job parameters."""
    digest = hashlib.sha256()
    for name, path in (("train", train), ("valid", valid)):
        digest.update(f"{name}:{path.stat().st_size}\n".encode())
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    digest.update(f"backend:{backend}\n".encode())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass
class JobEntry:
    """What is saved about one key's job."""

    key: str
    backend: str
    train: str
    valid: str
    base_model: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    job: str | None = None
    status: str | None = None
    fine_tuned_model: str | None = None
    #: The id of the last job event shown: a resumed run shows only later ones.
    last_event: str | None = None
    updated: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobEntry:
        """An entry read back from the store (unknown fields from newer versions dropped)."""
        known = cls.__dataclass_fields__
        return cls(**{name: value for name, value in data.items() if name in known})


class JobStore:
    """Entries by key in one JSON file; every write is atomic and locked."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: str) -> JobEntry | None:
        """The saved entry of ``key``."""
        data = self._read().get(key)
        return JobEntry.from_dict(data) if isinstance(data, dict) else None

    def entries(self) -> list[JobEntry]:
        """Every saved entry."""
        return [
            JobEntry.from_dict(data) for data in self._read().values() if isinstance(data, dict)
        ]

    def put(self, entry: JobEntry) -> None:
        """Save ``entry`` (replacing the one of its key)."""
        entry.updated = time.time()
        with self._locked(self._lock_path("file")):
            entries = self._read()
            entries[entry.key] = asdict(entry)
            self._write(entries)

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Hold the lock of ``key``: one process at a time looks for, or creates, its job."""
        with self._locked(self._lock_path(key[:16])):
            yield

    def _lock_path(self, name: str) -> Path:
        # Lock files live in the temporary folder: a committed state file's folder
        # stays clean, and every process on the machine agrees on the path.
        where = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"pytest-finetune-{where}-{name}.lock"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise StateError(
                f"Cannot read the job state file {self.path}: {error}. Fix or delete it "
                "(jobs already created are found again through their metadata)."
            ) from None
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return jobs if isinstance(jobs, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        write_json(self.path, {"version": 1, "jobs": dict(sorted(entries.items()))})

    @contextlib.contextmanager
    def _locked(self, lock: Path) -> Iterator[None]:
        with lock.open("a") as handle:
            _lock(handle.fileno())
            try:
                yield
            finally:
                _unlock(handle.fileno())


class StateError(Exception):
    """The state file exists but cannot be read."""


try:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
