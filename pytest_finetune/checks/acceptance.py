"""FT604, FT605: what the target accepts besides formats: how many examples, which roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pytest_finetune.checks.registry import Check, option, register
from pytest_finetune.findings import Severity
from pytest_finetune.formats import Format, Record


@dataclass(frozen=True)
class _MaximumOptions:
    max_examples: int = option(
        0, "Most examples the target accepts in one file (0: the target's limit).", minimum=0
    )


@register
class TooManyExamples(Check):
    """The file has more examples than the target accepts in one training file.

    What it does:
        Counts the examples and compares them with ``max-examples``: the target's
        limit (Amazon Bedrock 10,000, Vertex AI 1,000,000, Fireworks 3,000,000; see
        docs/targets.md). Targets without a limit (OpenAI, Together, open-source
        trainers) leave it at 0, no limit.

    Why it matters:
        The service refuses the job when it validates the file, after the upload.

    Example:
        A 12,000-example training file with ``target = "bedrock"``.

    Fix:
        Sample or deduplicate the examples, or split them over several jobs.
    """

    code = "FT604"
    name = "too-many-examples"
    severity = Severity.ERROR
    formats = None
    Options = _MaximumOptions

    def finish(self) -> None:
        examples = self.context.stats.examples
        limit = self.options.max_examples
        if limit and examples > limit:
            target = self.context.settings.target
            over = (
                f"{target.title} accepts at most {limit:,} in a training file"
                if limit == target.max_examples
                else f"over max-examples = {limit:,}"
            )
            self.report(None, f"{examples:,} examples; {over}")


#: Roles every OpenAI chat format knows (FT202 reports the others).
_KNOWN_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@register
class RoleNotForTarget(Check):
    """A message has a role that the target does not take.

    What it does:
        Compares the role of every message of chat and preference data with the roles
        the target takes: Together AI takes system, user and assistant only; Fireworks
        AI those and tool (see docs/targets.md). OpenAI and Azure OpenAI take every
        role of their format, so it never fires there. Roles no chat data knows are
        FT202's; data of a format the target does not accept is FT603's.

    Why it matters:
        The service's file check refuses the file (Together: "Invalid role ... Possible
        roles: system, user, assistant").

    Example:
        A conversation with a ``tool`` message, with ``target = "together"``.

    Fix:
        Fold tool results into the user turn that follows, or drop those examples;
        ``developer`` messages become ``system`` messages.
    """

    code = "FT605"
    name = "role-not-for-target"
    severity = Severity.ERROR
    formats = frozenset({Format.CHAT, Format.PREFERENCE})

    def visitor(self, fmt: Format) -> Callable[[Record], None] | None:
        target = self.context.settings.target
        # Nothing to do where the target takes every role, or not the data at all.
        if target.roles >= _KNOWN_ROLES or fmt not in target.accepted:
            return None
        return super().visitor(fmt)

    def visit(self, record: Record) -> None:
        target = self.context.settings.target
        refused = sorted(
            {role for role in _roles(record) if role in _KNOWN_ROLES and role not in target.roles}
        )
        if refused:
            roles = ", ".join(repr(role) for role in refused)
            takes = ", ".join(sorted(target.roles & _KNOWN_ROLES))
            self.report(
                record.line,
                f"{target.title} does not take the role{'s' if len(refused) > 1 else ''} "
                f"{roles}; it takes {takes}",
            )


def _roles(record: Record) -> Iterator[object]:
    data = record.data
    if record.format is Format.CHAT:
        lists = [data.get("messages")]
    else:
        source = data.get("input")
        lists = [
            source.get("messages") if isinstance(source, dict) else None,
            data.get("preferred_output"),
            data.get("non_preferred_output"),
        ]
    for messages in lists:
        if isinstance(messages, list):
            for message in messages:
                if isinstance(message, dict):
                    yield message.get("role")
