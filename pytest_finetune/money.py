"""Amounts of money as the reports show them, in US dollars.

Kept apart from :mod:`pytest_finetune.training.cost` (which estimates what a job bills)
so that the summaries, ``stats`` and ``prepare`` can show an amount without importing
the training half of the package.
"""

from __future__ import annotations


def dollars(usd: float) -> str:
    """``$12.34``; amounts under a cent keep four decimals (``$0.0045``), not ``$0.00``."""
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def budget_dollars(usd: float) -> str:
    """``$12.34``, and four decimals under a dollar (``$0.0112``), for a cost beside its budget.

    Not :func:`dollars` (cents above one cent): a cost and the budget it exceeds must
    read different, and $0.0112 over $0.0100 would read "$0.01 over $0.01".
    """
    return f"${usd:,.2f}" if usd >= 1 else f"${usd:.4f}"
