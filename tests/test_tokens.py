"""Token counts per model, exact with tiktoken, estimated (and marked so) without it."""

from __future__ import annotations

import pytest

from pytest_finetune import models, token_counting, tokenizer_cache
from pytest_finetune.config_keys import ConfigError


@pytest.mark.parametrize(
    ("model", "encoding", "limit"),
    [
        ("gpt-4o-mini-2024-07-18", "o200k_base", 65_536),
        ("gpt-4.1-nano-2025-04-14", "o200k_base", 65_536),
        ("gpt-3.5-turbo-0613", "cl100k_base", 4_096),
        ("gpt-3.5-turbo-0125", "cl100k_base", 16_385),
        ("babbage-002", "cl100k_base", 16_384),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base", 65_536),
    ],
)
def test_models_resolve_by_family_prefix(model, encoding, limit):
    spec = models.model_spec(model)
    assert (spec.name, spec.encoding, spec.training_limit) == (model, encoding, limit)


def test_default_model_when_none_is_configured():
    assert models.model_spec(None).name == models.DEFAULT_MODEL


def test_configuration_adds_and_overrides_models():
    config = {
        "models": {
            "my-model": {"encoding": "cl100k_base", "training-limit": 2048},
            "gpt-4o-mini": {"training-price": 1.5},
        }
    }
    assert models.model_spec("my-model-v2", config).training_limit == 2048
    assert models.model_spec("gpt-4o-mini-2024-07-18", config).training_price == 1.5
    assert models.model_spec("gpt-4o-mini-2024-07-18", config).training_limit == 65_536


def test_unknown_model_says_how_to_declare_it():
    with pytest.raises(ConfigError, match=r"\[tool.pytest_finetune.models"):
        models.model_spec("llama-3-8b")


@pytest.mark.parametrize(
    ("examples", "epochs"),
    [
        (1, 25),
        (3, 25),
        (10, 10),
        (30, 3),
        (34, 3),
        (1000, 3),
        (8333, 3),
        (8334, 2),
        (25_000, 1),
        (100_000, 1),
    ],
)
def test_default_epochs_follow_the_service_rule(examples, epochs):
    assert models.default_epochs(examples) == epochs


def test_exact_counts_with_the_offline_encoding_files():
    count = token_counting.counter("o200k_base", {})
    if not count.exact:
        pytest.skip("tiktoken encoding files not available (see ../shared/tiktoken)")
    assert count("hello world") == 2
    # Special tokens in data are ordinary text to the service.
    assert count("<|endoftext|>") > 1


class _Encoding:
    """An encoding of one token a character that keeps each text it is asked for."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode_ordinary(self, text: str) -> list[int]:
        self.encoded.append(text)
        return list(map(ord, text))


def test_a_short_text_seen_again_is_not_encoded_again(monkeypatch):
    encoding = _Encoding()
    monkeypatch.setattr(token_counting, "_load_encoding", lambda name: encoding)
    count = token_counting.counter("o200k_base", {})
    long = "x" * (token_counting.KNOWN_TEXT_CHARS + 1)
    texts = ["assistant", "You are helpful.", "assistant", long, "You are helpful.", long]
    assert [count(text) for text in texts] == [9, 16, 9, len(long), 16, len(long)]
    assert encoding.encoded == ["assistant", "You are helpful.", long, long]


def test_a_counter_keeps_at_most_its_share_of_texts(monkeypatch):
    encoding = _Encoding()
    monkeypatch.setattr(token_counting, "_load_encoding", lambda name: encoding)
    monkeypatch.setattr(token_counting, "KNOWN_TEXTS", 3)
    count = token_counting.counter("o200k_base", {})
    texts = ["a", "bb", "ccc", "dddd", "a", "dddd"]
    assert [count(text) for text in texts] == [1, 2, 3, 4, 1, 4]
    # The first three are kept; the fourth is encoded each time it comes.
    assert encoding.encoded == ["a", "bb", "ccc", "dddd", "dddd"]


def offline(monkeypatch, tmp_path) -> None:
    """No encoding files in the caches, no network, nothing loaded yet in this process."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PYTEST_FINETUNE_CACHE_DIR", "")  # no tables kept either
    monkeypatch.setattr("tiktoken.load.read_file", _offline)
    # tiktoken keeps the encodings it loaded for the process: forget those of other tests.
    monkeypatch.setattr("tiktoken.registry.ENCODINGS", {})
    monkeypatch.setattr(tokenizer_cache, "_BUILT", {})
    monkeypatch.setattr(token_counting, "_COUNTERS", {})


def test_without_the_encoding_files_counts_are_marked_estimates(monkeypatch, tmp_path):
    offline(monkeypatch, tmp_path)
    count = token_counting.counter("cl100k_base", {})
    assert not count.exact
    assert count("x" * 40) == 10


def _offline(blobpath: str) -> bytes:
    raise ConnectionError(f"no network: {blobpath}")
