"""FT406-FT408: characters that should not be in a text: mojibake, controls, lone surrogates."""

from __future__ import annotations

from pytest_finetune.checks.content.searches import REPLACEMENT, character
from pytest_finetune.checks.content.survey import ContentCheck, Sight
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity


@register
class Mojibake(ContentCheck):
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
    sees = (Sight.MOJIBAKE,)

    def describe(self, what: str, where: str) -> str:
        if what == repr(REPLACEMENT):
            return (
                f"Replacement character U+FFFD in {where}: the text was decoded with "
                "errors replaced and its characters are lost; decode the source again"
            )
        return (
            f"Mojibake in {where}: {what} (UTF-8 read as Windows-1252); "
            "decode the source as UTF-8 or repair it with ftfy"
        )


@register
class ControlCharacter(ContentCheck):
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
    sees = (Sight.CONTROL,)

    def describe(self, what: str, where: str) -> str:
        return f"Control character {character(what)} in {where}; remove it"


@register
class LoneSurrogate(ContentCheck):
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
    sees = (Sight.SURROGATE,)

    def describe(self, what: str, where: str) -> str:
        return (
            f"Lone surrogate U+{ord(what):04X} in {where}: not a character, so the text "
            "cannot be encoded as UTF-8; complete the pair or remove it"
        )
