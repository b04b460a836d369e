"""Typed keys of what a scan caches, per file and per process.

Outside the checks package, so that the helpers the checks call
(:mod:`pytest_finetune.file_conventions`, :mod:`pytest_finetune.training_file`,
:mod:`pytest_finetune.splits`) declare theirs without importing the checks.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """A typed key of what a scan caches (as pytest's ``StashKey``): the type is known.

    A slot is its own key (hashed by identity, which costs nothing on the per-record
    paths that use one), so each is made once, as a module constant.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"
