"""Fixes of keys: misspelled prompt/completion keys, legacy preference keys, extra keys."""

from __future__ import annotations

from typing import ClassVar

from pytest_finetune.formats import PROMPT_COMPLETION_KEYS as KEYS
from pytest_finetune.prepare.fixes.base import PC, PREFERENCE, Change, Fix, FixContext, of_format
from pytest_finetune.prepare.read import Example
from pytest_finetune.wording import plural


class RenameKeys(Fix):
    """Rename keys such as ``Prompt`` or ``"completion "`` to ``prompt`` and ``completion``."""

    name = "rename-keys"
    codes = ("FT101",)
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        renamed: dict[str, str] = {}
        for example in of_format(examples, PC):
            data = example.data
            if all(key in data for key in KEYS):
                continue
            names: dict[str, str] = {}
            for key in data:
                wanted = key.strip().lower()
                if (
                    key not in KEYS
                    and wanted in KEYS
                    and wanted not in data
                    and wanted not in names.values()
                ):
                    names[key] = wanted
            if names:
                example.data = {names.get(key, key): value for key, value in data.items()}
                renamed.update(names)
                change.touched(
                    example.line,
                    ", ".join(map(repr, names)),
                    ", ".join(map(repr, names.values())),
                )
        if renamed:
            pairs = ", ".join(f"{old!r} to {new!r}" for old, new in renamed.items())
            change.what = f"Rename {pairs} in {plural(change.count, 'example')}"
        return examples


class RenameLegacyPreferenceKeys(Fix):
    """Rename ``preferred_completion``/``non_preferred_completion`` to ``*_output``."""

    name = "rename-preference-keys"
    codes = ("FT305",)
    formats = PREFERENCE
    _NAMES: ClassVar[dict[str, str]] = {
        "preferred_completion": "preferred_output",
        "non_preferred_completion": "non_preferred_output",
    }

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        for example in of_format(examples, PREFERENCE):
            data = example.data
            names = {old: new for old, new in self._NAMES.items() if old in data}
            # Both names in one pair: which value is right is not ours to decide.
            if names and not any(new in data for new in names.values()):
                example.data = {names.get(key, key): value for key, value in data.items()}
                change.touched(example.line, ", ".join(names), ", ".join(names.values()))
        if change.count:
            change.what = (
                "Rename preferred_completion/non_preferred_completion to "
                f"preferred_output/non_preferred_output in {plural(change.count, 'pair')}"
            )
        return examples


class StripExtraKeys(Fix):
    """Drop keys other than ``prompt`` and ``completion`` (the input file keeps them)."""

    name = "strip-extra-keys"
    codes = ("FT103",)
    formats = PC

    def apply(self, examples: list[Example], context: FixContext, change: Change) -> list[Example]:
        dropped: dict[str, None] = {}
        for example in of_format(examples, PC):
            data = example.data
            # Without both keys an extra key may be the misspelled one: keep it.
            if len(data) > 2 and all(key in data for key in KEYS):
                extra = [key for key in data if key not in KEYS]
                example.data = {key: data[key] for key in KEYS}
                dropped.update(dict.fromkeys(extra))
                change.touched(example.line, ", ".join(map(repr, extra)), "(removed)")
        if dropped:
            names = ", ".join(map(repr, list(dropped)[:5])) + (", ..." if len(dropped) > 5 else "")
            keys = "key" if len(dropped) == 1 else "keys"
            change.what = f"Drop the {keys} {names} from {plural(change.count, 'example')}"
        return examples
