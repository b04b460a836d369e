"""The schema of chat messages, checked once per record for chat and preference data.

Chat examples (``messages``) and the inputs and outputs of preference pairs are the
same messages, so one walk over a record (:mod:`.walk`) finds every message-level
problem, each concern in its module: roles and keys (:mod:`.roles`), content and its
parts (:mod:`.content`), tool definitions and calls (:mod:`.tools`), and the order of
roles, calls and their answers (:mod:`.order`). The walk sorts what it sees by
:class:`Issue` (:mod:`.analysis`), with where and the detail; each FT2xx check judges
and words the issues of its kind, and the checks of one file share a single walk per
record.

The rules follow the fine-tuning input schema of OpenAI (and Azure OpenAI): what it
accepts passes, including assistant turns that only call tools, ``tool`` and
``developer`` messages, content parts and the deprecated ``functions`` form.
"""

from pytest_finetune.chat_schema.analysis import Analysis, InRole, Issue, Unanswered, UnknownKey
from pytest_finetune.chat_schema.content import content_text, is_blank
from pytest_finetune.chat_schema.roles import messages_problems
from pytest_finetune.chat_schema.walk import analyse

__all__ = [
    "Analysis",
    "InRole",
    "Issue",
    "Unanswered",
    "UnknownKey",
    "analyse",
    "content_text",
    "is_blank",
    "messages_problems",
]
