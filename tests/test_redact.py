"""Secrets and personal data are found in text and masked in every message."""

from __future__ import annotations

import pytest
from conftest import REAL

from pytest_finetune import redact as redaction
from pytest_finetune.redact import find_secrets, luhn_valid, redact
from pytest_finetune.wording import quote, quote_end, quote_value

AWS = "AKIAIOSFODNN7EXAMPLE"
OPENAI = "sk-proj-EXAMPLEexampleEXAMPLEexample0123"
LEGACY_OPENAI = "sk-" + "Ab1" * 16
GITHUB = "ghp_" + "Ab1x" * 9
GOOGLE = "AIza" + "SyA-b1_c" * 4 + "xyz"
SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKl"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
GITHUB_FINE_GRAINED = "github_pat_11ABCDEFG0" + "aB3_" * 15 + "xYz9"
HUGGING_FACE = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
STRIPE = "sk_live_" + "51HxAbCdEfGhIjKlMnOpQrSt"
STRIPE_RESTRICTED = "rk_live_" + "51HxAbCdEfGhIjKlMnOpQrSt"
SLACK_USER = "xoxp-1234567890-0987654321-AbCdEfGhIjKl"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexampleexample\n-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("secret", "kind", "masked"),
    [
        (AWS, "aws-access-key", "AKI***"),
        ("ASIA" + "Q" * 16, "aws-access-key", "ASI***"),
        (OPENAI, "openai-key", "sk-***"),
        (LEGACY_OPENAI, "openai-key", "sk-***"),
        (GITHUB, "github-token", "ghp***"),
        (GOOGLE, "google-api-key", "AIz***"),
        (SLACK, "slack-token", "xox***"),
        (SLACK_USER, "slack-token", "xox***"),
        (JWT, "jwt", "eyJ***"),
        (GITHUB_FINE_GRAINED, "github-token", "git***"),
        (HUGGING_FACE, "huggingface-token", "hf_***"),
        (STRIPE, "stripe-key", "sk_***"),
        (STRIPE_RESTRICTED, "stripe-key", "rk_***"),
        (PRIVATE_KEY, "private-key", "-----BEGIN PRIVATE KEY-----***"),
        ("-----BEGIN PRIVATE KEY-----", "private-key", "-----BEGIN PRIVATE KEY-----***"),
        ("john.smith@gmail.com", "email", "j***@***.com"),
        ("jane+news@mail.corp.co.uk", "email", "j***@***.uk"),
        ("4111 1111 1111 1111", "card-number", "****1111"),
        ("4111-1111-1111-1111", "card-number", "****1111"),
        ("4111111111111111", "card-number", "****1111"),
        ("4222222222222", "card-number", "****2222"),  # 13-digit Visa
        ("378282246310005", "card-number", "****0005"),  # Amex
        ("3782 822463 10005", "card-number", "****0005"),
        ("5555555555554444", "card-number", "****4444"),  # Mastercard
        ("3530111333300000", "card-number", "****0000"),  # JCB
    ],
)
def test_each_kind_is_found_in_a_sentence_and_masked(secret, kind, masked):
    text = f"Here it is: {secret}. Thanks!"
    [found] = find_secrets(text)
    assert (found.kind, found.text, found.masked) == (kind, secret, masked)
    assert text[found.start : found.end] == secret
    assert redact(text) == f"Here it is: {masked}. Thanks!"


@pytest.mark.parametrize(
    "text",
    [
        "a risk-free plan, ask-me-anything, sk-short",
        "mask-abcdefghijklmnopqrstuvwxyz0123 is not a key",  # no word boundary before sk-
        "Access key ids start with AKIA; AKIA1234 is too short",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----",
        "tag @support, or user@localhost, or pip install pkg@1.2.3, or a@b",
        "version 1.2.3, and 0000 0000 0000 0000",
        "order 4111 1111 1111 1112 fails the checksum",
        "padding 4444444444444444 is one repeated digit",
        "timestamp 1700000000000 and phone +1 415 555 2671",
        "a 20-digit id 41111111111111111111 is not a card",
        "counting 2 3 4 5 6 7 8 9 10 11 12 13 14",
        "hf_hub_download(repo_id, filename) and hf_transfer, HF_TOKEN=<your token>",
        "set sk_live_ or sk_test_ keys in the dashboard; rk_live_short",
        "xoxo-hugs and kisses; xoxb-short",
        "a github_pat_ prefix, github_pat_short_token",
        "base64 of '{\"' starts with eyJ, as in eyJhbGciOiJIUzI1NiJ9 alone",
        "names like ghp_short, AIzaSyShort, eyJ.eyJ.sig",
    ],
)
def test_lookalikes_are_not_secrets(text):
    assert list(find_secrets(text)) == []
    assert redact(text) == text


def test_several_secrets_are_masked_in_order_without_overlaps():
    text = f"key {AWS}, mail a.b@corp.io, card 4111 1111 1111 1111, then {OPENAI}"
    assert [secret.kind for secret in find_secrets(text)] == [
        "aws-access-key",
        "email",
        "card-number",
        "openai-key",
    ]
    assert redact(text) == "key AKI***, mail a***@***.io, card ****1111, then sk-***"


def test_redacting_twice_changes_nothing_more():
    text = f"{PRIVATE_KEY} {AWS} x@y.com 4111111111111111 {OPENAI}"
    once = redact(text)
    assert redact(once) == once
    for secret in (AWS, OPENAI, "x@y.com", "4111111111111111", "MIIEowIBAAKCAQEA"):
        assert secret not in once


def test_luhn_checksum():
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


def test_addresses_at_reserved_domains_are_masked_but_marked_as_nobodys():
    text = "write to support@example.com, ops@mail.example.org, me@host.test or jo@gmail.com"
    found = list(find_secrets(text))
    assert [(secret.text, secret.reserved) for secret in found] == [
        ("support@example.com", True),
        ("ops@mail.example.org", True),
        ("me@host.test", True),
        ("jo@gmail.com", False),
    ]
    assert redact(text) == "write to s***@***.com, o***@***.org, m***@***.test or j***@***.com"


def test_remembered_values_are_masked_wherever_they_appear():
    redaction.remember("my-azure-key-0123456789")
    try:
        assert "0123456789" not in redact("auth failed for my-azure-key-0123456789")
    finally:
        redaction._known.discard("my-azure-key-0123456789")


def test_a_private_key_cut_before_its_end_line_is_masked_whole():
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC"
    assert redact(f"key: -----BEGIN PRIVATE KEY-----\n{body}\n{body}") == (
        "key: -----BEGIN PRIVATE KEY-----***"
    )
    # As a message quotes it, its newlines escaped.
    assert redact(repr(f"-----BEGIN PRIVATE KEY-----\n{body}")) == (
        "'-----BEGIN PRIVATE KEY-----***'"
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        (
            "Pay with number 4111111111111111 thanks",
            "'Pay with number ****1111 thanks'",
            "'Pay with number ****1111 thanks'",
        ),
        (
            f"Use the key {OPENAI} to call the service, then wait",
            "'Use the key sk-*** to call the service, then wait'",
            "'Use the key sk-*** to call the service, then wait'",
        ),
        (
            f"{'a long text that pushes the secret past the cut ' * 2}{OPENAI} and on",
            "'a long text that pushes the secret past the cut a long '...",
            "...' past the cut a long text that pushes the secret past the cut sk-*** and on'",
        ),
    ],
)
def test_quotes_mask_secrets_before_cutting_the_text(text, start, end):
    # Cut first, "4111111111111" or "sk-proj-EXAMPLEexa" would match no pattern and show.
    assert quote(text, 55) == start
    assert quote_end(text, 75) == end


def test_quoted_values_mask_secrets_before_cutting():
    assert quote_value(f"card 4111111111111111, key {OPENAI}", 20) == "'card ****1111, k..."
    # Lists and objects, quoted as JSON, too: cut first, the key would match nothing.
    assert quote_value(["please use the following key now:", OPENAI]) == (
        '["please use the following key now:","sk-***"]'
    )
    assert quote_value({"card": "4111111111111111 and more text"}, 20) == '{"card":"****1111...'


def test_values_orjson_cannot_write_are_quoted_as_the_json_module_writes_them():
    # A line orjson refuses is read by the json module, which keeps what orjson cannot
    # write again: integers past 64 bits, lone surrogates.
    assert quote_value(2**70) == "1180591620717411303424"
    assert quote_value({"text": "lone \ud800", "n": -(2**64)}) == (
        '{"text":"lone \\ud800","n":-18446744073709551616}'
    )


def test_a_quote_cut_after_a_long_masked_secret_still_masks_what_follows():
    # A private key without its END line masks to the end of what was searched; the
    # search widens so that a secret cut at its edge never comes into view.
    text = "-----BEGIN PRIVATE KEY-----" + "A" * 10_010 + "!" + OPENAI
    assert quote(text) == "'-----BEGIN PRIVATE KEY-----***!sk-***'"


def test_keys_masked_alike_stay_apart():
    counts = {" billing": 12, " jo@gmail.com": 2, " jan@gmail.com": 1}
    assert redaction.redact_keys(counts) == {
        " billing": 12,
        " j***@***.com": 2,
        " j***@***.com (2)": 1,
    }


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("token xoxb-1234567890 here", "token xox*** here"),  # the shortest key: 15
        ("card 4222222222222.", "card ****2222."),  # the fewest digits: 13
        ("card 4222 2222 22222 ok", "card ****2222 ok"),
    ],
)
def test_the_shortest_secrets_pass_the_screen_before_the_patterns(text, masked):
    assert redact(text) == masked


@pytest.mark.parametrize(
    "path", sorted(p for p in (REAL.iterdir() if REAL.is_dir() else []) if p.suffix == ".jsonl")
)
def test_real_datasets_hold_no_token_of_any_kind(path):
    # False alarms on real text: tokens of every shape are searched in real data,
    # which holds none.
    kinds = {"jwt", "github-token", "slack-token", "google-api-key", "stripe-key"}
    kinds |= {"huggingface-token", "openai-key", "aws-access-key", "private-key"}
    found = [s for s in find_secrets(path.read_text("utf-8")) if s.kind in kinds]
    assert found == []
