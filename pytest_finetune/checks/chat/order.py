"""FT211-FT214, FT222-FT224: who speaks, in which order, and which replies train.

The schema walk follows the conversation's order (``chat_schema/order.py``) and says
what it saw; each check here words its findings.
"""

from __future__ import annotations

from pytest_finetune.chat_schema import Issue
from pytest_finetune.checks.chat.survey import CHAT, IssueCheck
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import article, quote_value


@register
class MissingAssistantMessage(IssueCheck):
    """A chat example has no assistant message.

    What it does:
        Reports chat examples in which no message has the role ``assistant``.

    Why it matters:
        Fine-tuning learns the assistant's replies; without one the example trains
        nothing and the service rejects it.

    Example:
        ``{"messages": [{"role": "user", "content": "Hi"}]}``

    Fix:
        Add the reply the model should learn, or drop the example.
    """

    code = "FT211"
    name = "missing-assistant-message"
    severity = Severity.ERROR
    formats = CHAT
    sees = (Issue.NO_ASSISTANT,)

    def seen(self, line: int, where: str, detail: None) -> None:
        self.report(
            line,
            "The example has no assistant message, so nothing to train on; "
            "add the reply the model should learn",
        )


@register
class MissingUserMessage(IssueCheck):
    """An example has no user message.

    What it does:
        Reports chat examples (and preference inputs) without a message of the role
        ``user``. Examples without a system message are fine.

    Why it matters:
        The model learns to produce the reply unprompted, from the system message
        alone; usually the user turn was lost when the data was converted.

    Example:
        ``[{"role": "system", ...}, {"role": "assistant", "content": "You're great!"}]``

    Fix:
        Add the user turn the reply answers.
    """

    code = "FT212"
    name = "missing-user-message"
    severity = Severity.WARNING
    sees = (Issue.NO_USER,)

    def seen(self, line: int, where: str, detail: None) -> None:
        self.report(
            line,
            f"`{where}` has no user message: the model learns to answer without being asked",
        )


@register
class InvalidWeight(IssueCheck):
    """A message's weight is not 0 or 1, or is on a message that is not trained.

    What it does:
        Reports a ``weight`` other than the numbers 0 and 1 (``0.5``, ``"1"``,
        ``true``), and any weight on a message that is not an assistant message.

    Why it matters:
        The service takes only 0 (do not train this reply) or 1 (train it), and only on
        assistant messages; anything else is rejected.

    Example:
        ``{"role": "assistant", "content": "...", "weight": 0.5}``

    Fix:
        Use 0 or 1 on assistant messages; remove weights from the other roles.
    """

    code = "FT213"
    name = "invalid-weight"
    severity = Severity.ERROR
    sees = (Issue.INVALID_WEIGHT,)

    def seen(self, line: int, where: str, detail: object) -> None:
        # ``where``: the weight, and the detail its value; or a message of another role
        # than assistant with a weight (``where``: the message, the detail: its role).
        if where.endswith(".weight"):
            self.report(
                line,
                f"`{where}` is {quote_value(detail)}; it must be 0 (do not train this reply) "
                "or 1 (train it)",
            )
        else:
            self.report(
                line,
                f"`{where}` is {article(str(detail))} message with a weight; "
                "only assistant messages take one",
            )


@register
class NothingTrained(IssueCheck):
    """Every assistant message of an example has weight 0.

    What it does:
        Reports chat examples whose assistant messages all carry ``"weight": 0``.

    Why it matters:
        The example trains nothing but is still paid for; it is usually a mask applied
        to the wrong turns.

    Example:
        A conversation in which every assistant reply has ``"weight": 0``.

    Fix:
        Give the replies the model should learn weight 1 (or no weight), or drop the
        example.
    """

    code = "FT214"
    name = "nothing-trained"
    severity = Severity.ERROR
    formats = CHAT
    sees = (Issue.NOTHING_TRAINED,)

    def seen(self, line: int, where: str, detail: int) -> None:
        # The detail: how many assistant messages the example has.
        self.report(
            line,
            f"Every assistant message of the example ({detail}) has weight 0, "
            "so it trains nothing; give the replies to learn weight 1",
        )


@register
class ConsecutiveSameRole(IssueCheck):
    """Two messages in a row have the same role.

    What it does:
        Reports a message whose role is that of the message before it (tool messages
        excepted: a turn with several calls has several results).

    Why it matters:
        Conversations alternate; two user or assistant messages in a row are usually
        turns merged or split by mistake, and the model learns an odd rhythm.

    Example:
        ``user``, ``user``, ``assistant``.

    Fix:
        Merge the two messages, or add the missing turn between them.
    """

    code = "FT222"
    reads_views = False
    name = "consecutive-same-role"
    severity = Severity.WARNING
    sees = (Issue.CONSECUTIVE_ROLE,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the role of the message and of the one before it.
        self.report(
            line,
            f"`{where}` is a second {detail} message in a row; "
            "merge it with the one before or add the turn between them",
        )


@register
class MisplacedSystemMessage(IssueCheck):
    """A system or developer message comes after the conversation started.

    What it does:
        Reports system and developer messages that follow a user, assistant or tool
        message.

    Why it matters:
        Instructions go first; one in the middle of a conversation is usually two
        examples glued together, and the model learns to expect instructions mid-way.

    Example:
        ``user``, ``assistant``, ``system``, ``user``, ``assistant``.

    Fix:
        Move the instructions to the start, or split the example in two.
    """

    code = "FT223"
    name = "misplaced-system-message"
    severity = Severity.WARNING
    sees = (Issue.MISPLACED_SYSTEM,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the message's role (system or developer).
        self.report(
            line,
            f"`{where}` is {article(detail)} message after the conversation started; "
            "instructions go first, before the first user message",
        )


@register
class LastMessageNotTrained(IssueCheck):
    """A chat example does not end on a trained assistant reply.

    What it does:
        Reports chat examples whose last message is not an assistant message with
        weight 1 (or no weight), when an earlier one is.

    Why it matters:
        Whatever follows the last trained reply is paid for and not learned: a
        trailing user or tool message is usually a conversation cut in the wrong place.

    Example:
        ``system``, ``user``, ``assistant``, ``user``.

    Fix:
        End the example on the reply the model should give, or drop the trailing
        messages.
    """

    code = "FT224"
    reads_views = False
    name = "last-message-not-trained"
    severity = Severity.WARNING
    formats = CHAT
    sees = (Issue.LAST_NOT_TRAINED,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # ``where``: the last message; the detail: its role.
        if detail == "assistant":
            what = f"an assistant reply with weight 0 (`{where}`)"
        else:
            what = f"a {detail} message (`{where}`) after the last trained reply"
        self.report(
            line,
            f"The example ends on {what}; what follows the last trained reply is not "
            "learned: end on the reply the model should give",
        )
