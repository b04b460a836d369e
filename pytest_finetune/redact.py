"""Secrets and personal data: where they are in a text, and the text with them masked.

Every message a check writes goes through :func:`redact` before it reaches a terminal,
a report or an annotation, so a check that quotes data cannot leak what it quotes. The
content check for secrets (FT4xx) uses :func:`find_secrets` to report them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Named groups are the kinds users see ("openai-key", ...); order matters only where
# two patterns could match the same text, the more specific first.
_PATTERNS: dict[str, str] = {
    "private-key": (
        r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"
        r"(?:(?:.|\n){0,8192}?-----END (?:[A-Z]+ )*PRIVATE KEY-----)?"
    ),
    "openai-key": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    "aws-access-key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "github-token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    "google-api-key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "slack-token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
    # Issuer prefixes (Visa, Mastercard, Amex, Discover, JCB, Diners) keep timestamps
    # and other long numbers out; the Luhn checksum below does the rest.
    "card-number": r"(?<![\d-])(?:4|5[1-5]|2[2-7]|3[0478]|6[05])(?:[ -]?\d){11,17}(?![\d-])",
}
_SECRETS = re.compile("|".join(f"(?P<{k.replace('-', '_')}>{p})" for k, p in _PATTERNS.items()))

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
    """Yield the secrets and personal data in ``text``, in order."""
    for match in _SECRETS.finditer(text):
        kind = (match.lastgroup or "secret").replace("_", "-")
        value = match.group()
        if kind == "card-number":
            digits = re.sub(r"\D", "", value)
            # A run of one repeated digit passes Luhn but is padding, not a card.
            if not luhn_valid(digits) or len(set(digits)) == 1:
                continue
        yield Secret(kind, match.start(), match.end(), value)


def remember(value: str | None) -> None:
    """Mask ``value`` (an API key the process uses) in everything redacted from now on."""
    if value and len(value) >= 8:
        _known.add(value)


def redact(text: str) -> str:
    """``text`` with every secret and remembered value masked."""
    for value in _known:
        if value in text:
            text = text.replace(value, _mask("openai-key", value))
    # Most messages hold no secret; the search is the cheap way to find out.
    if not _SECRETS.search(text):
        return text
    pieces: list[str] = []
    end = 0
    for secret in find_secrets(text):
        pieces.append(text[end : secret.start])
        pieces.append(secret.masked)
        end = secret.end
    pieces.append(text[end:])
    return "".join(pieces)


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***{domain[domain.rfind('.') :]}"
    if kind == "card-number":
        return f"****{re.sub(r'[^0-9]', '', value)[-4:]}"
    if kind == "private-key":
        return "-----BEGIN PRIVATE KEY-----***"
    return f"{value[:3]}***"
