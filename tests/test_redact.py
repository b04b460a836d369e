"""Secrets and personal data are masked in every message."""

from __future__ import annotations

import pytest

from pytest_finetune import redact


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz123456", "openai-key", "key sk-***"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "aws-access-key", "aws AKI*** here"),
        ("mail jane.doe@example.com now", "email", "mail j***@***.com now"),
        ("card 4111 1111 1111 1111 ok", "card-number", "card ****1111 ok"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
            "private-key",
            "-----BEGIN PRIVATE KEY-----***",
        ),
        ("gh ghp_" + "a" * 36, "github-token", "gh ghp***"),
    ],
)
def test_secrets_are_found_and_masked(text, kind, masked):
    assert [secret.kind for secret in redact.find_secrets(text)] == [kind]
    assert redact.redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112",
        "timestamp 1700000000000",
        "version 1.2.3",
        "a@b",
        "sk-short",
        "0000 0000 0000 0000",
    ],
)
def test_look_alikes_are_not_secrets(text):
    assert list(redact.find_secrets(text)) == []
    assert redact.redact(text) == text


def test_remembered_values_are_masked_wherever_they_appear():
    redact.remember("my-azure-key-0123456789")
    try:
        assert "0123456789" not in redact.redact("auth failed for my-azure-key-0123456789")
    finally:
        redact._known.discard("my-azure-key-0123456789")


def test_luhn():
    assert redact.luhn_valid("79927398713")
    assert not redact.luhn_valid("79927398710")
