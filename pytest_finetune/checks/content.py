"""FT4xx: content, in every format: repeated examples, and text that should not train.

Two kinds of check live here. Duplicates and conflicting labels compare examples across
the file: they log a 64-bit fingerprint of each example's input and target
(:mod:`pytest_finetune.fingerprints`) and group them once, at the end, so memory grows
with the number of examples, never with their text.

The others look inside each example. Most records have none of their problems, so one
cheap pass over the record (:class:`Screen`) says which problems it could have, and
only those records' texts are searched. All FT4xx checks share one survey of the file
(:class:`_Pass`): one call per record for the family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pytest_finetune import conventions
from pytest_finetune.checks.registry import Check, register
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.findings import Severity
from pytest_finetune.fingerprints import Fingerprints, Group, fingerprint
from pytest_finetune.formats import Format, Record, freeze, last_assistant, texts
from pytest_finetune.redact import SECRET_KINDS, Secret, find_secrets

if TYPE_CHECKING:
    from pytest_finetune.scan import ScanContext


def _quote(text: str, limit: int = 60) -> str:
    """``repr`` of a piece of data, truncated: invisible characters stay visible."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _lines(lines: list[int], shown: int = 5) -> str:
    listed = ", ".join(str(line) for line in lines[:shown])
    return listed + (f" and {len(lines) - shown:,} more" if len(lines) > shown else "")


# -- the screen: which records may have a problem -----------------------------------

# The screen's alphabet. Lowercase letters and spaces (most of any text) are dropped.
# What could belong to a key or a card number (capitals, digits, '-', '_') becomes
# 'A', so that a long run of 'A' is a long token. Bytes that start rarer problems
# become '!'. Other punctuation becomes '.', which ends a run. Two variants: one reads
# a record's raw JSON line (quotes, backslashes and openers stay, to tell JSON's own
# braces and escapes from the text's), one reads the texts themselves.
_TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
#: C0 controls other than tab, newline and carriage return, and DEL.
_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_DROP = bytes(
    byte for byte in range(256) if chr(byte).islower() or byte in b" \t\r\n" or byte >= 0x80
)


def _table(rare: bytes, kept: bytes) -> bytes:
    return bytes(
        ord("A")
        if byte in _TOKEN
        else ord("!")
        if byte in rare
        else byte
        if byte in kept
        else ord(".")
        for byte in range(256)
    )


_RAW_TABLE = _table(b"@<|\x7f", b'"\\{[')
_TEXT_TABLE = _table(b"@<|{[" + _CONTROLS, b"")
#: A run this long in the screen is a token that may be a key or a card number.
_LONG_RUN = b"A" * 13
# In the raw line, control characters and surrogates hide behind escapes.
_ESCAPE = re.compile(rb"\\[ubf]")


class Flag:
    """What a record may contain, as bits: the screen's answer."""

    NON_ASCII = 1
    CONTROL = 2  # a control character or a lone surrogate (an escape, in raw JSON)
    EMAIL = 8
    LONG_TOKEN = 16
    BRACE = 32
    BRACKET = 64
    ANGLE = 128  # '<' or '|': a placeholder or a special token


class Screen:
    """One cheap pass over a record: the flags of the problems its texts may have.

    ``need`` says which flags anyone wants; the others are not computed. A flag may be
    a false alarm (the texts are then searched for nothing) but is never missing.
    Most records are read through their raw JSON line, escapes and all; a
    prompt/completion record with no other keys is read through its two texts, which
    spares telling JSON's escapes and braces from the text's.
    """

    def __init__(self, need: int) -> None:
        self.need = need
        self.control = bool(need & Flag.CONTROL)
        self.long = bool(need & Flag.LONG_TOKEN)
        self.brace = bool(need & Flag.BRACE)
        self.bracket = bool(need & Flag.BRACKET)

    def raw(self, raw: bytes) -> int:
        """The flags of a raw JSON line."""
        found = 0 if raw.isascii() else Flag.NON_ASCII
        rest = raw.translate(_RAW_TABLE, _DROP)
        if b"!" in rest:
            found |= _rare(raw)
        if self.control and b"\\" in rest and _ESCAPE.search(raw):
            found |= Flag.CONTROL
        if self.long and _LONG_RUN in rest:
            found |= Flag.LONG_TOKEN
        # JSON's own braces and brackets open an object ('{"') or hold values ('[{',
        # '["'); any other is in a text.
        if self.brace and rest.count(b"{") > rest.count(b'{"'):
            found |= Flag.BRACE
        if (
            self.bracket
            and b"[" in rest
            and rest.count(b"[") > rest.count(b"[{") + rest.count(b'["')
        ):
            found |= Flag.BRACKET
        return found & self.need

    def clean(self, texts: list[str]) -> bool:
        """Whether none of ``texts`` can have a problem: one pass for many records."""
        blob = ".".join(texts).encode("utf-8", "surrogatepass")
        if self.need & Flag.NON_ASCII and not blob.isascii():
            return False
        rest = blob.translate(_TEXT_TABLE, _DROP)
        return b"!" not in rest and not (self.long and _LONG_RUN in rest)

    def texts(self, prompt: str, completion: str) -> int:
        """The flags of a prompt and its completion."""
        found = 0 if prompt.isascii() and completion.isascii() else Flag.NON_ASCII
        text = f"{prompt}.{completion}".encode("utf-8", "surrogatepass")
        rest = text.translate(_TEXT_TABLE, _DROP)
        if b"!" in rest:
            found |= _rare(text)
            if b"{" in text:
                found |= Flag.BRACE
            if b"[" in text:
                found |= Flag.BRACKET
            if len(text.translate(None, _CONTROLS)) < len(text):
                found |= Flag.CONTROL
        if self.long and _LONG_RUN in rest:
            found |= Flag.LONG_TOKEN
        return found & self.need


def _rare(data: bytes) -> int:
    found = Flag.EMAIL if b"@" in data else 0
    if b"<" in data or b"|" in data:
        found |= Flag.ANGLE
    if b"\x7f" in data:
        found |= Flag.CONTROL
    return found


@dataclass
class _Hit:
    """The first problem of one kind in a record, and how many there were."""

    where: str
    what: str
    count: int = 1


_PROMPT_COMPLETION = Format.PROMPT_COMPLETION


class _Pass(Survey):
    """Visits each record once for every FT4xx check of the file.

    It logs a fingerprint of each example's input and target (for FT401, FT402), and
    screens its texts, searching them only when the screen flags something. Plain
    prompt/completion records are screened :data:`BATCH` at a time: one pass over
    many records costs less than one per record, and a clean batch (most are) needs
    nothing more; a flagged batch is screened again record by record.
    """

    BATCH = 32

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.log: Fingerprints | None = None
        self.screen = Screen(0)
        #: A prompt/completion dataset's stop sequence (FT409 leaves it to FT13x).
        self.stop = ""
        if context.format is Format.PROMPT_COMPLETION:
            self.stop = conventions.of(context, head).stop.text
        #: Plain prompt/completion records waiting to be screened, and their texts.
        self._batch: list[Record] | None = None
        self._texts: list[str] = []
        self._add: Callable[[int, int, int], None] | None = None
        self._groups: list[Group] | None = None

    def join(self, check: Check) -> None:
        super().join(check)
        if not isinstance(check, _ContentCheck):
            return
        if check.examples and self.log is None:
            self.log = Fingerprints()
            self._add = self.log.add
        self.screen = Screen(self.screen.need | check.flags)
        if self.screen.need and self._batch is None:
            self._batch = []

    def visit(self, record: Record) -> None:
        data = record.data
        if record.format is _PROMPT_COMPLETION:
            prompt, completion = data.get("prompt"), data.get("completion")
            if type(prompt) is str and type(completion) is str:
                # formats.example, without a call per record.
                if self._add is not None:
                    self._add(hash(prompt), record.line, hash(completion))
                if self._batch is not None and len(data) == 2:
                    self._batch.append(record)
                    self._texts.append(prompt)
                    self._texts.append(completion)
                    if len(self._batch) >= self.BATCH:
                        self._flush()
                    return
        elif self.log is not None:
            self._log(record)
        if self.screen.need:
            flags = self.screen.raw(record.raw)
            if flags:
                self._inspect(record, flags)

    def _log(self, record: Record) -> None:
        # The inputs and targets of formats.example, fingerprinted
        # through canonical JSON: six times faster than hashing frozen tuples.
        add, data = self._add, record.data
        if add is None:
            return
        if record.format is Format.CHAT:
            messages = data.get("messages")
            if not isinstance(messages, list):
                return
            last = last_assistant(messages)
            if last is None:
                return
            key = _canonical(messages[:last])
            if data.get("tools"):
                key = hash((key, _canonical(data["tools"])))
            add(key, record.line, _canonical(messages[last]))
        elif record.format is Format.PREFERENCE:
            inputs = data.get("input")
            if not isinstance(inputs, dict) or "preferred_output" not in data:
                return
            preferred = _canonical(data["preferred_output"])
            other = _canonical(data.get("non_preferred_output"))
            pair = (preferred, other) if preferred < other else (other, preferred)
            add(hash((_canonical(inputs), pair)), record.line, preferred)

    def _flush(self) -> None:
        records, texts = self._batch, self._texts
        if not records:
            return
        self._batch, self._texts = [], []
        if self.screen.clean(texts):
            return
        for index, record in enumerate(records):
            flags = self.screen.texts(texts[2 * index], texts[2 * index + 1])
            if flags:
                self._inspect(record, flags)

    def conclude(self) -> None:
        self._flush()

    def groups(self) -> list[Group]:
        """Fingerprints seen more than once (computed once for FT401 and FT402)."""
        if self._groups is None:
            self._groups = [] if self.log is None else list(self.log.groups())
        return self._groups

    def _inspect(self, record: Record, flags: int) -> None:
        hits: dict[str, _Hit] = {}

        def hit(code: str, where: str, what: str) -> None:
            if code in hits:
                hits[code].count += 1
            else:
                hits[code] = _Hit(where, what)

        checks = self.members
        if flags & (Flag.EMAIL | Flag.LONG_TOKEN) and ("FT404" in checks or "FT405" in checks):
            for where, text in _strings(record.data):
                for secret in find_secrets(text):
                    code = "FT404" if secret.kind in SECRET_KINDS else "FT405"
                    if code in checks and not secret.reserved:
                        hit(code, where, _describe_secret(secret))
        for where, text in texts(record):
            if not text.isascii():
                if flags & (Flag.NON_ASCII | Flag.CONTROL):
                    self._non_ascii(text, where, hit)
            elif flags & Flag.CONTROL and "FT407" in checks:
                for match in _CONTROL.finditer(text):
                    hit("FT407", where, match.group())
            if flags & (Flag.BRACE | Flag.BRACKET | Flag.ANGLE) and "FT403" in checks:
                for placeholder in placeholders(text):
                    hit("FT403", where, placeholder)
            if flags & Flag.ANGLE and "FT409" in checks:
                for token in special_tokens(text, record, where, self.stop):
                    hit("FT409", where, token)
        for code, found in hits.items():
            check = checks[code]
            if isinstance(check, _ContentCheck):
                check.found(record, found)

    def _non_ascii(self, text: str, where: str, hit: Callable[[str, str, str], None]) -> None:
        checks = self.members
        garbled: list[tuple[int, int]] = []
        if "FT406" in checks:
            for start, end, shown in mojibake(text):
                garbled.append((start, end))
                hit("FT406", where, shown)
        if "FT407" in checks:
            for match in _CONTROL.finditer(text):
                if not any(start <= match.start() < end for start, end in garbled):
                    hit("FT407", where, match.group())
        if "FT408" in checks:
            for match in _SURROGATE.finditer(text):
                hit("FT408", where, match.group())


class _ContentCheck(Surveyed):
    """An FT4xx check: the file's :class:`_Pass` visits the records for all of them."""

    survey_type = _Pass
    survey: _Pass
    #: Whether the check needs the fingerprint log of examples (FT401, FT402).
    examples: ClassVar[bool] = False
    #: The screen flags of the problems the check looks for in texts.
    flags: ClassVar[int] = 0

    def found(self, record: Record, hit: _Hit) -> None:
        """Report what the pass found in ``record``."""
        more = f" ({hit.count} in this example)" if hit.count > 1 else ""
        self.report(record.line, self.describe(hit.what, hit.where) + more)

    def describe(self, what: str, where: str) -> str:
        """The message for a problem (``what``) found at ``where`` in a record."""
        raise NotImplementedError


def _canonical(value: object) -> int:
    """A fingerprint of parsed JSON that is equal for equal JSON, key order aside."""
    return fingerprint(freeze(value))


def _strings(data: dict[str, object]) -> Iterator[tuple[str, str]]:
    """Every string in a record with its path: secrets leak from any field.

    Iterative, so that JSON nested as deep as parsers allow cannot exhaust the stack.
    """
    stack: list[tuple[str, object]] = [(str(key), value) for key, value in data.items()]
    stack.reverse()
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            stack.extend(reversed([(f"{where}.{key}", item) for key, item in value.items()]))
        elif isinstance(value, list):
            stack.extend(
                reversed([(f"{where}[{index}]", item) for index, item in enumerate(value)])
            )


def _describe_secret(secret: Secret) -> str:
    return f"{secret.description} {secret.masked!r}"


# -- the searches, for records the screen flagged -----------------------------------

# C0 controls other than tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL_NAMES = {
    0: "NUL",
    7: "BEL",
    8: "BACKSPACE",
    11: "VERTICAL TAB",
    12: "FORM FEED",
    27: "ESCAPE",
    127: "DELETE",
}

# UTF-8 bytes that were decoded as Windows-1252 (or Latin-1) show up as a lead
# character (Ã, â, å, ...) followed by continuation characters: Latin-1 0x80-0xBF or
# what Windows-1252 makes of 0x80-0x9F (the euro sign, curly quotes, dashes, ...).
_CP1252_HIGH = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
_CONTINUATION = f"[\x80-\xbf{_CP1252_HIGH}]"
_MOJIBAKE = re.compile(
    f"[\xc2-\xdf]{_CONTINUATION}|[\xe0-\xef]{_CONTINUATION}{{2}}|[\xf0-\xf4]{_CONTINUATION}{{3}}"
)
_REPLACEMENT = "\ufffd"


def _to_bytes(chars: str) -> bytes | None:
    """The bytes a Windows-1252 or Latin-1 decoder turned into ``chars``."""
    try:
        return chars.encode("cp1252")
    except UnicodeEncodeError:
        pass
    try:
        return chars.encode("latin-1")
    except UnicodeEncodeError:
        return None


def mojibake(text: str) -> Iterator[tuple[int, int, str]]:
    """Spans of ``text`` that are UTF-8 decoded with the wrong encoding, and what they say.

    Yields ``(start, end, description)``. A span counts only if its characters, encoded
    back, are valid UTF-8: accented capitals followed by a quote are left alone.
    """
    for match in _MOJIBAKE.finditer(text):
        raw = _to_bytes(match.group())
        if raw is None:
            continue
        try:
            meant = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield match.start(), match.end(), f"{match.group()!r} is {meant!r}"
    start = text.find(_REPLACEMENT)
    if start >= 0:
        yield start, start + 1, repr(_REPLACEMENT)


_CODE_MARKERS = (
    "```",
    "</",
    "/>",
    "def ",
    "function",
    "=>",
    "import ",
    "#include",
    "print(",
    "return ",
    'f"',
    "f'",
    "{%",
    "\\begin",
    "\\frac",
    "};",
)
_DOUBLE_BRACE = re.compile(r"\{\{\s*[A-Za-z_][\w.-]*\s*\}\}")
# A single-brace placeholder: an identifier of three or more characters (or with an
# underscore), not after a word character, '$', '\\' or '}' (LaTeX, shell, f-strings).
_SINGLE_BRACE = re.compile(
    r"(?<![\w$\\}{])\{(?:[A-Za-z][A-Za-z0-9]{2,}|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)\}(?!\})"
)
_ANGLE = re.compile(
    r"<(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|(?i:placeholder|insert|your|enter)\b[^<>\n]{0,40})>"
)
_BRACKET = re.compile(
    r"(?<![\w\]])\[(?:(?i:insert|your|enter|placeholder|name of)\b[^\[\]\n]{0,40}"
    r"|(?:[A-Z][\w']*\s){0,3}(?i:name|date|address|company|e-?mail|phone(?: number)?|title)"
    r")\](?!\()"
)


def placeholders(text: str) -> Iterator[str]:
    """Template placeholders left unfilled in ``text`` (``{{name}}``, ``[Your Name]``).

    Text that looks like code is searched for none: ``{{ x }}`` is a Jinja template,
    ``{name}`` an f-string, ``<T_KEY>`` a generic there.
    """
    if "{" not in text and "[" not in text and "<" not in text:
        return
    if any(marker in text for marker in _CODE_MARKERS):
        return
    for pattern in (_DOUBLE_BRACE, _SINGLE_BRACE, _ANGLE, _BRACKET):
        for match in pattern.finditer(text):
            yield match.group()


_SPECIAL_TOKEN = re.compile(r"<\|[A-Za-z_][A-Za-z0-9_]{0,40}\|>")


def special_tokens(text: str, record: Record, where: str, stop: str) -> Iterator[str]:
    """Provider special tokens written into ``text`` (``<|endoftext|>``, ``<|im_start|>``).

    The dataset's own stop sequence at the end of a completion is its convention, not
    a mistake: it is left to the stop-sequence checks.
    """
    if "<|" not in text:
        return
    for match in _SPECIAL_TOKEN.finditer(text):
        if (
            record.format is Format.PROMPT_COMPLETION
            and where == "completion"
            and match.group() == stop
            and match.end() == len(text)
        ):
            continue
        yield match.group()


def _character(char: str) -> str:
    name = _CONTROL_NAMES.get(ord(char))
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


# -- duplicates and conflicting labels ---------------------------------------------


#: How FT402 names an input, a target and targets in each format.
_WORDS = {
    Format.PROMPT_COMPLETION: ("prompt", "completion", "completions"),
    Format.CHAT: (
        "conversation up to the last assistant message",
        "assistant reply",
        "assistant replies",
    ),
}


@register
class DuplicateExample(_ContentCheck):
    r"""An example appears more than once.

    What it does:
        Compares every example with the others (by a fingerprint of its input and its
        target, so memory stays small) and reports each repeat with the line of its
        first occurrence. Keys other than the ones that train (ids, metadata) are
        ignored.

    Why it matters:
        A repeated example weighs more in training than the others, which skews the
        model toward it; repeats also end up on both sides of a train/validation split
        and inflate the validation score.

    Example:
        Line 40 is the same ``{"prompt": "Where is my parcel? ->", "completion":
        " shipping\n"}`` as line 12.

    Fix:
        Delete the repeats (``pytest-finetune prepare`` keeps the first occurrence).
    """

    code = "FT401"
    name = "duplicate-example"
    severity = Severity.WARNING
    fixable = True
    examples = True

    def judge(self) -> None:
        for group in self.survey.groups():
            first_with: dict[int, int] = {}
            for line, value in zip(group.lines, group.values, strict=True):
                first = first_with.setdefault(value, line)
                if first != line:
                    self.report(line, f"Duplicate of line {first}; delete one of them")


@register
class ConflictingLabels(_ContentCheck):
    """The same input has different targets.

    What it does:
        Groups examples by their input (the prompt; a conversation up to its last
        assistant message, with its tools; a preference input with its two outputs)
        and reports inputs that come with more than one target, on the line of each
        target after the first. For preference data, the conflict is the same pair
        of outputs with the preference reversed.

    Why it matters:
        The model is trained to give two answers to one question. In a
        classification dataset this is a labelling mistake, and it caps the accuracy
        any model can reach; in generation data it blurs what the model should say.

    Example:
        Line 3 labels ``"Card declined twice ->"`` as `` billing`` and line 9 labels
        the same prompt `` technical``.

    Fix:
        Decide which target is right and delete or correct the other examples.
    """

    code = "FT402"
    name = "conflicting-labels"
    severity = Severity.WARNING
    examples = True

    def judge(self) -> None:
        source, target, targets = _WORDS.get(self.context.format, ("input", "target", "targets"))
        for group in self.survey.groups():
            first_with: dict[int, int] = {}
            for line, value in zip(group.lines, group.values, strict=True):
                first_with.setdefault(value, line)
            if len(first_with) < 2:
                continue
            firsts = list(first_with.values())
            for line in firsts[1:]:
                if self.context.format is Format.PREFERENCE:
                    message = (
                        f"Same input and outputs as line {firsts[0]} with the preference "
                        "reversed; keep the right one"
                    )
                else:
                    message = (
                        f"Same {source} as line {firsts[0]} with a different {target} "
                        f"({len(firsts)} different {targets} on lines {_lines(group.lines)}); "
                        "keep the right one"
                    )
                self.report(line, message)


# -- what should not be in a text ----------------------------------------------


@register
class UnfilledPlaceholder(_ContentCheck):
    """A text holds a template placeholder that was never filled in.

    What it does:
        Looks for ``{{name}}``, ``{customer_name}``, ``<FIRST_NAME>``,
        ``<insert ...>``, ``[Your Name]`` and ``[INSERT ...]`` in every text of every
        example. Texts that look like code (fences, tags, ``def``, f-strings, LaTeX)
        are left alone, since braces and brackets mean something there.

    Why it matters:
        An example generated from a template whose variable was not substituted
        teaches the model to answer with placeholders (``Dear [Name],``) instead of
        content.

    Example:
        ``{"prompt": "Write to {customer_name} about the delay ->", ...}``

    Fix:
        Fill in the template (check the generation script's variables), or delete
        the example.
    """

    code = "FT403"
    name = "unfilled-placeholder"
    severity = Severity.WARNING
    flags = Flag.BRACE | Flag.BRACKET | Flag.ANGLE

    def describe(self, what: str, where: str) -> str:
        return f"Unfilled placeholder {_quote(what)} in {where}; fill in the template or drop it"


@register
class SecretInText(_ContentCheck):
    r"""An example holds a secret: an API key, an access token or a private key.

    What it does:
        Searches every string of every example (metadata included) for OpenAI
        (``sk-...``), AWS (``AKIA...``), GitHub, Google and Slack keys and for private
        key blocks. Findings show the match masked, never the secret itself, in
        every output.

    Why it matters:
        The file is uploaded to a provider and often committed; a fine-tuned model
        can reproduce secrets from its training data to anyone who asks.

    Example:
        ``{"messages": [..., {"role": "assistant", "content": "Use the key
        AKIAIOSFODNN7EXAMPLE"}]}``

    Fix:
        Remove the secret from the data (replace it with an obviously fake value),
        and revoke it: it has already left your hands.
    """

    code = "FT404"
    name = "secret-in-text"
    severity = Severity.ERROR
    flags = Flag.LONG_TOKEN

    def describe(self, what: str, where: str) -> str:
        return f"{what[0].upper()}{what[1:]} in {where}; remove it and revoke the secret"


@register
class PersonalData(_ContentCheck):
    """An example holds personal data: an e-mail address or a payment card number.

    What it does:
        Searches every string of every example for e-mail addresses (except the
        reserved ``example.com`` and ``.test`` domains) and card numbers (13 to 19
        digits, with an issuer's prefix, that pass the Luhn checksum). Findings show
        the match masked.

    Why it matters:
        Fine-tuned models memorise rare strings: personal data in training examples
        can be extracted from the model, and uploading it may breach data-protection
        rules.

    Example:
        ``{"prompt": "Refund card 4111 1111 1111 1111 ->", ...}``

    Fix:
        Remove or pseudonymise the data (``jane@example.com``, a test card number
        that fails Luhn) before training.
    """

    code = "FT405"
    name = "personal-data"
    severity = Severity.WARNING
    flags = Flag.EMAIL | Flag.LONG_TOKEN

    def describe(self, what: str, where: str) -> str:
        return f"{what[0].upper()}{what[1:]} in {where}; remove or pseudonymise it"


@register
class Mojibake(_ContentCheck):
    """A text was decoded with the wrong encoding (mojibake).

    What it does:
        Finds UTF-8 text that was read as Windows-1252 or Latin-1 (``Ã©`` for ``é``,
        ``â€™`` for a curly apostrophe, ``å¾®`` for ``微``), and the replacement
        character U+FFFD that a decoder leaves where it gave up.

    Why it matters:
        The model learns to write garbled characters, and the garbling usually
        affects every example from the same source.

    Example:
        ``{"prompt": "The cafÃ© is closed ->", ...}``

    Fix:
        Re-read the source data as UTF-8 and export again; to repair text already
        garbled, ``ftfy.fix_text`` undoes this kind of damage.
    """

    code = "FT406"
    name = "mojibake"
    severity = Severity.WARNING
    flags = Flag.NON_ASCII | Flag.CONTROL

    def describe(self, what: str, where: str) -> str:
        if what == repr(_REPLACEMENT):
            return (
                f"Replacement character U+FFFD in {where}: the text was decoded with "
                "errors replaced and its characters are lost; decode the source again"
            )
        return (
            f"Mojibake in {where}: {what} (UTF-8 read as Windows-1252); "
            "decode the source as UTF-8 or repair it with ftfy"
        )


@register
class ControlCharacter(_ContentCheck):
    r"""A text holds a control character.

    What it does:
        Reports the C0 control characters other than tab, newline and carriage
        return (``\u0000`` to ``\u001f``), DEL and the C1 controls (``\u0080`` to
        ``\u009f``) in every text, with their code point.

    Why it matters:
        They are invisible in editors and reviews, come from binary data or broken
        exports, and cost tokens that teach nothing; some tools truncate text at a
        NUL.

    Example:
        ``{"prompt": "Total:\u0007 42 ->", ...}``

    Fix:
        Remove them (or replace them with a space) in the export.
    """

    code = "FT407"
    name = "control-character"
    severity = Severity.WARNING
    flags = Flag.CONTROL | Flag.NON_ASCII

    def describe(self, what: str, where: str) -> str:
        return f"Control character {_character(what)} in {where}; remove it"


@register
class LoneSurrogate(_ContentCheck):
    r"""A text holds a lone UTF-16 surrogate.

    What it does:
        Reports ``\ud800``-style escapes that are not half of a surrogate pair. JSON
        parsers accept them, but they are not characters.

    Why it matters:
        The text cannot be encoded as UTF-8: tokenizers and the upload fail on it,
        or silently replace it. It usually comes from text cut in the middle of an
        emoji.

    Example:
        ``{"prompt": "Great job \ud83d ->", ...}`` (half of 😀)

    Fix:
        Complete the pair or delete the escape.
    """

    code = "FT408"
    name = "lone-surrogate"
    severity = Severity.ERROR
    flags = Flag.CONTROL | Flag.NON_ASCII

    def describe(self, what: str, where: str) -> str:
        return (
            f"Lone surrogate U+{ord(what):04X} in {where}: not a character, so the text "
            "cannot be encoded as UTF-8; complete the pair or remove it"
        )


@register
class SpecialToken(_ContentCheck):
    """A text holds a model's special token, such as ``<|endoftext|>``.

    What it does:
        Finds ``<|...|>`` tokens (``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``,
        ``<|fim_prefix|>``, ``<|eot_id|>``) in every text. A prompt/completion
        dataset's own stop sequence at the end of its completions is left to the
        stop-sequence checks.

    Why it matters:
        Services tokenize these as plain text, never as the control tokens they
        look like: the model learns to write the literal string, and ChatML markers
        copied from another format break the conversation structure.

    Example:
        ``{"messages": [..., {"role": "assistant", "content": "Done.<|im_end|>"}]}``

    Fix:
        Delete the tokens: roles and the end of each message are marked by the
        format itself.
    """

    code = "FT409"
    name = "special-token"
    severity = Severity.WARNING
    flags = Flag.ANGLE

    def describe(self, what: str, where: str) -> str:
        return (
            f"Special token {_quote(what)} in {where}: it trains as plain text; "
            "remove it (the format marks roles and ends)"
        )
