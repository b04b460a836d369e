"""Secrets and personal data: where they are in a text, and the text with them masked.

Every message a check writes goes through :func:`redact` before it reaches a terminal,
a report or an annotation, so a check that quotes data cannot leak what it quotes. The
content checks (FT404 secrets, FT405 personal data) use :func:`find_secrets` to report
them.

Each pattern starts with a literal (``sk-``, ``AKIA``, ``@``) or a narrow character
class, so that ``re`` can skip through a text instead of trying every position: a
single alternation with leading word boundaries costs over 100 ns a byte. Word
boundaries and the local part of e-mail addresses are checked around each match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

_V = TypeVar("_V")

#: Kinds that give access to something: they fail a build (FT404).
SECRET_KINDS = frozenset(
    {
        "private-key",
        "openai-key",
        "aws-access-key",
        "github-token",
        "google-api-key",
        "slack-token",
        "jwt",
        "stripe-key",
        "huggingface-token",
    }
)

#: What each kind is called in messages.
DESCRIPTIONS = {
    "private-key": "private key",
    "openai-key": "OpenAI API key",
    "aws-access-key": "AWS access key",
    "github-token": "GitHub token",
    "google-api-key": "Google API key",
    "slack-token": "Slack token",
    "jwt": "JSON Web Token",
    "stripe-key": "Stripe secret key",
    "huggingface-token": "Hugging Face token",
    "email": "e-mail address",
    "card-number": "payment card number",
}

# (kind, pattern, literal that every match contains): the literal is a cheap test
# before the search.
_KEYS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (kind, re.compile(pattern), literal)
    for kind, pattern, literal in (
        (
            "private-key",
            # Not followed by "***": that is this module's own mask. Up to its END
            # line; without one in reach (a text cut short), the base64 body that
            # follows, escaped newlines included, so that no part of it shows.
            r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----(?!\*\*\*)"
            r"(?:[\s\S]{0,8192}?-----END (?:[A-Z]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)",
            "-----BEGIN ",
        ),
        ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", "sk-"),
        ("aws-access-key", r"A[KS]IA[0-9A-Z]{16}(?![0-9A-Za-z])", "IA"),
        ("github-token", r"gh[pousr]_[A-Za-z0-9]{36,}", "_"),
        # Fine-grained personal access tokens: github_pat_ and 82 characters.
        ("github-token", r"github_pat_[A-Za-z0-9_]{60,}", "github_pat_"),
        ("google-api-key", r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", "AIza"),
        ("slack-token", r"xox[abposr]-[A-Za-z0-9-]{10,}", "xox"),
        # A JSON Web Token: a header and a payload that are base64url JSON objects
        # ("eyJ" is '{"'), then a signature.
        ("jwt", r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", "eyJ"),
        ("stripe-key", r"[sr]k_live_[A-Za-z0-9]{20,}", "k_live_"),
        ("huggingface-token", r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])", "hf_"),
    )
)
_EMAIL_DOMAIN = re.compile(r"@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_MAX_LOCAL = 64
#: Domains reserved for documentation and tests (RFC 2606): nobody's address.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = (".example", ".test", ".invalid", ".localhost")
# Card numbers as they are written: 13 to 19 digits in one run, or in groups of at
# least four separated by single spaces or dashes (4111 1111 1111 1111, Amex 4-6-5).
_CARD = re.compile(r"[2-6][0-9]{3,18}(?:[ -][0-9]{4,15}){0,4}")
# Issuer prefixes (Visa, Mastercard, Amex, Diners, JCB, Discover) keep timestamps and
# other long numbers out; the Luhn checksum does the rest.
_ISSUERS = (
    *("4", "51", "52", "53", "54", "55"),
    *("22", "23", "24", "25", "26", "27"),
    *("34", "37", "30", "36", "38", "35", "60", "64", "65"),
)

# Values the process itself holds (API keys read from the environment) are masked
# wherever they appear, even when they match no pattern.
_known: set[str] = set()


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret or piece of personal data found in a text, as a span of it."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def masked(self) -> str:
        """The match as it may be shown: enough to recognise, not enough to use."""
        return _mask(self.kind, self.text)

    @property
    def reserved(self) -> bool:
        """An e-mail address at a domain reserved for examples (RFC 2606): nobody's."""
        if self.kind != "email":
            return False
        domain = self.text.rpartition("@")[2].lower()
        return domain.endswith(_RESERVED_TLDS) or any(
            domain == reserved or domain.endswith("." + reserved) for reserved in _RESERVED_DOMAINS
        )

    @property
    def description(self) -> str:
        """What it is, in words (``AWS access key``)."""
        return DESCRIPTIONS[self.kind]


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum that card numbers carry."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_secrets(text: str) -> Iterator[Secret]:
    """Yield the secrets and personal data in ``text``, in order, without overlaps."""
    found = sorted(_matches(text), key=lambda secret: (secret.start, -secret.end))
    end = 0
    for secret in found:
        if secret.start >= end:
            yield secret
            end = secret.end


def _matches(text: str) -> Iterator[Secret]:
    for kind, pattern, literal in _KEYS:
        if literal not in text:
            continue
        for match in pattern.finditer(text):
            start = match.start()
            if kind != "private-key" and start and _word_char(text[start - 1]):
                continue
            yield Secret(kind, start, match.end(), match.group())
    if "@" in text:
        yield from _emails(text)
    yield from _cards(text)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _emails(text: str) -> Iterator[Secret]:
    for match in _EMAIL_DOMAIN.finditer(text):
        at = match.start()
        start = at
        while start > 0 and at - start < _MAX_LOCAL and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        while start < at and text[start] == ".":
            start += 1
        if start < at:
            yield Secret("email", start, match.end(), text[start : match.end()])


def _cards(text: str) -> Iterator[Secret]:
    for match in _CARD.finditer(text):
        start, end = match.span()
        if (start and (text[start - 1].isdigit() or text[start - 1] == "-")) or (
            end < len(text) and text[end].isdigit()
        ):
            continue
        digits = match.group().replace(" ", "").replace("-", "")
        # A run of one repeated digit passes Luhn but is padding, not a card.
        if (
            13 <= len(digits) <= 19
            and digits.startswith(_ISSUERS)
            and luhn_valid(digits)
            and len(set(digits)) > 1
        ):
            yield Secret("card-number", start, end, match.group())


def remember(value: str | None) -> None:
    """Mask ``value`` (an API key the process uses) in everything redacted from now on."""
    if value and len(value) >= 8:
        _known.add(value)


def redact(text: str) -> str:
    """``text`` with every secret and remembered value masked."""
    for value in _known:
        if value in text:
            text = text.replace(value, _mask("openai-key", value))
    if not _may_hold_secrets(text):
        return text
    pieces: list[str] = []
    end = 0
    for secret in find_secrets(text):
        pieces.append(text[end : secret.start])
        pieces.append(secret.masked)
        end = secret.end
    if not pieces:
        return text
    pieces.append(text[end:])
    return "".join(pieces)


# The screen before the patterns: every secret has an '@', a private key's header, 13
# digits or more (a card number), or a run of 15 characters or more that keys are made
# of. Two passes in C; the patterns cost ten times as much.
_KEY_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_AS_KEY_CHARS = bytes(ord("A") if byte in _KEY_CHARS else ord(".") for byte in range(256))
_NOT_DIGITS = bytes(byte for byte in range(256) if not 0x30 <= byte <= 0x39)
_SHORTEST_KEY = b"A" * 15
_CARD_DIGITS = 13


def _may_hold_secrets(text: str) -> bool:
    if "@" in text or "-----BEGIN " in text:
        return True
    data = text.encode("utf-8", "surrogatepass")
    return len(
        data.translate(None, _NOT_DIGITS)
    ) >= _CARD_DIGITS or _SHORTEST_KEY in data.translate(_AS_KEY_CHARS)


def redact_keys(mapping: Mapping[str, _V]) -> dict[str, _V]:
    """``mapping`` with keys redacted; keys masked alike stay apart (``j***@***.com (2)``)."""
    shown: dict[str, _V] = {}
    for key, value in mapping.items():
        masked = candidate = redact(key)
        number = 1
        while candidate in shown:
            number += 1
            candidate = f"{masked} ({number})"
        shown[candidate] = value
    return shown


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***{domain[domain.rfind('.') :]}"
    if kind == "card-number":
        return f"****{re.sub(r'[^0-9]', '', value)[-4:]}"
    if kind == "private-key":
        return "-----BEGIN PRIVATE KEY-----***"
    return f"{value[:3]}***"
