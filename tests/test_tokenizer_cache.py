"""tiktoken's encodings kept as their decoded tables: read back the same, or not at all."""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public
from conftest import needs_encodings

from pytest_finetune import token_counting, tokenizer_cache

#: Text as fine-tuning data holds it: accents, curly quotes, CJK, Cyrillic, emoji with
#: joiners and skin tones, a flag, and text that looks like a special token.
TEXTS = [
    "Café crème, naïve façade — “quoted” and ‘single’…",  # noqa: RUF001
    "日本語のテキストと中文文本，한국어 텍스트",  # noqa: RUF001
    "Съешь же ещё этих мягких французских булок",
    "👩‍👩‍👧‍👦 👍🏽 🇫🇷 ❤️‍🔥",
    "<|endoftext|> is text here, not a control token",
    "def f(x):\n\treturn x ** 2  # 42\r\n",
]


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch) -> None:
    """Each test loads as a new process would: no encoding built yet."""
    monkeypatch.setattr(tokenizer_cache, "_BUILT", {})


def _load_afresh(name: str) -> Any:
    """Load ``name`` as a new process would."""
    tokenizer_cache._BUILT.clear()
    return tokenizer_cache.load(name)


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    """An empty cache folder of the test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("PYTEST_FINETUNE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def tiny(monkeypatch) -> list[str]:
    """A small encoding, ``tiny``, among those tiktoken ships; lists each time it is built."""
    built: list[str] = []

    def construct() -> dict[str, object]:
        built.append("tiny")
        ranks = {bytes([byte]): byte for byte in range(256)}
        ranks[b"ab"] = 256
        return {
            "name": "tiny",
            "pat_str": r"\S+|\s+",
            "mergeable_ranks": ranks,
            "special_tokens": {"<|end|>": 257},
        }

    monkeypatch.setitem(
        openai_public.ENCODING_CONSTRUCTORS,
        "tiny",
        construct,
    )
    return built


def _entry(folder: Path, name: str) -> Path:
    return folder / f"tiktoken-{tiktoken.__version__}-{name}-marshal{marshal.version}.bin"


@needs_encodings
@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_an_encoding_read_back_from_the_cache_counts_as_tiktoken_does(cache, monkeypatch, name):
    reference = tiktoken.get_encoding(name)
    first = _load_afresh(name)
    assert _entry(cache, name).is_file()
    # Read back without tiktoken's constructor: a second process builds nothing.
    monkeypatch.setitem(
        openai_public.ENCODING_CONSTRUCTORS,
        name,
        lambda: pytest.fail("built again, not read from the cache"),
    )
    again = _load_afresh(name)
    for encoding in (first, again):
        assert encoding.name == reference.name
        assert encoding.n_vocab == reference.n_vocab
        assert encoding.special_tokens_set == reference.special_tokens_set
        for text in TEXTS:
            assert encoding.encode_ordinary(text) == reference.encode_ordinary(text)


def test_a_process_builds_an_encoding_once(cache, tiny):
    assert tokenizer_cache.load("tiny") is tokenizer_cache.load("tiny")
    assert tiny == ["tiny"]


def test_the_tables_are_kept_on_first_use_and_read_after(cache, tiny):
    assert _load_afresh("tiny").encode_ordinary("abab x") == [256, 256, 32, 120]
    assert _load_afresh("tiny").encode_ordinary("abab x") == [256, 256, 32, 120]
    assert tiny == ["tiny"]
    assert [path.name for path in cache.iterdir()] == [_entry(cache, "tiny").name]


def _middle_byte_changed(blob: bytes) -> bytes:
    # A rank's digit, say: marshal would read it, and count wrongly.
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 1]) + blob[middle + 1 :]


def _intact(arguments: object) -> bytes:
    """An entry of ``arguments`` as the cache writes one: its format and digest right."""
    payload = marshal.dumps(arguments)
    return tokenizer_cache.MAGIC + hashlib.blake2b(payload, digest_size=32).digest() + payload


def _tables(**changed: object) -> bytes:
    """An intact entry of ``tiny``'s tables, with ``changed``."""
    ranks = {bytes([byte]): byte for byte in range(256)}
    return _intact(
        {"name": "tiny", "pat_str": r"\S+|\s+", "mergeable_ranks": ranks, "special_tokens": {}}
        | changed
    )


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda blob: blob[:-1], id="cut short"),
        pytest.param(_middle_byte_changed, id="a byte changed"),
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(
            lambda blob: blob.replace(b"tiktoken tables 1", b"tiktoken tables 2"),
            id="a later format",
        ),
        pytest.param(lambda blob: _tables(mergeable_ranks={"a": 0}), id="ranks tiktoken refuses"),
        pytest.param(lambda blob: _tables(pat_str="(unclosed"), id="a pattern tiktoken refuses"),
        pytest.param(lambda blob: _tables(name="o200k_base"), id="another encoding's"),
        pytest.param(lambda blob: _intact([]), id="not a dict"),
    ],
)
def test_an_entry_not_intact_is_built_again_and_replaced(cache, tiny, spoil):
    _load_afresh("tiny")
    entry = _entry(cache, "tiny")
    kept = entry.read_bytes()
    entry.write_bytes(spoil(kept))
    assert _load_afresh("tiny").encode_ordinary("ab") == [256]
    assert tiny == ["tiny", "tiny"]
    assert entry.read_bytes() == kept


def test_an_intact_entry_is_read_as_it_is(cache, tiny):
    # (What the test above spoils is all that makes an entry refused.)
    _entry(cache, "tiny").parent.mkdir()
    _entry(cache, "tiny").write_bytes(_tables())
    assert _load_afresh("tiny").encode_ordinary("ab") == [97, 98]  # no "ab" token in it
    assert tiny == []


@pytest.mark.parametrize("kind", ["a link to a file", "a link to itself", "a folder", "a pipe"])
def test_whatever_is_at_an_entrys_place_is_never_followed_or_waited_for(
    cache, tmp_path, tiny, kind
):
    entry = _entry(cache, "tiny")
    cache.mkdir()
    victim = tmp_path / "notes.txt"
    victim.write_text("precious notes", "utf-8")
    if kind == "a link to a file":
        entry.symlink_to(victim)
    elif kind == "a link to itself":
        entry.symlink_to(entry)
    elif kind == "a folder":
        entry.mkdir()
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(entry)
    assert _load_afresh("tiny").encode_ordinary("ab") == [256]
    assert victim.read_text("utf-8") == "precious notes"
    if kind == "a folder":  # nothing replaces a folder: the cache is passed over
        assert entry.is_dir()
    else:  # replaced by an entry of its own
        assert entry.is_file() and not entry.is_symlink()
        assert _load_afresh("tiny").encode_ordinary("ab") == [256]
        assert tiny == ["tiny"]
    assert sorted(path.name for path in cache.iterdir()) == [entry.name]  # no temporary


def test_a_cache_that_cannot_be_written_only_costs_speed(monkeypatch, tmp_path, tiny):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", "utf-8")
    monkeypatch.setenv("PYTEST_FINETUNE_CACHE_DIR", str(blocked / "cache"))
    assert _load_afresh("tiny").encode_ordinary("ab") == [256]
    assert _load_afresh("tiny").encode_ordinary("ab") == [256]
    assert tiny == ["tiny", "tiny"]
    assert blocked.read_text("utf-8") == "not a folder"


def test_an_empty_setting_turns_the_cache_off(monkeypatch, tmp_path, tiny):
    monkeypatch.setenv("PYTEST_FINETUNE_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tokenizer_cache.cache_dir() is None
    _load_afresh("tiny")
    _load_afresh("tiny")
    assert tiny == ["tiny", "tiny"]
    assert list(tmp_path.iterdir()) == []


def test_the_cache_is_the_users_own_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("PYTEST_FINETUNE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tokenizer_cache.cache_dir() == tmp_path / "pytest-finetune"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert tokenizer_cache.cache_dir() == tmp_path / ".cache" / "pytest-finetune"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG spec: ignored
    assert tokenizer_cache.cache_dir() == tmp_path / ".cache" / "pytest-finetune"


def test_without_a_home_nothing_is_kept(monkeypatch):
    monkeypatch.delenv("PYTEST_FINETUNE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "")
    assert tokenizer_cache.cache_dir() is None
    monkeypatch.setattr("os.path.expanduser", lambda path: path)  # no HOME, no passwd entry
    assert tokenizer_cache.cache_dir() is None
    monkeypatch.setenv("PYTEST_FINETUNE_CACHE_DIR", "~/cache")
    assert tokenizer_cache.cache_dir() is None


def test_an_encoding_tiktoken_does_not_ship_is_left_to_tiktoken(cache):
    assert _load_afresh("no-such-encoding") is None
    assert not cache.exists()


def test_a_counter_loads_its_encoding_through_the_cache(cache, tiny, monkeypatch):
    monkeypatch.setattr(token_counting, "_COUNTERS", {})
    count = token_counting.counter("tiny")
    assert count.exact
    assert count("abab") == 2
    assert _entry(cache, "tiny").is_file()
