"""FT403, FT409: markup left in texts: unfilled template placeholders, models' special tokens."""

from __future__ import annotations

from pytest_finetune.checks.content.survey import ContentCheck, Sight
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity


def _quote(text: str, limit: int = 60) -> str:
    """``repr`` of a piece of data, truncated: invisible characters stay visible."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


@register
class UnfilledPlaceholder(ContentCheck):
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
    sees = (Sight.PLACEHOLDER,)

    def describe(self, what: str, where: str) -> str:
        return f"Unfilled placeholder {_quote(what)} in {where}; fill in the template or drop it"


@register
class SpecialToken(ContentCheck):
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
    sees = (Sight.SPECIAL_TOKEN,)

    def describe(self, what: str, where: str) -> str:
        return (
            f"Special token {_quote(what)} in {where}: it trains as plain text; "
            "remove it (the format marks roles and ends)"
        )
