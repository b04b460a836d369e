"""FT4xx: content, in every format: repeated examples, and text that should not train.

Two kinds of check live here. Duplicates and conflicting labels (:mod:`.duplicates`)
compare examples across the file: they log a 64-bit fingerprint of each example's
input and target (:mod:`pytest_finetune.fingerprints`) and group them once, at the
end, so memory grows with the number of examples, never with their text.

The others look inside each example: markup left in texts (:mod:`.markup`), secrets
and personal data (:mod:`.sensitive`), characters that should not be there
(:mod:`.characters`). Most records have none of their problems, so one cheap pass
over the record (:mod:`.screen`) says which problems it could have, and only those
records' texts are searched (:mod:`.searches`). All FT4xx checks share one survey of
the file (:mod:`.survey`): one call per record for the family.
"""

from pytest_finetune.checks.content import characters, duplicates, markup, sensitive

__all__ = ["characters", "duplicates", "markup", "sensitive"]
