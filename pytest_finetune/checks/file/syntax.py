"""FT001-FT012: can the file be read as JSON Lines: text, one JSON object per line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_finetune.checks.registry import Check, register
from pytest_finetune.findings import Severity
from pytest_finetune.reader import Problem, SyntaxProblem

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_finetune.checks.context import ScanContext


_CONVERT = "run `pytest-finetune prepare FILE` to convert it"


class _ProblemCheck(Check):
    """A check that reports each syntax problem of its kind as one finding."""

    formats = None

    def on_problem(self, problem: SyntaxProblem) -> None:
        self.report(problem.line, self.describe(problem), column=problem.column)

    def describe(self, problem: SyntaxProblem) -> str:
        raise NotImplementedError


@register
class EmptyFile(_ProblemCheck):
    """The file holds no data.

    What it does:
        Reports a file of zero bytes or of nothing but whitespace.

    Why it matters:
        An empty training file is rejected on upload; an empty validation file is
        usually a split that went wrong.

    Example:
        A file created by ``touch data/train.jsonl`` and never filled.

    Fix:
        Fill the file with examples, or delete it.
    """

    code = "FT001"
    name = "empty-file"
    severity = Severity.ERROR
    problems = frozenset({Problem.EMPTY_FILE})

    def describe(self, problem: SyntaxProblem) -> str:
        what = problem.detail or "no bytes"
        return f"The file is empty ({what}); add examples or delete it"


@register
class BinaryFile(_ProblemCheck):
    """The file is not text: compressed, an archive, or another binary format.

    What it does:
        Looks at the first bytes of the file for the signatures of gzip, zip,
        Parquet, SQLite and UTF-16, and for control bytes that text does not hold.

    Why it matters:
        Fine-tuning services take UTF-8 JSON Lines; a compressed or binary file is
        rejected, and reading it line by line would only produce noise.

    Example:
        ``data/train.jsonl`` that is really ``train.jsonl.gz`` renamed.

    Fix:
        Decompress or export the data as UTF-8 JSON Lines.
    """

    code = "FT002"
    name = "binary-file"
    severity = Severity.ERROR
    problems = frozenset({Problem.BINARY_FILE})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"The file is not JSON Lines text: it is {problem.detail}"


@register
class InvalidJson(_ProblemCheck):
    """A line is not valid JSON.

    What it does:
        Parses every line on its own and reports those that fail, with the column
        where parsing stopped. Reading goes on with the next line, so every broken
        line is reported.

    Why it matters:
        The service rejects the whole file for one unparsable line, after the upload.

    Example:
        ``{"prompt": "Hello ->", "completion": " world",}`` (a trailing comma).

    Fix:
        Correct the line (or delete it); JSON needs double quotes, no trailing commas
        and escaped control characters.
    """

    code = "FT003"
    name = "invalid-json"
    severity = Severity.ERROR
    problems = frozenset({Problem.INVALID_JSON})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"Invalid JSON: {problem.detail}"


@register
class InvalidUtf8(_ProblemCheck):
    """A line holds bytes that are not UTF-8.

    What it does:
        Reports each line with bytes that do not decode as UTF-8, with the offset of
        the first bad byte in the file.

    Why it matters:
        JSON text must be UTF-8; such a line is rejected, or its text is mangled.
        Files exported from spreadsheets in Latin-1 or Windows-1252 are the usual cause.

    Example:
        A line containing the byte ``0xE9`` (``é`` in Latin-1) instead of ``0xC3 0xA9``.

    Fix:
        Re-encode the file as UTF-8 (``iconv -f latin1 -t utf-8``), or fix the line.
    """

    code = "FT004"
    name = "invalid-utf8"
    severity = Severity.ERROR
    problems = frozenset({Problem.INVALID_UTF8})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"Invalid UTF-8: {problem.detail}; re-save the file as UTF-8"


@register
class NotAnObject(_ProblemCheck):
    """A line is valid JSON but not an object.

    What it does:
        Reports lines that hold an array, a string, a number, a boolean or null.

    Why it matters:
        Every example must be one JSON object (``{"prompt": ..., "completion": ...}``
        or ``{"messages": [...]}``); anything else is rejected.

    Example:
        ``["What is 2+2? ->", " 4"]``

    Fix:
        Write each example as an object with the keys of its format.
    """

    code = "FT005"
    name = "not-an-object"
    severity = Severity.ERROR
    problems = frozenset({Problem.NOT_AN_OBJECT})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"The line holds {problem.detail}, not a JSON object"


@register
class NotJsonLines(_ProblemCheck):
    """The file is one JSON document (an array, or pretty-printed) instead of JSON Lines.

    What it does:
        Recognises a JSON array or JSON values spread over several lines, reports it
        once for the file, and says how to convert it instead of reporting every line
        as broken. A ``.json`` file holding an array of examples is read as the
        dataset it is (element by element, each at the line it starts on) and is not
        reported: the extension says it is JSON, not JSON Lines.

    Why it matters:
        JSON Lines is one object per line; services reject arrays and pretty-printed
        files, and the error they give does not say why.

    Example:
        A file starting with ``[`` on its own line, then ``{`` and indented keys.

    Fix:
        Convert with ``pytest-finetune prepare FILE``, or ``jq -c '.[]' FILE`` for an
        array and ``jq -c . FILE`` for pretty-printed objects.
    """

    code = "FT006"
    name = "not-json-lines"
    severity = Severity.ERROR
    fixable = True
    problems = frozenset({Problem.JSON_DOCUMENT})

    def describe(self, problem: SyntaxProblem) -> str:
        jq = "jq -c '.[]' FILE" if "array" in problem.detail else "jq -c . FILE"
        return (
            f"The file is {problem.detail}, not JSON Lines (one object per line); "
            f"{_CONVERT}, or `{jq} > out.jsonl`"
        )


@register
class BlankLine(_ProblemCheck):
    r"""A line is empty or holds only whitespace.

    What it does:
        Reports blank lines between or after examples.

    Why it matters:
        JSON Lines has no empty lines; strict readers, the upload validation among
        them, fail on them. In a ``.json`` array, blank lines are JSON's whitespace
        and are not reported.

    Example:
        Two examples separated by an empty line, or a file ending in ``\n\n``.

    Fix:
        Delete the blank lines (``pytest-finetune prepare`` does).
    """

    code = "FT007"
    name = "blank-line"
    severity = Severity.ERROR
    fixable = True
    problems = frozenset({Problem.BLANK_LINE})

    def describe(self, problem: SyntaxProblem) -> str:
        return "Blank line; JSON Lines has one object on every line"


@register
class CrlfLineEnding(Check):
    r"""Lines end with CRLF (Windows line endings).

    What it does:
        Counts the lines that end with ``\r\n`` and reports the first, once per file.

    Why it matters:
        Most readers accept them, but the ``\r`` ends up in diffs and in tools that
        split on ``\n``, and a mix of endings is a sign of files pasted together. In a
        ``.json`` array, line endings are JSON's whitespace and are not reported.

    Example:
        A file saved by a Windows editor.

    Fix:
        Convert to LF (``dos2unix``, or ``pytest-finetune prepare``).
    """

    code = "FT008"
    name = "crlf-line-ending"
    severity = Severity.WARNING
    fixable = True
    formats = None
    problems = frozenset({Problem.CRLF})

    def __init__(self, context: ScanContext, options: Any) -> None:
        super().__init__(context, options)
        self.first: int | None = None
        self.count = 0

    # When lines end with CRLF, they all do: one finding per file, not per line.
    def on_problem(self, problem: SyntaxProblem) -> None:
        self.count += 1
        if self.first is None:
            self.first = problem.line

    def merge(self, later: Self) -> None:
        self.count += later.count
        if self.first is None:
            self.first = later.first

    def finish(self) -> None:
        if self.count == 1:
            self.report(self.first, "This line ends with CRLF (\\r\\n); use LF line endings")
        elif self.count:
            self.report(
                self.first,
                f"{self.count:,} lines end with CRLF (\\r\\n), the first here; use LF line endings",
            )


@register
class ByteOrderMark(_ProblemCheck):
    r"""The file starts with a UTF-8 byte order mark.

    What it does:
        Reports the three bytes ``EF BB BF`` at the start of the file.

    Why it matters:
        JSON forbids a byte order mark; parsers that do not expect it fail on the first
        line, and the first key may be read as ``\ufeffprompt``.

    Example:
        A file saved as "UTF-8 with BOM" by Notepad or Excel.

    Fix:
        Re-save as UTF-8 without BOM (``pytest-finetune prepare`` removes it).
    """

    code = "FT009"
    name = "byte-order-mark"
    severity = Severity.ERROR
    fixable = True
    problems = frozenset({Problem.BOM})

    def describe(self, problem: SyntaxProblem) -> str:
        return "The file starts with a UTF-8 byte order mark; remove it"


@register
class DuplicateKey(_ProblemCheck):
    """An object has the same key twice.

    What it does:
        Reports objects (at any depth) in which a key appears more than once. Opt-in:
        proving that no key was dropped costs about as much as parsing the line, for a
        problem JSON writers never create (only hand edits and text surgery do), so it
        runs when selected (``extend-select = ["FT010"]``).

    Why it matters:
        JSON parsers keep one of the values, silently: the example that trains is not
        the one in the file.

    Example:
        ``{"prompt": "a ->", "completion": " b", "completion": " c"}``

    Fix:
        Keep one value for the key.
    """

    code = "FT010"
    name = "duplicate-key"
    severity = Severity.WARNING
    default = False
    problems = frozenset({Problem.DUPLICATE_KEY})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"Key {problem.detail!r} appears twice in one object; only the last value is kept"


@register
class LineTooLong(_ProblemCheck):
    """A line is too long to read.

    What it does:
        Reports lines longer than ``max-line-bytes`` (64 MiB by default, set at the top
        of the configuration) without holding them in memory; in a ``.json`` array, an
        element longer than that (read as far as its end, if the array can be followed).

    Why it matters:
        No fine-tuning example is that long; such a line is a file written without
        newlines or a blob pasted into a field.

    Example:
        A file of 100 MB with no newline in it.

    Fix:
        Split the content into one example per line.
    """

    code = "FT011"
    name = "line-too-long"
    severity = Severity.ERROR
    problems = frozenset({Problem.LINE_TOO_LONG})

    def describe(self, problem: SyntaxProblem) -> str:
        return f"The line is {problem.detail}"


@register
class MissingFinalNewline(_ProblemCheck):
    r"""The last line does not end with a newline.

    What it does:
        Reports a file whose last byte is not ``\n``.

    Why it matters:
        Harmless to the services, but appending to the file (``cat a.jsonl b.jsonl``)
        joins two examples on one line. A ``.json`` array is not appended to so: its
        last line is not reported.

    Example:
        A file written with ``"\n".join(lines)``.

    Fix:
        End the file with a newline.
    """

    code = "FT012"
    name = "missing-final-newline"
    severity = Severity.INFO
    fixable = True
    problems = frozenset({Problem.MISSING_FINAL_NEWLINE})

    def describe(self, problem: SyntaxProblem) -> str:
        return "No newline at the end of the file"
