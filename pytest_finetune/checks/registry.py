"""The one registry of checks: code -> check class, and the base every check extends.

A check is a small class declared once, with its code, name, severity, formats,
options and documentation. One instance checks one file: the scan feeds it the file's
first records (``begin``), then every record (``visit``) or syntax problem
(``on_problem``), then calls ``finish``; the check keeps only what it needs and
reports findings as it goes. ``pytest-finetune rules``, the catalog pages and the
configuration validator all read this registry, so nothing is listed twice.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_finetune.findings import Severity
from pytest_finetune.formats import SUPPORTED, Format
from pytest_finetune.wording import closest

if TYPE_CHECKING:
    from typing_extensions import Self  # typing's from Python 3.11

    from pytest_finetune.checks.context import ScanContext
    from pytest_finetune.formats import Batch, Record
    from pytest_finetune.reader import Problem, SyntaxProblem

#: The sections every check's docstring has, in this order.
DOC_SECTIONS = ("What it does", "Why it matters", "Example", "Fix")

_CODE = re.compile(r"FT\d{3}")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Family(enum.Enum):
    """Checks are grouped by the first digit of their code."""

    FILE = "FT0"
    PROMPT_COMPLETION = "FT1"
    CHAT = "FT2"
    PREFERENCE = "FT3"
    CONTENT = "FT4"
    LABELS = "FT5"
    TOKENS = "FT6"
    TRAINERS = "FT7"

    @property
    def title(self) -> str:
        """The family's heading in listings."""
        return _FAMILY_TITLES[self]


_FAMILY_TITLES = {
    Family.FILE: "File and syntax",
    Family.PROMPT_COMPLETION: "Prompt/completion",
    Family.CHAT: "Chat",
    Family.PREFERENCE: "Preference",
    Family.CONTENT: "Content",
    Family.LABELS: "Labels and splits",
    Family.TOKENS: "Tokens",
    Family.TRAINERS: "Trainer formats",
}


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """A check without options."""


@dataclasses.dataclass(frozen=True)
class OptionDoc:
    """What the catalog and ``rules`` say of one option of a check."""

    name: str
    default: Any
    doc: str
    minimum: float | None = None

    @property
    def text(self) -> str:
        """The documenting sentence, with the least value if there is one."""
        return self.doc if self.minimum is None else f"{self.doc} At least {self.minimum:g}."


def option(default: Any, doc: str, *, minimum: float | None = None) -> Any:
    """Declare a check option: its default, the sentence that documents it, its least value.

    ``minimum`` (inclusive) is for numbers below which the option means nothing, such as
    a negative count; the configuration refuses such values.
    """
    return dataclasses.field(default=default, metadata={"doc": doc, "minimum": minimum})


class Check:
    """Base of every check: its declaration (class attributes) and per-file state."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    #: The formats the check applies to; ``None``: every file, whatever its format.
    formats: ClassVar[frozenset[Format] | None] = SUPPORTED
    fixable: ClassVar[bool] = False
    #: Whether the check also judges records of the trainers' formats (ShareGPT,
    #: Gemini, ...) read as OpenAI data. ``False`` for rules of OpenAI's schema alone,
    #: and for those the formats' own checks (FT7xx) judge in the file's own terms.
    reads_views: ClassVar[bool] = True
    #: Whether the check runs when ``select`` is not set. An opt-in check (``False``)
    #: runs when named: by code, prefix, name or ``ALL``, as ruff's rules outside its
    #: default set.
    default: ClassVar[bool] = True
    #: The syntax problems (from the reader) this check reports; FT0xx checks only.
    problems: ClassVar[frozenset[Problem]] = frozenset()
    Options: ClassVar[type[Any]] = NoOptions

    def __init__(self, context: ScanContext, options: Any) -> None:
        self.context = context
        self.options = options

    # -- the scan calls these ------------------------------------------------------

    def begin(self, head: list[Record]) -> None:
        """Learn the dataset's conventions from its first records (they are visited later)."""

    def visit(self, record: Record) -> None:
        """Look at one record."""

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        """What the scan calls for each record of format ``fmt``, asked after ``begin``.

        ``visit`` if the check defines one and applies to ``fmt``, else ``None``: no
        call per record. A check that only cares about some records, or whose family
        shares its per-record work (see ``checks/survey.py``), says so here and costs
        nothing on the others.
        """
        if type(self).visit is Check.visit or not type(self).applies_to(fmt):
            return None
        return self.visit

    def batch_visitor(self, fmt: Format) -> Callable[[Batch], None] | None:
        """What the scan calls for a batch of records of format ``fmt``, if not each.

        ``None`` (the default): the scan calls :meth:`visitor` on each record. A check
        whose work on most records is a few tests that whole lists can answer at once
        (``map`` over the texts) returns a callable that does, for the batch, exactly
        what ``visitor(fmt)`` would do on each of its records, and ``visit`` stays the
        reference: the records of a batch that fail the tests go through it. Asked only
        where :meth:`visitor` is not ``None``.
        """
        return None

    def on_problem(self, problem: SyntaxProblem) -> None:
        """Look at one syntax problem of a kind listed in ``problems``."""

    def finish(self) -> None:
        """Report what needs the whole file."""

    def merge(self, later: Self) -> None:
        """Take in what this check kept of a later chunk of the file (``later``'s records).

        A large file is scanned as chunks in parallel, each by its own instance of the
        check, which then merge in file order before ``finish``. A check that keeps
        nothing across records (it reports as it visits) needs nothing here; one that
        keeps counts, classes or fingerprints adds ``later``'s to its own, so that
        ``finish`` reports what one scan of the whole file would.
        """

    # -- checks call this ----------------------------------------------------------

    def report(
        self,
        line: int | None,
        message: str,
        *,
        column: int | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding at a 1-based ``line`` (``None``: about the whole file)."""
        self.context.report(self, line, message, column=column, severity=severity)

    def skip(self, reason: str) -> None:
        """Say that the check cannot run on this file, and why: its item is skipped.

        For what the check needs and the machine lacks (tiktoken's encoding files
        offline), never for what the data lacks: a check with nothing to judge passes.
        """
        self.context.skip(self, reason)

    # -- declaration helpers -------------------------------------------------------

    @classmethod
    def family(cls) -> Family:
        """The family, from the code's first digit."""
        return Family(cls.code[:3])

    @classmethod
    def slug(cls) -> str:
        """``FT003-invalid-json``: the item name and the catalog folder."""
        return f"{cls.code}-{cls.name}"

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring, in Markdown."""
        return _markdown(inspect.cleandoc(cls.__doc__ or "").partition("\n")[0])

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's sections by heading (``What it does``, ...), in Markdown."""
        return _split_sections(_markdown(inspect.cleandoc(cls.__doc__ or "")))

    @classmethod
    def option_docs(cls) -> list[OptionDoc]:
        """The documentation of each option."""
        return [
            OptionDoc(
                field.name.replace("_", "-"),
                field.default,
                _markdown(field.metadata.get("doc", "")),
                field.metadata.get("minimum"),
            )
            for field in dataclasses.fields(cls.Options)
        ]

    @classmethod
    def applies_to(cls, fmt: Format) -> bool:
        """Whether a file of format ``fmt`` gets this check."""
        return cls.formats is None or fmt in cls.formats


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator that adds a check to the registry, validating its declaration."""
    problems = _declaration_problems(cls)
    if problems:
        raise TypeError(f"{cls.__qualname__}: " + "; ".join(problems))
    REGISTRY[cls.code] = cls
    return cls


def _declaration_problems(cls: type[Check]) -> list[str]:
    problems = []
    code = getattr(cls, "code", "")
    if not _CODE.fullmatch(code):
        problems.append(f"code {code!r} is not FT followed by three digits")
    elif code in REGISTRY and REGISTRY[code] is not cls:
        problems.append(f"code {code} is already {REGISTRY[code].__qualname__}")
    name = getattr(cls, "name", "")
    if not _NAME.fullmatch(name):
        problems.append(f"name {name!r} is not kebab-case")
    elif any(other.name == name and other is not cls for other in REGISTRY.values()):
        problems.append(f"name {name!r} is already taken")
    if not isinstance(getattr(cls, "severity", None), Severity):
        problems.append("severity is not a Severity")
    if not dataclasses.is_dataclass(cls.Options):
        problems.append("Options is not a dataclass")
    else:
        for spec in dataclasses.fields(cls.Options):
            minimum = spec.metadata.get("minimum")
            if minimum is not None and spec.default < minimum:
                problems.append(f"option {spec.name} defaults below its minimum {minimum}")
    sections = list(_split_sections(inspect.cleandoc(cls.__doc__ or "")))
    if sections != list(DOC_SECTIONS):
        problems.append(f"docstring sections are {sections}, expected {list(DOC_SECTIONS)}")
    return problems


_LITERAL = re.compile(r"``([^`]+)``")


def _markdown(doc: str) -> str:
    """A docstring as users read it: reStructuredText's double backquotes as Markdown's one."""
    return _LITERAL.sub(r"`\1`", doc)


def _split_sections(doc: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in doc.splitlines():
        heading = line.rstrip(":").strip()
        if heading in DOC_SECTIONS and line.endswith(":") and not line.startswith(" "):
            if current is not None:
                sections[current] = inspect.cleandoc("\n".join(lines))
            current, lines = heading, []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections[current] = inspect.cleandoc("\n".join(lines))
    return sections


def matches(selector: str, check: type[Check]) -> bool:
    """Whether one selector names ``check``."""
    if selector in ("ALL", check.name):
        return True
    return selector.startswith("FT") and check.code.startswith(selector)


def specificity(selector: str, check: type[Check]) -> int:
    """How precisely ``selector`` names ``check`` (ruff: the most specific one wins)."""
    if selector == "ALL":
        return 0
    if selector == check.name:
        return len(check.code)
    return len(selector)


def is_selector(selector: str) -> bool:
    """Whether ``selector`` names at least one registered check."""
    return any(matches(selector, check) for check in REGISTRY.values())


#: Characters typed for the digits they look like: ``FT12O`` is ``FT120``.
_LOOKALIKE_DIGITS = str.maketrans("OoIiLl", "001111")


def suggestion(selector: str) -> str:
    """What to say after ``unknown check 'X'``: the check meant, or where the codes are.

    A code is compared as a code: letters that look like digits are read as them, and
    of the codes one digit away the one sharing the longest start wins (``FT12O`` is
    ``FT120``, not ``FT212``). A name is compared with the names by spelling.
    """
    text = selector.strip()
    if text[:2].upper() == "FT" and 3 <= len(text) <= 6:
        code = "FT" + text[2:].translate(_LOOKALIKE_DIGITS)
        for candidate in (code, code[:5]):
            if is_selector(candidate):
                return f"; did you mean {candidate!r}?"
        near = [
            other
            for other in REGISTRY
            if len(other) == len(code)
            and sum(a != b for a, b in zip(other, code, strict=True)) == 1
        ]
        if near:
            best = max(sorted(near), key=lambda other: _common_start(other, code))
            return f"; did you mean {best!r}?"
        families = ", ".join(f"{family.value} {family.title.lower()}" for family in Family)
        return f"; no check has that code (families: {families}; `pytest-finetune rules` lists all)"
    close = closest(text.lower(), sorted(check.name for check in REGISTRY.values()))
    if close is not None:
        return f"; did you mean {close!r}?"
    return "; `pytest-finetune rules` lists every check by code and name"


def _common_start(one: str, other: str) -> int:
    """How many characters ``one`` and ``other`` share from the start."""
    return next((i for i, (a, b) in enumerate(zip(one, other, strict=True)) if a != b), len(one))
