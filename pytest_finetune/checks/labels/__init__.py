"""FT5xx: labels and splits: the classes of classification data, and validation files.

Classification is detected as the legacy tool did it (fewer distinct completions than a
third of the examples, see :mod:`pytest_finetune.conventions`) or declared with
``task = "classification"``. A label is a completion without the dataset's stop
sequence (`` positive``), or the last assistant reply of a chat example. The class
counts over the whole file (:mod:`.survey`) go into the summary and the JSON report
(``classes``); the checks judge how examples spread over the classes (:mod:`.balance`)
and how the target model tokenizes them (:mod:`.tokenization`).

A validation file is compared with its training file (:mod:`pytest_finetune.splits`
finds the pair): examples in both (leakage) and labels in one of them only
(:mod:`.validation`). The training file is read once per process
(:mod:`pytest_finetune.training_file`), in a streaming pass that keeps a fingerprint per
example (:mod:`pytest_finetune.fingerprints`), not its text.
"""

from pytest_finetune.checks.labels import balance, tokenization, validation

__all__ = ["balance", "tokenization", "validation"]
