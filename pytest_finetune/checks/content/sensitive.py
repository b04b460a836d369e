"""FT404, FT405: secrets and personal data in any field of an example, masked in findings."""

from __future__ import annotations

from typing import ClassVar

from pytest_finetune.checks.content.survey import ContentCheck, Sight
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity


class _Leak(ContentCheck):
    """A check of data that must not leave the user's hands: the match is masked."""

    #: What to do, after ``{what} in {where}; ``.
    advice: ClassVar[str]

    def describe(self, what: str, where: str) -> str:
        return f"{what[0].upper()}{what[1:]} in {where}; {self.advice}"


@register
class SecretInText(_Leak):
    r"""An example holds a secret: an API key, an access token or a private key.

    What it does:
        Searches every string of every example (metadata included) for OpenAI
        (``sk-...``), AWS (``AKIA...``), GitHub, Google, Slack, Stripe and Hugging
        Face keys, JSON Web Tokens and private key blocks, whatever the case of their
        letters (a test key of lowercase letters is found like a real one). Findings
        show the match masked, never the secret itself, in every output.

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
    sees = (Sight.SECRET,)
    advice = "remove it and revoke the secret"


@register
class PersonalData(_Leak):
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
    sees = (Sight.PERSONAL_DATA,)
    advice = "remove or pseudonymise it"
