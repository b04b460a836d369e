"""``pytest-finetune prepare``: fix what can be fixed safely, split train/valid, say what next.

The successor of the legacy ``openai tools fine_tunes.prepare_data``, driven by the
same checks as the linter: :mod:`~pytest_finetune.prepare.read` reads JSON Lines, JSON,
CSV and TSV; :mod:`~pytest_finetune.prepare.fixes` holds one fix per problem a check
marks fixable; :mod:`~pytest_finetune.prepare.split` splits; :mod:`~pytest_finetune.prepare.write`
writes without overwriting; :mod:`~pytest_finetune.prepare.run` ties them together
and :mod:`~pytest_finetune.prepare.summary` says what happened.
"""

from pytest_finetune.prepare.read import PrepareError
from pytest_finetune.prepare.run import Options, Prepared, prepare

__all__ = ["Options", "PrepareError", "Prepared", "prepare"]
