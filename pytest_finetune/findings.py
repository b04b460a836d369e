"""What a check reports: a finding, its severity and its rendering.

The words of messages (plurals, quotes, "did you mean") are :mod:`pytest_finetune.wording`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pytest_finetune.wording import with_rest


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``severity >= fail_on`` decides failure."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Read ``"error"``, ``"warning"`` or ``"info"`` (any case)."""
        return cls[value.strip().upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one dataset, at a 1-based line (``None``: the whole file)."""

    code: str
    name: str
    severity: Severity
    path: str
    line: int | None
    message: str
    fixable: bool = False
    column: int | None = None

    def location(self) -> str:
        """``path:line:column`` as compilers and ruff print it, omitting what is unknown."""
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """The line users read: ``data/train.jsonl:12: FT120 message``."""
        return f"{self.location()}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The report's view of the finding (schema version 1)."""
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "line": self.line,
            "message": self.message,
            "fixable": self.fixable,
        }
        if self.column is not None:
            data["column"] = self.column
        return data

    @classmethod
    def from_dict(cls, path: str, data: dict[str, Any]) -> Finding:
        """Rebuild a finding sent as a dict (from an xdist worker)."""
        return cls(
            code=data["code"],
            name=data["name"],
            severity=Severity.parse(data["severity"]),
            path=path,
            line=data["line"],
            message=data["message"],
            fixable=data["fixable"],
            column=data.get("column"),
        )


#: Findings shown per check under a failing item; the rest are counted.
SHOWN_PER_CHECK = 20


def render_list(findings: list[Finding], total: int, shown: int = SHOWN_PER_CHECK) -> list[str]:
    """The lines of up to ``shown`` findings, then ``... and N more`` for the rest of ``total``."""
    return with_rest([finding.render() for finding in findings[:shown]], total)
