"""The one pass over each record that every FT4xx check shares.

It fingerprints each example's input and target for the duplicate checks, and screens
its texts (:mod:`.screen`), searching them (:mod:`.searches`) only where the screen
flags something; what a search finds goes to the member check that judges that
kind of sight (:class:`Sight`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import itemgetter, not_
from typing import TYPE_CHECKING

import orjson
from xxhash import xxh3_64_intdigest as _xxh3

from pytest_finetune import extensions, file_conventions
from pytest_finetune.checks.content.screen import Flag, Screen
from pytest_finetune.checks.content.searches import (
    C0_CONTROLS,
    C1_BYTES,
    CONTROL,
    SURROGATE,
    SURROGATE_BYTES,
    mojibake,
    placeholders,
    special_tokens,
    strings,
)
from pytest_finetune.checks.survey import Survey, Surveyed
from pytest_finetune.fingerprints import (
    SIGNED,
    Fingerprints,
    Group,
    combined,
    fingerprint,
    fingerprints,
    text_fingerprints,
)
from pytest_finetune.formats import Batch, Format, Record, freeze, last_assistant, texts
from pytest_finetune.redact import SECRET_KINDS, Secret, find_secrets

if TYPE_CHECKING:
    from pytest_finetune.checks.context import ScanContext


class Sight(enum.Enum):
    """What the pass sees in a record's texts, each judged by one FT4xx check.

    Each is told once per record, with where the first was seen (a key or a path) and
    a :class:`Hit`: the first one, and how many the record holds.
    """

    PLACEHOLDER = enum.auto()
    #: An API key, a token or a private key.
    SECRET = enum.auto()
    #: An e-mail address or a card number (not at a domain reserved for examples).
    PERSONAL_DATA = enum.auto()
    MOJIBAKE = enum.auto()
    #: A control character (outside mojibake, where that is watched too).
    CONTROL = enum.auto()
    SURROGATE = enum.auto()
    #: A special token (not a prompt/completion dataset's stop sequence at the end).
    SPECIAL_TOKEN = enum.auto()


#: The screen's flags that a record may hold each sight under.
_FLAGS = {
    Sight.PLACEHOLDER: Flag.BRACE | Flag.BRACKET | Flag.ANGLE,
    Sight.SECRET: Flag.LONG_TOKEN,
    Sight.PERSONAL_DATA: Flag.EMAIL | Flag.LONG_TOKEN,
    Sight.MOJIBAKE: Flag.NON_ASCII | Flag.CONTROL,
    Sight.CONTROL: Flag.CONTROL | Flag.NON_ASCII,
    Sight.SURROGATE: Flag.CONTROL | Flag.NON_ASCII,
    Sight.SPECIAL_TOKEN: Flag.ANGLE,
}


@dataclass
class Hit:
    """What a member is told of a record: the first problem of its kind, and how many."""

    what: str
    count: int = 1


_PROMPT_COMPLETION = Format.PROMPT_COMPLETION


class _Pass(Survey):
    """Visits each record once for every FT4xx check of the file.

    It logs a fingerprint of each example's input and target (for FT401, FT402), and
    screens its texts, searching them only when the screen flags something. Plain
    prompt/completion records are screened :data:`BATCH` at a time, through their
    lines joined: one pass over many records costs less than one per record, and a
    clean batch (most are) needs nothing more; in a flagged batch, the records the
    screen traces its alarms to are screened again, through their texts. Where the C
    module is built (:mod:`pytest_finetune.extensions`), batches are read
    from their raw lines in C instead, and only the records it flags are screened here.
    """

    BATCH = 32

    def __init__(self, context: ScanContext, head: list[Record]) -> None:
        super().__init__(context, head)
        self.log: Fingerprints | None = None
        self.screen = Screen(0)
        #: A prompt/completion dataset's stop sequence (FT409 leaves it to FT13x).
        self.stop = ""
        if context.format is Format.PROMPT_COMPLETION:
            self.stop = file_conventions.of(context, head).stop.text
        #: Plain prompt/completion records waiting to be screened.
        self._batch: list[Record] | None = None
        self._add: Callable[[int, int, int], None] | None = None
        self._groups: list[Group] | None = None

    def fingerprint(self) -> None:
        """Log a fingerprint of each example's input and target (FT401, FT402)."""
        if self.log is None:
            self.log = Fingerprints()
            self._add = self.log.add

    def ready(self) -> None:
        need = 0
        for sight, flags in _FLAGS.items():
            if sight in self.watchers:
                need |= flags
        self.screen = Screen(need)
        if need and self._batch is None:
            self._batch = []

    def visit(self, record: Record) -> None:
        data = record.data
        if record.format is _PROMPT_COMPLETION:
            prompt, completion = data.get("prompt"), data.get("completion")
            if type(prompt) is str and type(completion) is str:
                # formats.example and fingerprint(), without a call per record.
                if self._add is not None:
                    try:
                        key = _xxh3(prompt.encode()) - SIGNED
                        value = _xxh3(completion.encode()) - SIGNED
                    except UnicodeEncodeError:  # a lone surrogate
                        key, value = fingerprint(prompt), fingerprint(completion)
                    self._add(key, record.line, value)
                if self._batch is not None and len(data) == 2:
                    self._batch.append(record)
                    if len(self._batch) >= self.BATCH:
                        self._flush()
                    return
        elif self.log is not None:
            self._log(record)
        if self.screen.need:
            flags = self.screen.raw(record.raw, data)
            if flags:
                self._flush()  # records held before this one are reported first
                self._inspect(record, flags)

    def visit_batch(self, batch: Batch) -> None:
        """What :meth:`visit` does for each record of ``batch``, over whole lists.

        Plain prompt/completion records (two keys, two texts: most) are fingerprinted
        in a few calls for all and screened through their lines joined; chat examples
        that end with the assistant's message are fingerprinted so too. Anything else
        goes record by record.
        """
        if batch.format is _PROMPT_COMPLETION:
            if not self._plain(batch):
                for record in batch.records():
                    self.visit(record)
            return
        if self.log is not None:
            if batch.format is Format.CHAT:
                self._log_chats(batch, self.log)
            else:
                for record in batch.records():
                    self._log(record)
        if self.screen.need:
            screen, raws = self.screen.raw, batch.raws
            # The compiled screen passes over most lines for the screen here (and the
            # objects of most chats are never made).
            suspects = extensions.suspect_lines
            for index in range(len(raws)) if suspects is None else suspects(raws):
                flags = screen(raws[index], batch.data(index))
                if flags:
                    self._flush()  # records held before this one are reported first
                    self._inspect(batch.record(index), flags)

    def _plain(self, batch: Batch) -> bool:
        """Visit a batch of plain prompt/completion records; ``False`` if it is not one."""
        read = extensions.plain_pairs
        pairs = None if read is None else read(batch.raws, self._batch is not None)
        if pairs is not None:  # read in C: the texts' fingerprints, and the suspects
            keys, values, suspects = pairs
            if self.log is not None:
                self.log.add_packed(keys, batch.lines, values)
            if self._batch is not None:
                self._flush()  # records held before the batch come first
                for index in suspects:
                    data = batch.data(index)
                    flags = self.screen.texts(data["prompt"], data["completion"])
                    if flags:
                        self._inspect(batch.record(index), flags)
            return True
        prompts, completions = batch.column("prompt"), batch.column("completion")
        if (
            set(map(len, batch.datas)) != {2}
            or set(map(type, prompts)) != {str}
            or set(map(type, completions)) != {str}
        ):
            return False
        if self.log is not None:
            self.log.add_all(
                text_fingerprints(prompts), batch.lines, text_fingerprints(completions)
            )
        if self._batch is None:
            return True
        self._flush()  # records held before the batch come first
        screen, raws, size = self.screen, batch.raws, self.BATCH
        # A few lines in a thousand hold a rare case: a small group traces it cheaply.
        for start in range(0, len(raws), size):
            for found in screen.lines(raws[start : start + size]):
                index = start + found
                flags = screen.texts(prompts[index], completions[index])
                if flags:
                    self._inspect(batch.record(index), flags)
        return True

    def _log_chats(self, batch: Batch, log: Fingerprints) -> None:
        """Log a batch of chats as :meth:`_log` would each.

        Those that end with the assistant's message (nearly all) are fingerprinted in a
        few calls for all; the log's groups keep file order whatever the order logged.
        """
        read = extensions.chat_pairs
        if read is None:
            keys, values, ends = _chat_pairs(batch)
            log.add_all(keys, compress(batch.lines, ends), values)
        else:  # read in C, but for the few lines it leaves to the Python below
            read_keys, read_values, read_ends = read(batch.raws)
            log.add_all(
                [key for key in read_keys if key is not None],  # those that end so
                compress(batch.lines, read_ends),
                [value for value in read_values if value is not None],
            )
            ends = [bool(ended) for ended in read_ends]
            unread = [index for index, ended in enumerate(read_ends) if ended is None]
            if unread:
                rest = Batch(
                    batch.format,
                    [batch.lines[index] for index in unread],
                    [batch.raws[index] for index in unread],
                    [batch.data(index) for index in unread],
                )
                keys, values, rest_ends = _chat_pairs(rest)
                log.add_all(keys, compress(rest.lines, rest_ends), values)
                for index, ended in zip(unread, rest_ends, strict=True):
                    ends[index] = ended
        for index in compress(range(len(ends)), map(not_, ends)):
            self._log(batch.record(index))

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
                key = combined(key, _canonical(data["tools"]))
            add(key, record.line, _canonical(messages[last]))
        elif record.format is Format.PREFERENCE:
            inputs = data.get("input")
            if not isinstance(inputs, dict) or "preferred_output" not in data:
                return
            preferred = _canonical(data["preferred_output"])
            other = _canonical(data.get("non_preferred_output"))
            pair = (preferred, other) if preferred < other else (other, preferred)
            add(combined(_canonical(inputs), *pair), record.line, preferred)

    def _flush(self) -> None:
        records = self._batch
        if not records:
            return
        self._batch = []
        screen = self.screen
        for index in screen.lines([record.raw for record in records]):
            record = records[index]
            flags = screen.texts(record.data["prompt"], record.data["completion"])
            if flags:
                self._inspect(record, flags)

    def merge(self, later: _Pass) -> None:
        if self.log is not None and later.log is not None:
            self.log.extend(later.log)
        # Records the later chunk held for a batch are screened here, reporting here.
        if self._batch is not None and later._batch:
            for record in later._batch:
                self._batch.append(record)
                if len(self._batch) >= self.BATCH:
                    self._flush()

    def conclude(self) -> None:
        self._flush()

    def groups(self) -> list[Group]:
        """Fingerprints seen more than once (computed once for FT401 and FT402)."""
        if self._groups is None:
            self._groups = [] if self.log is None else list(self.log.groups())
        return self._groups

    def _inspect(self, record: Record, flags: int) -> None:
        hits: dict[Sight, tuple[str, Hit]] = {}

        def hit(sight: Sight, where: str, what: str) -> None:
            if sight in hits:
                hits[sight][1].count += 1
            else:
                hits[sight] = (where, Hit(what))

        watchers = self.watchers
        secrets = Sight.SECRET in watchers
        personal = Sight.PERSONAL_DATA in watchers
        if flags & (Flag.EMAIL | Flag.LONG_TOKEN) and (secrets or personal):
            for where, text in strings(record.data):
                for secret in find_secrets(text):
                    sight = Sight.SECRET if secret.kind in SECRET_KINDS else Sight.PERSONAL_DATA
                    if sight in watchers and not secret.reserved:
                        hit(sight, where, _describe_secret(secret))
        placeholder = Sight.PLACEHOLDER in watchers
        special = Sight.SPECIAL_TOKEN in watchers
        control = Sight.CONTROL in watchers
        for where, text in texts(record):
            if not text.isascii():
                if flags & (Flag.NON_ASCII | Flag.CONTROL):
                    self._non_ascii(text, where, hit)
            elif flags & Flag.CONTROL and control:
                for match in CONTROL.finditer(text):
                    hit(Sight.CONTROL, where, match.group())
            if flags & (Flag.BRACE | Flag.BRACKET | Flag.ANGLE) and placeholder:
                for found in placeholders(text):
                    hit(Sight.PLACEHOLDER, where, found)
            if flags & Flag.ANGLE and special:
                for token in special_tokens(text, record, where, self.stop):
                    hit(Sight.SPECIAL_TOKEN, where, token)
        for sight, (where, sighted) in hits.items():
            watchers[sight].seen(record.line, where, sighted)

    def _non_ascii(self, text: str, where: str, hit: Callable[[Sight, str, str], None]) -> None:
        watchers = self.watchers
        garbled: list[tuple[int, int]] = []
        # Each search of the characters runs only where the UTF-8 holds what it finds,
        # looked for at C speed: a class tried at each character costs 3 to 15 µs for
        # a thousand of them, and a flagged text seldom holds more than one of the three.
        utf8 = text.encode("utf-8", "surrogatepass")
        if Sight.MOJIBAKE in watchers:
            for start, end, shown in mojibake(text, utf8):
                garbled.append((start, end))
                hit(Sight.MOJIBAKE, where, shown)
        if Sight.CONTROL in watchers and (
            len(utf8.translate(None, C0_CONTROLS)) < len(utf8) or C1_BYTES.search(utf8)
        ):
            for match in CONTROL.finditer(text):
                if not any(start <= match.start() < end for start, end in garbled):
                    hit(Sight.CONTROL, where, match.group())
        if Sight.SURROGATE in watchers and SURROGATE_BYTES.search(utf8):
            for match in SURROGATE.finditer(text):
                hit(Sight.SURROGATE, where, match.group())


class ContentCheck(Surveyed):
    """An FT4xx check: the file's :class:`_Pass` visits the records for all of them."""

    survey_type = _Pass
    survey: _Pass

    def seen(self, line: int, where: str, detail: Hit) -> None:
        """Report what the pass saw in the record at ``line``, worded by :meth:`describe`."""
        more = f" ({detail.count} in this example)" if detail.count > 1 else ""
        self.report(line, self.describe(detail.what, where) + more)

    def describe(self, what: str, where: str) -> str:
        """The message for a problem (``what``) seen at ``where`` in a record."""
        raise NotImplementedError


def _chat_pairs(batch: Batch) -> tuple[list[int], list[int], list[bool]]:
    """The fingerprints :meth:`_Pass._log_chats` logs, in a few calls for all chats.

    The input's and the last message's of each chat that ends with the assistant's
    message, and which do (``extensions.chat_pairs`` reads the raw lines the same way).
    """
    conversations = batch.column("messages")
    ends = [
        type(messages) is list
        and bool(messages)
        and type(messages[-1]) is dict
        and messages[-1].get("role") == "assistant"
        for messages in conversations
    ]
    chosen = list(compress(conversations, ends))
    inputs = list(map(itemgetter(_ALL_BUT_LAST), chosen))
    lasts = list(map(itemgetter(-1), chosen))
    try:
        keys = list(fingerprints(map(_FREEZE, inputs)))
        values = list(fingerprints(map(_FREEZE, lasts)))
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate: freeze() copes
        keys = list(fingerprints(map(freeze, inputs)))
        values = list(fingerprints(map(freeze, lasts)))
    for index, tools in enumerate(compress(batch.column("tools"), ends)):
        if tools:
            keys[index] = combined(keys[index], _canonical(tools))
    return keys, values, ends


#: :func:`~pytest_finetune.formats.freeze` where orjson can write the value.
_FREEZE = partial(orjson.dumps, option=orjson.OPT_SORT_KEYS)
_ALL_BUT_LAST = slice(None, -1)


def _canonical(value: object) -> int:
    """A fingerprint of parsed JSON that is equal for equal JSON, key order aside."""
    return fingerprint(freeze(value))


def _describe_secret(secret: Secret) -> str:
    return f"{secret.description} {secret.masked!r}"
