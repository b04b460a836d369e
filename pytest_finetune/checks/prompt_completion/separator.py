"""FT110-FT112: the separator that ends every prompt, and only there."""

from __future__ import annotations

from pytest_finetune.checks.prompt_completion.survey import Member, Sight, convention, too_few
from pytest_finetune.checks.registry import register
from pytest_finetune.findings import Severity
from pytest_finetune.wording import quote


@register
class MissingSeparator(Member):
    r"""No separator ends the prompts.

    What it does:
        Reports, once, prompt/completion data whose prompts share no separator at
        their end, and suggests one of the legacy tool's separators (`` ->``,
        ``\n\n###\n\n``, ``\n\n===\n\n``, ...) that occurs in no prompt (`` ->`` only when
        no prompt has several lines). Open-ended data (all prompts empty) needs none.

    Why it matters:
        Without a fixed marker at the end of each prompt the model cannot tell where
        the prompt stops and the answer starts; it may continue the prompt instead of
        answering. At inference every prompt must end with the same separator.

    Example:
        ``{"prompt": "What is the capital of France?", "completion": " Paris\n"}``

    Fix:
        Append the suggested separator to every prompt (``pytest-finetune prepare``
        does) and to every prompt sent to the fine-tuned model.
    """

    code = "FT110"
    name = "missing-separator"
    severity = Severity.WARNING
    fixable = True

    def enlist(self) -> None:
        survey = self.survey
        survey.suggest_separator = not survey.separator and not survey.open_ended

    def judge(self) -> None:
        survey = self.survey
        if not survey.suggest_separator or not survey.saw_prompt or too_few(self.context):
            return
        candidates = [c for c, _ in survey.separator_candidates]
        if survey.multiline_prompts and " ->" in candidates:
            candidates.remove(" ->")
        suggestion = candidates[0] if candidates else None
        how = (
            f"add one such as {quote(suggestion)}, which occurs in no prompt"
            if suggestion
            else "add a sequence that occurs in no prompt"
        )
        self.report(
            None,
            "The prompts do not end with a common separator, so the model cannot tell "
            f"where a prompt ends; {how}, to the end of every prompt",
        )


@register
class PromptMissingSeparator(Member):
    """A prompt lacks the separator that the other prompts end with.

    What it does:
        Learns the dataset's separator from its first examples (the suffix most
        prompts share, such as `` ->``, or the ``separator`` in configuration) and
        reports each prompt that does not end with it, noting when the separator is
        there but followed by whitespace or placed earlier.

    Why it matters:
        The model learns that the answer starts after the separator; prompts without
        it teach it to answer mid-prompt, and the legacy tool, which took the suffix
        common to all prompts, found no separator at all when one prompt lacked it.

    Example:
        ``{"prompt": "Where is my parcel?", "completion": " shipping"}`` among prompts
        ending with `` ->``.

    Fix:
        Append the separator to the prompt (``pytest-finetune prepare`` does).
    """

    code = "FT111"
    name = "prompt-missing-separator"
    severity = Severity.ERROR
    fixable = True
    sees = (Sight.MISSING_SEPARATOR,)

    def seen(self, line: int, where: str, detail: str) -> None:
        # The detail: the prompt, which does not end with the separator.
        prompt = detail
        separator = self.survey.separator
        hint = ""
        stripped = prompt.rstrip()
        if stripped.endswith(separator):
            hint = f" (it ends with {quote(prompt[len(stripped) - len(separator) :])})"
        elif separator in prompt:
            hint = " (it holds it earlier, not at the end)"
        self.report(
            line,
            f"The prompt does not end with {convention(self.survey, 'prompt')}{hint}; add it",
        )


@register
class SeparatorInsideText(Member):
    """The separator occurs inside a prompt or a completion.

    What it does:
        Reports prompts that hold the dataset's separator before their end, and
        completions that hold it anywhere. Separators of only whitespace (a newline)
        are not searched for: multi-line text holds them everywhere.

    Why it matters:
        The separator tells the model that the prompt is over. Inside a prompt it
        announces the answer too early; inside a completion it teaches the model that
        a new prompt may end in its answer.

    Example:
        ``{"prompt": "Convert -> to => ->", "completion": " =>"}``

    Fix:
        Rephrase the text, or choose a separator that occurs in no example.
    """

    code = "FT112"
    name = "separator-inside-text"
    severity = Severity.WARNING
    sees = (Sight.SEPARATOR_INSIDE,)

    def watches(self) -> bool:
        # A separator of whitespace alone is in most texts, and says nothing there.
        return bool(self.survey.separator.strip())

    def seen(self, line: int, where: str, detail: str) -> None:
        # ``where``: prompt or completion; the detail: the text.
        if where == "prompt":
            self._in_prompt(line, detail)
        else:
            self._in_completion(line, detail)

    def _in_prompt(self, line: int, prompt: str) -> None:
        separator = self.survey.separator
        end = len(prompt) - len(separator) if prompt.endswith(separator) else len(prompt)
        at = prompt.find(separator, 0, end)
        if at >= 0:
            self.report(
                line,
                f"The separator {quote(separator)} also occurs inside the prompt, at "
                f"character {at + 1}; the model cannot tell where the prompt ends: rephrase "
                "the text or choose a separator that occurs in no prompt",
            )

    def _in_completion(self, line: int, completion: str) -> None:
        separator = self.survey.separator
        if separator in completion:
            self.report(
                line,
                f"The separator {quote(separator)} occurs inside the completion; the "
                "model learns to continue after it as if a new prompt had ended: remove it "
                "or choose a separator that occurs in no completion",
            )
