"""FT2xx: chat examples: their messages, tools and calls, role order and legacy leftovers.

Message-level problems are found by one walk per record (:mod:`pytest_finetune.chat_schema`),
shared by the checks through their survey (:mod:`.survey`); each check reports those of
its kind. Preference inputs and outputs are chat messages too, so the checks of single
messages also run on preference data. The checks are grouped by concern: the messages,
roles and keys (:mod:`.messages`), content (:mod:`.content`), role order and training
weights (:mod:`.order`), tools and calls (:mod:`.tools`), and leftovers of
prompt/completion data (:mod:`.leftovers`).
"""

from pytest_finetune.checks.chat import content, leftovers, messages, order, tools

__all__ = ["content", "leftovers", "messages", "order", "tools"]
