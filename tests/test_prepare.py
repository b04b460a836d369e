"""`pytest-finetune prepare`: safe fixes, conversions, the split, and never losing data."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from conftest import REAL, needs_encodings, needs_fifos
from helpers import intents, jsonl, pc

from pytest_finetune import REGISTRY, Settings, catalog
from pytest_finetune.cli import main
from pytest_finetune.lint import lint
from pytest_finetune.prepare.fixes import FIXES
from pytest_finetune.prepare.split import quotas, valid_size
from pytest_finetune.splits import Role, find

CATALOG = Path(__file__).resolve().parent.parent / "checks"
#: The checks of separators, leading spaces and stop sequences.
CONVENTION_CODES = {"FT110", "FT111", "FT112", "FT120", "FT130", "FT131", "FT132"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder, the working folder of the test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def prepare(*args: str) -> int:
    return main(["prepare", *args])


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def codes(path: Path) -> Counter[str]:
    result = lint(path, Settings())
    return Counter(
        finding.code for outcome in result.outcomes.values() for finding in outcome.findings
    )


def digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- the real files ----------------------------------------------------------------


def test_raw_autotune_data_prepared_lints_without_convention_findings(project, capsys):
    raw = project / "data" / "autotune.jsonl"
    raw.parent.mkdir()
    shutil.copy(REAL / "autotunegpt__data.jsonl", raw)
    before = raw.read_bytes()
    assert codes(raw).keys() & CONVENTION_CODES == {"FT110", "FT120", "FT130"}

    assert prepare("data/autotune.jsonl") == 0

    assert raw.read_bytes() == before  # the input is never modified
    prepared = project / "data" / "autotune_prepared.jsonl"
    assert not codes(prepared).keys() & CONVENTION_CODES
    rows = records(prepared)
    assert len(rows) == 22
    assert all(row["prompt"].endswith("? ->") for row in rows)
    assert all(row["completion"].startswith(" ") for row in rows)
    assert all(row["completion"].endswith(" END") for row in rows)
    out = capsys.readouterr().out
    assert "Add the new separator ' ->' to 22 prompts" in out
    assert "Task: conditional generation" in out


def test_azure_training_file_keeps_its_class_proportions_in_both_splits(project, capsys):
    shutil.copy(REAL / "azuresamples__context_switching_prepared_train.jsonl", "azure.jsonl")
    assert prepare("azure.jsonl", "--out-dir", "data") == 0

    train = records(project / "data" / "azure_prepared_train.jsonl")
    valid = records(project / "data" / "azure_prepared_valid.jsonl")
    assert (len(train), len(valid)) == (142, 36)  # the legacy sizes: 20% of 178
    everything = Counter(row["completion"] for row in train + valid)
    assert everything == {" 1": 51, " 2": 50, " 4": 48, " 3": 29}
    for name, rows in (("train", train), ("valid", valid)):
        counts = Counter(row["completion"] for row in rows)
        share = len(rows) / len(train + valid)
        for label, total in everything.items():
            assert abs(counts[label] - total * share) <= 1, (name, label, counts)
    assert not {row["prompt"] for row in train} & {row["prompt"] for row in valid}
    pair = find(project / "data" / "azure_prepared_valid.jsonl")
    assert pair is not None and pair.role is Role.VALID
    assert pair.train.name == "azure_prepared_train.jsonl"
    # The stray spaces at the start of 40 prompts are gone; the pair lints clean of them.
    out = capsys.readouterr().out
    assert "Remove the whitespace at the start of 40 prompts" in out
    for path in (project / "data").iterdir():
        found = codes(path)
        assert not found.keys() & {"FT113", "FT510", "FT511"}, found


def test_real_files_keep_what_was_right(project):
    """Data that follows its conventions is only normalised, not rewritten."""
    shutil.copy(REAL / "gptchem__mof_solvent_train.jsonl", "mof.jsonl")
    assert prepare("mof.jsonl", "--no-split") == 0
    before = records(REAL / "gptchem__mof_solvent_train.jsonl")
    after = records(project / "mof_prepared.jsonl")
    # The extra keys go and the one duplicated pair is dropped; texts are untouched.
    assert len(after) == len(before) - 1
    assert all(set(row) == {"prompt", "completion"} for row in after)
    pairs = [(row["prompt"], row["completion"]) for row in before]
    assert [(row["prompt"], row["completion"]) for row in after] == list(dict.fromkeys(pairs))


@needs_encodings
def test_the_summary_gives_the_data_its_cost_and_the_exact_next_step(pytester, capsys):
    pytester.makepyprojecttoml('[tool.pytest_finetune]\nmodel = "davinci-002"\n')
    shutil.copy(REAL / "azuresamples__context_switching_prepared_train.jsonl", "azure.jsonl")
    assert prepare("azure.jsonl", "-o", "data") == 0
    out = capsys.readouterr().out
    train = lint(Path("data/azure_prepared_train.jsonl"), Settings()).stats.tokens
    valid = lint(Path("data/azure_prepared_valid.jsonl"), Settings()).stats.tokens
    assert train is not None and valid is not None
    for text in (
        "Task: classification",
        "Conventions: prompts end with ' ->'",
        "Classes: 4, the largest 1.8 times the smallest: ' 1' 51 (29%), ' 2' 50 (28%), "
        "' 4' 48 (27%), ' 3' 29 (16%)",
        "Examples: 178 read, 178 kept",
        "data/azure_prepared_train.jsonl  142 examples (' 1' 41, ' 2' 40, ' 4' 38, ' 3' 23)",
        f"{train['total']:,} tokens in the training file (exact, cl100k_base)",
        f"{valid['total']:,} tokens in the validation file (exact, cl100k_base)",
        "Training davinci-002: 3 epochs (the default for 142 examples), "
        f"{train['billed']:,} tokens billed, about ${train['estimated_cost']:,.2f}",
        "1. Lint the prepared files as your tests will:\n       pytest data/\n",
        "2. To train a model and gate on its accuracy, add to pyproject.toml:",
        '       model = "davinci-002"\n',
        "3. When you call the fine-tuned model, end each prompt with ' ->'.",
    ):
        assert text in out
    # The next step works as printed: the declaration makes a training item.
    block = out.split("add to pyproject.toml:\n", 1)[1].split("   (or mark", 1)[0]
    assert block.splitlines()[0].strip() == "[[tool.pytest_finetune.train]]"
    with Path("pyproject.toml").open("a", encoding="utf-8") as config:
        config.write("\n" + textwrap.dedent(block))
    result = pytester.runpytest_subprocess("--collect-only", "-q", "data/")
    result.stdout.fnmatch_lines(["data/azure_prepared_train.jsonl::finetune[openai:davinci-002]"])


BABBAGE = '"babbage-002"    # the cheapest model for prompt/completion data; or "davinci-002"'


def chat_examples(count: int) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"Where is parcel {i}?"},
                {"role": "assistant", "content": f"Parcel {i} left the depot today."},
            ]
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("config", "chat", "model"),
    [
        # Without a model, prompt/completion data is meant for babbage-002; a chat
        # model cannot train it, so the snippet names babbage-002 instead, with a note.
        ("", False, '"babbage-002"'),
        ('model = "gpt-4.1-mini-2025-04-14"\n', False, BABBAGE),
        ('model = "davinci-002"\n', False, '"davinci-002"'),
        ("", True, '"gpt-4o-mini-2024-07-18"'),
        ('model = "gpt-4.1-mini-2025-04-14"\n', True, '"gpt-4.1-mini-2025-04-14"'),
    ],
    ids=["pc-default", "pc-chat-model", "pc-davinci", "chat-default", "chat-configured"],
)
def test_the_next_step_names_a_model_that_fine_tunes_on_the_data(
    project, capsys, config, chat, model
):
    Path("finetune.toml").write_text(config, "utf-8")
    rows = chat_examples(60) if chat else intents(60)
    Path("data.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("data.jsonl", "--split") == 0
    assert f"\n       model = {model}\n" in capsys.readouterr().out


def test_the_cost_of_a_model_that_cannot_train_the_data_says_so(project, capsys):
    Path("finetune.toml").write_text('model = "gpt-4.1-mini-2025-04-14"\n', "utf-8")
    Path("data.jsonl").write_text(jsonl(*intents(60)), "utf-8")
    assert prepare("data.jsonl", "--split") == 0
    assert (
        "\n  gpt-4.1-mini-2025-04-14 does not fine-tune on prompt/completion data (FT603): "
        "the next step names babbage-002, which does\n"
    ) in capsys.readouterr().out


@pytest.mark.parametrize("real", sorted(REAL.glob("*.jsonl")), ids=lambda path: path.stem)
def test_every_real_file_prepared_lints_clean_of_what_has_a_safe_fix(real, project):
    shutil.copy(real, real.name)
    assert prepare(real.name, "-o", "out") == 0
    for prepared in sorted(Path("out").iterdir()):
        left = {code for code in codes(prepared) if REGISTRY[code].fixable}
        assert not left, f"{prepared.name}: {left}"


# -- the split ---------------------------------------------------------------------


def test_the_split_is_seeded(project):
    Path("a.jsonl").write_text(jsonl(*intents(60)), "utf-8")
    assert prepare("a.jsonl", "-o", "one") == 0
    assert prepare("a.jsonl", "-o", "two") == 0
    assert prepare("a.jsonl", "-o", "three", "--seed", "7") == 0
    one, two, three = (digest(project / name) for name in ("one", "two", "three"))
    assert one == two
    assert one != three
    valid = records(project / "three" / "a_prepared_valid.jsonl")
    assert len(valid) == 12
    assert Counter(row["completion"] for row in valid) == {
        " shipping\n": 4,
        " billing\n": 4,
        " account\n": 4,
    }


def test_generation_data_is_split_only_when_asked_and_never_across_an_input(project):
    rows = [pc(f"Question {i} ->", f" Answer {i}.\n") for i in range(40)]
    # The same question twice with different answers: both must go to one side.
    rows += [pc("Question 3 ->", " Another answer.\n"), pc(" Question 5 ->", " Answer 5!\n")]
    Path("qa.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("qa.jsonl") == 0
    assert Path("qa_prepared.jsonl").exists()
    assert prepare("qa.jsonl", "--split") == 0
    train = records(Path("qa_prepared_train.jsonl"))
    valid = records(Path("qa_prepared_valid.jsonl"))
    assert len(train) + len(valid) == 42
    assert len(valid) == 42 - int(42 * 0.8)
    prompts = {row["prompt"].strip() for row in train}
    assert not prompts & {row["prompt"].strip() for row in valid}


def test_split_sizes_follow_the_legacy_rule():
    assert valid_size(178) == 36
    assert valid_size(10_000) == 1000  # at most 1,000
    assert valid_size(5) == 1
    assert valid_size(2) == 1
    assert valid_size(1) == 0


def test_class_quotas_add_up_and_stay_within_one_of_the_share():
    sizes = {"a": 51, "b": 50, "c": 48, "d": 29, "rare": 1}
    result = quotas(dict(sizes), 36)
    assert sum(result.values()) == 36
    assert result["rare"] == 0  # a class keeps its only example for training
    for name, size in sizes.items():
        assert abs(result[name] - size * 36 / 179) < 1


def test_too_few_examples_to_split_go_to_one_file(project, capsys):
    Path("one.jsonl").write_text(jsonl(pc("Hi ->", " hello\n")), "utf-8")
    assert prepare("one.jsonl", "--split") == 0
    assert Path("one_prepared.jsonl").exists()
    assert "Too few examples to split" in capsys.readouterr().out


# -- conversions -------------------------------------------------------------------


def test_csv_is_converted_with_its_prompt_style_headers(project, capsys):
    Path("intents.csv").write_text(
        "Prompt,Completion,source\n"
        '"Where is my parcel, please?",shipping,web\n'
        '"Why was I charged\ntwice?",billing,mail\n'
        "\n"
        "Cancel my plan,account,web\n",
        "utf-8",
    )
    assert prepare("intents.csv", "--no-split") == 0
    # Three rows are generation data: a separator (not ' ->': a prompt has two lines)
    # and a stop sequence are added, as the checks ask.
    assert records(Path("intents_prepared.jsonl")) == [
        {"prompt": "Where is my parcel, please?\n\n###\n\n", "completion": " shipping\n"},
        {"prompt": "Why was I charged\ntwice?\n\n###\n\n", "completion": " billing\n"},
        {"prompt": "Cancel my plan\n\n###\n\n", "completion": " account\n"},
    ]
    out = capsys.readouterr().out
    assert "Convert 3 rows of CSV to JSON Lines" in out
    assert "Rename 'Prompt' to 'prompt', 'Completion' to 'completion' in 3 examples" in out
    assert "Drop the key 'source' from 3 examples" in out
    assert "Drop 1 blank line" in out


def test_tsv_keeps_numbers_as_text(project):
    rows = [
        (f"Film {i} was {'good' if i % 2 else 'bad'} ->", "5" if i % 2 else "1") for i in range(9)
    ]
    table = "prompt\tcompletion\n" + "".join(f"{p}\t{c}\n" for p, c in rows)
    Path("scores.tsv").write_text(table, "utf-8")
    assert prepare("scores.tsv", "--no-split") == 0
    # A label starting with a digit needs no space (FT120), and stays a string.
    assert records(Path("scores_prepared.jsonl")) == [pc(p, c) for p, c in rows]


def test_json_array_and_pretty_printed_json_are_converted(project):
    data = [pc("Where is my parcel? ->", " shipping\n"), pc("Refund me ->", " billing\n")]
    Path("array.json").write_text(json.dumps(data, indent=2), "utf-8")
    Path("objects.jsonl").write_text("\n".join(json.dumps(d, indent=4) for d in data), "utf-8")
    Path("one_line.jsonl").write_text(json.dumps(data) + "\n", "utf-8")
    for name in ("array.json", "objects.jsonl", "one_line.jsonl"):
        assert prepare(name, "--no-split") == 0
        stem = name.split(".")[0]
        assert records(Path(f"{stem}_prepared.jsonl")) == data
        assert "FT006" not in codes(Path(f"{stem}_prepared.jsonl"))


def test_bom_crlf_blank_lines_and_missing_newline_are_repaired(project, capsys):
    lines = [json.dumps(row) for row in intents(12)]
    raw = "\ufeff" + "\r\n".join(lines[:6]) + "\r\n\r\n" + "\r\n".join(lines[6:])
    Path("windows.jsonl").write_bytes(raw.encode("utf-8"))
    assert prepare("windows.jsonl", "--no-split") == 0
    prepared = Path("windows_prepared.jsonl").read_bytes()
    assert records(Path("windows_prepared.jsonl")) == intents(12)
    assert prepared.count(b"\n") == 12
    assert prepared.endswith(b"\n")
    assert b"\r" not in prepared
    assert not prepared.startswith(b"\xef\xbb\xbf")
    out = capsys.readouterr().out
    for text in (
        "Remove the byte order mark",
        "End 12 lines with LF instead of CRLF",
        "Drop 1 blank line",
        "End the last line with a newline",
    ):
        assert text in out


# -- what each fix does ------------------------------------------------------------


def test_separator_and_stop_follow_the_dataset_and_whitespace_does_not_double_them(project):
    rows = intents(20)
    rows[3] = pc("Where is my parcel? -> ", " shipping\n")  # a space after the separator
    rows[5] = pc("Where is my parcel now?", " shipping")  # neither separator nor stop
    rows[7] = pc("Cancel it ->", "account\n")  # no leading space
    rows[9] = pc("Cancel it now ->", "\n\naccount\n")  # other whitespace
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "--no-split") == 0
    out = records(Path("a_prepared.jsonl"))
    assert out[3] == pc("Where is my parcel? ->", " shipping\n")
    assert out[5] == pc("Where is my parcel now? ->", " shipping\n")
    assert out[7] == pc("Cancel it ->", " account\n")
    assert out[9] == pc("Cancel it now ->", " account\n")


def test_a_new_separator_occurs_in_no_prompt_or_completion(project):
    words = ["parcel", "refund", "invoice", "address", "plan", "card"]
    rows = [
        pc(f"Question {i}?\nAbout my {words[i % 6]}{'s' * (i // 6)}", f" Answer {i} -> done\n")
        for i in range(12)
    ]
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl") == 0
    out = records(Path("a_prepared.jsonl"))
    # ' ->' is not for multi-line prompts, and it occurs in the completions anyway.
    assert all(row["prompt"].endswith("\n\n###\n\n") for row in out)
    assert not codes(Path("a_prepared.jsonl")).keys() & CONVENTION_CODES


def test_completions_starting_with_a_digit_keep_no_space(project):
    rows = [pc(f"Rate film {i} ->", f"{i % 5}") for i in range(30)]
    rows.append(pc("Rate film x ->", "\n4"))
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl") == 0
    out = records(Path("a_prepared_train.jsonl")) + records(Path("a_prepared_valid.jsonl"))
    completions = {row["completion"] for row in out}
    assert completions == {"0", "1", "2", "3", "4", " 4"}
    assert "FT120" not in codes(Path("a_prepared_train.jsonl"))


def test_empty_examples_and_duplicates_are_dropped(project, capsys):
    rows = intents(15)
    rows += [pc("Where is it? ->", ""), pc("", " billing\n"), rows[2], rows[4]]
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "--no-split", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Drop 2 examples with an empty prompt or completion" in out
    assert "line 17: dropped" in out
    assert "Drop 2 exact duplicates of earlier examples" in out
    assert "line 18: dropped same as line 3" in out
    assert prepare("a.jsonl", "--no-split") == 0
    assert records(Path("a_prepared.jsonl")) == intents(15)


def test_open_ended_data_keeps_its_empty_prompts(project):
    rows = [pc("", f" A story about {name}.\n") for name in ("cats", "dogs", "owls", "bees")]
    Path("stories.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("stories.jsonl") == 0
    assert records(Path("stories_prepared.jsonl")) == rows


def test_chat_and_preference_data_are_deduplicated_and_renamed(project):
    chat = {
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    }
    Path("chat.jsonl").write_text(jsonl(chat, {"id": 2, **chat}, chat), "utf-8")
    assert prepare("chat.jsonl") == 0
    assert records(Path("chat_prepared.jsonl")) == [chat]

    pair = {
        "input": {"messages": [{"role": "user", "content": "Hi"}]},
        "preferred_completion": [{"role": "assistant", "content": "Hello!"}],
        "non_preferred_completion": [{"role": "assistant", "content": "What?"}],
    }
    Path("pairs.jsonl").write_text(jsonl(pair), "utf-8")
    assert prepare("pairs.jsonl") == 0
    [renamed] = records(Path("pairs_prepared.jsonl"))
    assert list(renamed) == ["input", "preferred_output", "non_preferred_output"]


# -- opt-in fixes and the selection ------------------------------------------------


def test_unsafe_fixes_run_only_when_named(project, capsys):
    rows = [
        pc(f"Classify this customer message: {text} ->", f" Answer: {label}\n")
        for text, label in [("WHERE IS MY PARCEL", "SHIPPING"), ("REFUND ME", "BILLING")] * 6
    ]
    rows.append(pc("Classify this customer message: REFUND ME ->", " Answer: SHIPPING\n"))
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "-o", "safe", "--no-split") == 0
    assert records(Path("safe/a_prepared.jsonl"))[0] == rows[0]
    assert (
        prepare(
            "a.jsonl",
            "--no-split",
            "--fix",
            "strip-prompt-prefix,strip-completion-prefix",
            "--fix",
            "lowercase",
            "--fix",
            "drop-conflicting",
        )
        == 0
    )
    out = records(Path("a_prepared.jsonl"))
    # Every "refund me" example is dropped: one of them says shipping.
    assert out == [pc("where is my parcel ->", " shipping\n")]
    text = capsys.readouterr().out
    assert "Remove the prefix 'Classify this customer message: ' from 13 prompts" in text
    assert "Drop 7 examples whose input has more than one target" in text


def test_examples_over_the_token_limit_are_dropped_when_asked(project, capsys):
    Path("finetune.toml").write_text(
        'model = "tiny"\n[models.tiny]\nencoding = "o200k_base"\ntraining-limit = 40\n', "utf-8"
    )
    rows = intents(12)
    rows[4] = pc("Tell me everything about my parcel ->", " " + "very " * 60 + "long\n")
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "--no-split", "--fix", "drop-too-long") == 0
    assert records(Path("a_prepared.jsonl")) == rows[:4] + rows[5:]
    out = capsys.readouterr().out
    assert "Drop 1 example over the 40 tokens tiny trains on" in out
    assert "FT601" not in codes(Path("a_prepared.jsonl"))


def test_fixes_follow_the_configuration_and_no_fix(project):
    Path("finetune.toml").write_text('ignore = ["FT120"]\n', "utf-8")
    rows = [pc(f"Question {i}", f"Answer {i}.") for i in range(12)]
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "--no-fix", "add-stop") == 0
    out = records(Path("a_prepared.jsonl"))
    assert out[0] == pc("Question 0 ->", "Answer 0.")


def test_fix_names_are_checked(project, capsys):
    Path("a.jsonl").write_text(jsonl(*intents(12)), "utf-8")
    assert prepare("a.jsonl", "--fix", "lowercse") == 2
    assert "unknown fix 'lowercse'; did you mean 'lowercase'?" in capsys.readouterr().err
    assert prepare("a.jsonl", "--no-fix", "crlf-to-lf") == 2
    assert "cannot be turned off" in capsys.readouterr().err
    assert prepare("a.jsonl", "--fix", "lowercase", "--no-fix", "lowercase") == 2
    assert prepare("a.jsonl", "--model", "gpt-5-turbo-max") == 2
    assert "unknown model 'gpt-5-turbo-max'" in capsys.readouterr().err
    assert not list(project.glob("*_prepared*"))


def test_every_fixable_check_has_a_safe_fix_and_every_fix_a_check():
    claimed = {code for fix in FIXES if fix.safe for code in fix.codes}
    fixable = {code for code, check in REGISTRY.items() if check.fixable}
    assert fixable <= claimed
    for fix in FIXES:
        for code in fix.codes:
            assert code in REGISTRY, f"{fix.name} claims {code}, which is no check"
            assert REGISTRY[code].fixable == fix.safe, f"{fix.name}: {code}"


FIXABLE = sorted((check for check in REGISTRY.values() if check.fixable), key=lambda c: c.code)


@pytest.mark.parametrize("check", FIXABLE, ids=lambda check: check.code)
def test_prepared_catalog_failing_example_no_longer_fails(check, tmp_path, monkeypatch):
    folder = CATALOG / check.slug()
    examples = catalog.examples(folder, "fail")
    assert examples
    for example in examples:
        work = tmp_path / example.name
        monkeypatch.chdir(tmp_path)
        shutil.copy(example, work)
        assert main(["prepare", str(work), "-o", str(tmp_path / "out")]) == 0
        for prepared in sorted((tmp_path / "out").iterdir()):
            result = lint(prepared, Settings(overrides={"select": [check.code]}))
            assert result.outcomes[check.code].findings == [], prepared.read_text("utf-8")
        shutil.rmtree(tmp_path / "out")


# -- nothing is lost ---------------------------------------------------------------


def test_dry_run_writes_nothing(project, capsys):
    Path("data").mkdir()
    Path("data/a.jsonl").write_text(jsonl(*[pc(f"Q{i}", f"A{i}") for i in range(12)]), "utf-8")
    before = digest(project)
    assert prepare("data/a.jsonl", "--dry-run", "--split") == 0
    assert digest(project) == before
    out = capsys.readouterr().out
    assert "(dry run: nothing is written)" in out
    assert "Fixes to apply:" in out
    assert "line 1: 'Q0' -> 'Q0 ->'" in out
    assert "Would write:" in out
    assert "data/a_prepared_train.jsonl  9 examples" in out


def test_dry_run_samples_mask_secrets(project, capsys):
    key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0EF"
    rows = [pc(f"Q{i} ->", f" A{i}\n") for i in range(12)]
    rows[0] = pc("Q0 ->", f"use {key} for the tests")
    rows[1] = pc("my card is 4111111111111111 ->", "")
    Path("a.jsonl").write_text(jsonl(*rows), "utf-8")
    assert prepare("a.jsonl", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "line 1: 'use sk-*** for the tests' -> ' use sk-*** for the tests'" in out
    assert "line 1: ' use sk-*** for the tests' -> ' use sk-*** for the tests\\n'" in out
    assert 'line 2: dropped \'{"completion":"","prompt":"my card is ****1111 ->"}\'' in out
    assert "Ab3dEf" not in out
    assert "41111111" not in out


def test_an_existing_output_is_never_overwritten(project, capsys):
    Path("a.jsonl").write_text(jsonl(*intents(30)), "utf-8")
    Path("a_prepared_valid.jsonl").write_text("mine\n", "utf-8")
    before = digest(project)
    assert prepare("a.jsonl") == 1
    err = capsys.readouterr().err
    assert "a_prepared_valid.jsonl already exists; prepare never overwrites a file" in err
    assert "--out-dir" in err
    assert digest(project) == before  # not even the training half was written
    assert prepare("a.jsonl", "--dry-run") == 0
    assert "A real run would stop here" in capsys.readouterr().out


def test_a_folder_or_an_unwritable_destination_is_refused(project, capsys):
    Path("data").mkdir()
    assert prepare("data") == 1
    assert "data is a folder; prepare takes one file" in capsys.readouterr().err
    Path("a.jsonl").write_text(jsonl(*intents(30)), "utf-8")
    Path("taken").write_text("a file, not a folder\n", "utf-8")
    before = digest(project)
    # A mistaken option is a usage error (exit 2), as the docs say.
    assert prepare("a.jsonl", "--out-dir", "taken") == 2
    assert capsys.readouterr().err == (
        "pytest-finetune prepare: --out-dir: taken is not a folder; give a folder to write "
        "into (created if missing)\n"
    )
    assert prepare("a.jsonl", "--out-dir", "taken/sub") == 2
    assert capsys.readouterr().err == (
        "pytest-finetune prepare: --out-dir: cannot create the folder taken/sub: taken is not "
        "a folder\n"
    )
    assert digest(project) == before


def test_a_symlink_loop_is_refused_as_one(project, capsys):
    Path("loop.jsonl").symlink_to("loop.jsonl")
    assert prepare("loop.jsonl") == 1
    assert capsys.readouterr().err == (
        "pytest-finetune prepare: loop.jsonl is a symlink loop: it cannot be resolved to a "
        "file; point the link at the data\n"
    )


def test_text_json_cannot_encode_is_written_escaped(project):
    """A lone surrogate (valid JSON, not UTF-8) is kept, escaped, not lost."""
    Path("a.jsonl").write_text(
        '{"prompt": "Odd \\ud800 text ->", "completion": " odd\\n"}\n' + jsonl(*intents(11)),
        "utf-8",
    )
    assert prepare("a.jsonl", "--no-split") == 0
    assert records(Path("a_prepared.jsonl"))[0] == pc("Odd \ud800 text ->", " odd\n")


def test_no_temporary_file_is_left_behind(project):
    Path("a.jsonl").write_text(jsonl(*intents(30)), "utf-8")
    assert prepare("a.jsonl") == 0
    assert sorted(path.name for path in project.iterdir()) == [
        "a.jsonl",
        "a_prepared_train.jsonl",
        "a_prepared_valid.jsonl",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "broken.jsonl",
            jsonl(*intents(3)) + '{"prompt": "x ->", "completion": " y",}\n' + "[1, 2]\n",
            [
                "broken.jsonl: 2 lines cannot be read as examples",
                "broken.jsonl:4:38: FT003 Invalid JSON: trailing comma is not allowed",
                "broken.jsonl:5: FT005 The line holds an array, not a JSON object",
            ],
        ),
        (
            "latin1.csv",
            b"prompt,completion\ncaf\xe9 ->,drink\n",
            ["latin1.csv:2: FT004 Invalid UTF-8: byte b'\\xe9' at file offset 21"],
        ),
        (
            "ragged.csv",
            "prompt,completion\na ->,b\nc ->,d,e\n",
            ["ragged.csv:3: 3 fields, the header has 2"],
        ),
        (
            "items.json",
            '[\n  {"prompt": "a ->", "completion": " b"},\n  "c"\n]\n',
            ["items.json:3: FT005 The line holds a string, not a JSON object"],
        ),
        ("bad.json", '[\n  {"prompt": "a ->",\n   "completion" " b"}\n]\n', ["bad.json:3:17:"]),
        ("empty.jsonl", "", ["empty.jsonl: the file is empty; there is nothing to prepare"]),
        ("sheet.xlsx", b"PK\x03\x04", ["export the sheet as CSV"]),
        (
            "pretraining.jsonl",
            jsonl({"text": "A document to continue."}),
            ["plain text (a single text field) data, which OpenAI does not fine-tune on"],
        ),
        (
            "twice.jsonl",
            '{"prompt": "a ->", "completion": " b", "completion": " c"}\n',
            ["twice.jsonl:1: FT010 Key 'completion' appears twice"],
        ),
        ("missing.jsonl", None, ["missing.jsonl: no such file"]),
        (
            "gzipped.jsonl",
            b"\x1f\x8b\x08\x00" + bytes(60),
            ["FT002 The file is not JSON Lines text"],
        ),
        (
            "unclosed.csv",
            'prompt,completion\n"Where is it? ->,shipping\nRefund me ->,billing\n',
            ["unclosed.csv:2: 1 field, the header has 2"],
        ),
    ],
)
def test_bad_input_is_refused_with_file_and_line(project, capsys, name, content, message):
    if isinstance(content, str):
        Path(name).write_text(content, "utf-8")
    elif content is not None:
        Path(name).write_bytes(content)
    before = digest(project)
    assert prepare(name) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    for text in message:
        assert text in captured.err
    assert digest(project) == before


@needs_fifos
def test_pipes_and_devices_are_refused_without_being_opened(project, capsys):
    os.mkfifo("pipe.jsonl")  # opening it to read would wait for a writer forever
    for name in ("pipe.jsonl", "/dev/null"):
        assert prepare(name) == 1
        assert capsys.readouterr().err == (
            f"pytest-finetune prepare: {name}: not a regular file (a pipe or a device); "
            "prepare a dataset file\n"
        )
    assert sorted(path.name for path in project.iterdir()) == ["pipe.jsonl"]
