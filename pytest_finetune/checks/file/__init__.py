"""FT0xx: the file and its syntax: can it be read as JSON Lines at all, and is it enough.

Reading the file (:mod:`.syntax`): text, one JSON object per line, as the reader
reports its problems; its size (:mod:`.size`): enough examples, not too many bytes;
its format (:mod:`.format`): one that fine-tuning accepts, in every example.
"""

from pytest_finetune.checks.file import format, size, syntax

__all__ = ["format", "size", "syntax"]
