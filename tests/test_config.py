"""Configuration: ruff's vocabulary, the nearest file wins, and nothing unknown is ignored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import write_files
from helpers import intents, jsonl

from pytest_finetune import REGISTRY, Check, Family, Settings, Severity, models, option, register
from pytest_finetune.cli import main
from pytest_finetune.config_keys import ConfigError

GOOD = jsonl(*intents(100))


def selected(tmp_path: Path, config: str, name: str = "data/train.jsonl", **cli) -> list[str]:
    write_files(tmp_path, {"pyproject.toml": config, name: GOOD})
    settings = Settings(overrides={key.replace("_", "-"): value for key, value in cli.items()})
    return [check.code for check in settings.for_file(tmp_path / name).checks]


def test_everything_is_selected_by_default(tmp_path):
    codes = selected(tmp_path, "")
    assert "FT001" in codes
    assert "FT017" in codes


def test_select_takes_codes_prefixes_and_names(tmp_path):
    config = '[tool.pytest_finetune]\nselect = ["FT00", "invalid-utf8", "FT013"]\n'
    assert selected(tmp_path, config) == [f"FT00{i}" for i in range(1, 10)] + ["FT013"]


def test_ignore_wins_at_equal_specificity_and_the_more_specific_selector_wins(tmp_path):
    config = '[tool.pytest_finetune]\nselect = ["FT00", "FT003"]\nignore = ["FT00"]\n'
    assert selected(tmp_path, config) == ["FT003"]


def test_extend_select_adds_to_select(tmp_path):
    config = '[tool.pytest_finetune]\nselect = ["FT001"]\nextend-select = ["FT002"]\n'
    assert selected(tmp_path, config) == ["FT001", "FT002"]


def test_per_file_ignores_match_globs_relative_to_the_config_file(tmp_path):
    config = (
        "[tool.pytest_finetune]\nselect = ['FT001', 'FT002']\n"
        "[tool.pytest_finetune.per-file-ignores]\n"
        "'data/legacy/*' = ['FT001']\n'*_valid.jsonl' = ['FT002']\n"
    )
    assert selected(tmp_path, config, "data/legacy/old.jsonl") == ["FT002"]
    assert selected(tmp_path, config, "data/new_valid.jsonl") == ["FT001"]
    assert selected(tmp_path, config, "data/train.jsonl") == ["FT001", "FT002"]


def test_command_line_select_starts_a_new_set_and_ignore_adds(tmp_path):
    # As in ruff, the command line is the last layer: its select discards what the file
    # selected and ignored; its ignore and extend-select change the file's set.
    config = '[tool.pytest_finetune]\nselect = ["FT001"]\nignore = ["FT002"]\n'
    assert selected(tmp_path, config, select=["FT002", "FT003"]) == ["FT002", "FT003"]
    assert selected(tmp_path, config, select=["FT00"], ignore=["FT003"]) == [
        "FT001",
        "FT002",
        "FT004",
        "FT005",
        "FT006",
        "FT007",
        "FT008",
        "FT009",
    ]
    assert selected(tmp_path, config, ignore=["FT001"], extend_select=["FT003"]) == ["FT003"]


def test_command_line_select_discards_the_files_ignore_and_extend_select(tmp_path):
    config = '[tool.pytest_finetune]\nignore = ["FT014"]\nextend-select = ["FT010"]\n'
    assert selected(tmp_path, config, select=["FT014"]) == ["FT014"]
    fast = selected(tmp_path, config, select=["FT12"])
    assert fast and all(code.startswith("FT12") for code in fast)


def test_each_layer_that_selects_starts_a_new_set(tmp_path):
    # ini < file < command line: the file's select discards the ini's ignore and
    # extend-select; the command line's ignore then changes the file's set.
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT00"]\n',
            "other/finetune.toml": 'ignore = ["FT002"]\n',
        },
    )
    ini = {"ignore": ["FT001"], "extend-select": ["FT013"]}
    settings = Settings(defaults=ini, overrides={"ignore": ["FT003"]})
    codes = [check.code for check in settings.for_file(tmp_path / "data/train.jsonl").checks]
    assert codes == ["FT001", "FT002", *(f"FT00{i}" for i in range(4, 10))]
    # A file without select adds its ignore to the ini's.
    codes = [check.code for check in settings.for_file(tmp_path / "other/train.jsonl").checks]
    assert [c for c in codes if c < "FT014"] == [
        "FT004",
        "FT005",
        "FT006",
        "FT007",
        "FT008",
        "FT009",
        "FT011",
        "FT012",
        "FT013",
    ]


def test_per_file_ignores_remove_checks_however_specifically_selected(tmp_path):
    config = (
        '[tool.pytest_finetune]\nselect = ["FT120", "FT014"]\n'
        "[tool.pytest_finetune.per-file-ignores]\n'data/legacy/*' = ['FT1']\n"
    )
    assert selected(tmp_path, config, "data/legacy/old.jsonl") == ["FT014"]
    assert selected(tmp_path, config, "data/train.jsonl") == ["FT014", "FT120"]
    # The command line's select does not discard them either.
    assert selected(tmp_path, config, "data/legacy/old.jsonl", select=["FT120"]) == []
    assert selected(tmp_path, config, "data/legacy/old.jsonl", extend_select=["FT120"]) == ["FT014"]


@pytest.mark.parametrize(
    ("glob", "name", "ignored"),
    [
        ("data/legacy/*", "data/legacy/old.jsonl", True),
        ("data/legacy/", "data/legacy/old.jsonl", True),
        ("**/legacy/*.jsonl", "data/legacy/old.jsonl", True),
        ("**/legacy/*.jsonl", "legacy/old.jsonl", True),  # **/ matches no folder too
        ("legacy", "data/legacy/old.jsonl", True),
        ("./data/legacy/*", "data/legacy/old.jsonl", True),
        ("./legacy", "data/legacy/old.jsonl", False),  # ./ anchors to the config folder
        ("./legacy", "legacy/old.jsonl", True),
        ("data/**/*.jsonl", "data/answers_train.jsonl", True),
        ("data/**/*.jsonl", "data/a/b/answers_train.jsonl", True),
        ("data/**/*.jsonl", "other/answers_train.jsonl", False),
        ("{root}/data/legacy/*", "data/legacy/old.jsonl", True),
        ("{root}/data/legacy/*", "data/new.jsonl", False),
        ("/elsewhere/data/legacy/*", "data/legacy/old.jsonl", False),
    ],
)
def test_per_file_ignores_take_the_glob_forms_ruff_takes(tmp_path, glob, name, ignored):
    glob = glob.format(root=tmp_path.as_posix())
    config = (
        "[tool.pytest_finetune]\nselect = ['FT001', 'FT002']\n"
        f"[tool.pytest_finetune.per-file-ignores]\n'{glob}' = ['FT001']\n"
    )
    assert selected(tmp_path, config, name) == (["FT002"] if ignored else ["FT001", "FT002"])


def test_include_and_exclude_take_the_same_glob_forms(tmp_path):
    write_files(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest_finetune]\ninclude = ['./data/**/*.jsonl']\n"
            f"exclude = ['{tmp_path.as_posix()}/data/skip/*']\n",
        },
    )
    settings = Settings()
    assert settings.is_dataset(tmp_path / "data/train.jsonl")
    assert settings.is_dataset(tmp_path / "data/a/train.jsonl")
    assert not settings.is_dataset(tmp_path / "data/skip/train.jsonl")
    assert not settings.is_dataset(tmp_path / "other/train.jsonl")


def test_the_nearest_configuration_file_wins(tmp_path):
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT001"]\n',
            "data/finetune.toml": 'select = ["FT002"]\n',
            "data/train.jsonl": GOOD,
            "other/train.jsonl": GOOD,
        },
    )
    settings = Settings()
    assert [c.code for c in settings.for_file(tmp_path / "data/train.jsonl").checks] == ["FT002"]
    assert [c.code for c in settings.for_file(tmp_path / "other/train.jsonl").checks] == ["FT001"]


def test_check_options_and_severity_come_from_check_tables_by_code_or_name(tmp_path):
    write_files(
        tmp_path,
        {
            "pyproject.toml": (
                "[tool.pytest_finetune.checks.FT013]\nmin-examples = 20\n"
                "[tool.pytest_finetune.checks.few-examples]\nseverity = 'error'\nchat = 10\n"
            ),
            "data/train.jsonl": GOOD,
        },
    )
    file = Settings().for_file(tmp_path / "data/train.jsonl")
    assert file.options["FT013"].min_examples == 20
    assert file.options["FT014"].chat == 10
    assert str(file.severities["FT014"]) == "error"
    assert str(file.severities["FT013"]) == "error"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('selct = ["FT001"]', "unknown key 'selct'; did you mean 'select'?"),
        ('select = ["FT999"]', "unknown check 'FT999'"),
        ('select = ["invalid-jsn"]', "did you mean 'invalid-json'?"),
        ('ignore = "FT001"\nfail-on = "fatal"', "fail-on must be one of error, warning, info"),
        (
            "[checks.FT013]\nmin-exampels = 5",
            "unknown option 'min-exampels'; did you mean 'min-examples'?",
        ),
        ('[checks.FT013]\nmin-examples = "five"', "min-examples must be int"),
        ("[checks.FT0133]\nmin-examples = 5", "unknown check 'FT0133'"),
        (
            "[checks.FT014]\nchat = 5\n[checks.few-examples]\nchat = 6",
            "checks.FT014 and checks.few-examples are the same check (FT014 few-examples); "
            "merge them into one table",
        ),
        ("max-line-bytes = -1", "max-line-bytes must be a positive integer"),
        (
            "[checks.class-imbalance]\nmax-ratio = -1",
            "checks.class-imbalance.max-ratio must be at least 1, got -1",
        ),
        ("[checks.FT602]\nmax-cost = -5", "checks.FT602.max-cost must be at least 0, got -5"),
        ("[checks.FT140]\nrows = 0", "checks.FT140.rows must be at least 1, got 0"),
        (
            '[models.gpt-x]\nencoding = "o200k"',
            "models.gpt-x.encoding: unknown tiktoken encoding 'o200k'; did you mean "
            "'o200k_base'? (encodings: gpt2, r50k_base,",
        ),
        (
            '[models.gpt-x]\nencoding = "nope"',
            "models.gpt-x.encoding: unknown tiktoken encoding 'nope' (encodings: gpt2,",
        ),
        (
            '[models.gpt-x]\nformats = ["chats"]',
            "models.gpt-x.formats: unknown format 'chats'; did you mean 'chat'? (formats: chat, "
            "preference, prompt_completion)",
        ),
        (
            '[models.gpt-x]\nformats = "chat"',
            "models.gpt-x.formats must be a list of the formats the model fine-tunes on, some "
            "of chat, preference, prompt_completion",
        ),
        (
            '[models.gpt-x]\nformat = ["chat"]',
            "models.gpt-x: unknown key(s) format; did you mean 'formats'? (keys: encoding, "
            "training-limit, training-price, formats)",
        ),
        ("select = [", "not valid TOML"),
        # Numbers a check cannot compare with: nan passes every limit, so the check
        # would find nothing (FT501 on 19:1 data) and a cost guard would let any job by.
        ("[checks.FT501]\nmax-ratio = nan", "checks.FT501.max-ratio must be a finite number"),
        ("[checks.FT306]\nmax-share = inf", "checks.FT306.max-share must be a finite number"),
        ("[checks.FT602]\nmax-cost = nan", "checks.FT602.max-cost must be a finite number"),
        ("[training]\nmax-cost = nan", "training.max-cost must be a finite number"),
        ("[training]\nmax-cost = -1", "training.max-cost must be a number >= 0"),
        (
            "[models.gpt-4o-mini]\ntraining-price = nan",
            "models.gpt-4o-mini.training-price must be a number >= 0 (USD per 1M tokens), got nan",
        ),
        (
            "[models.gpt-4o-mini]\ntraining-price = -3",
            "models.gpt-4o-mini.training-price must be a number >= 0 (USD per 1M tokens), got -3",
        ),
        (
            "max-line-bytes = 9223372036854775807",
            "max-line-bytes must be at most 9,007,199,254,740,992 (2**53)",
        ),
        (
            "[checks.FT013]\nmin-examples = 9223372036854775807",
            "checks.FT013.min-examples must be at most 9,007,199,254,740,992 (2**53)",
        ),
        ("x = " + "[" * 5000, "not valid TOML: nested too deeply to read"),
        # A declaration without a training file would not become an item: the
        # accuracy gate would silently disappear.
        ("[[train]]\ntrain = 5", "train[0]: train must be a non-empty string, got 5"),
        ('[[train]]\ntrain = "a.jsonl"\nvalid = 7', "valid must be a non-empty string"),
    ],
)
def test_configuration_errors_name_the_file_and_the_fix(tmp_path, config, message):
    write_files(tmp_path, {"data/finetune.toml": config + "\n", "data/train.jsonl": GOOD})
    with pytest.raises(ConfigError) as error:
        Settings().for_file(tmp_path / "data/train.jsonl")
    assert message in str(error.value)
    assert "finetune.toml" in str(error.value)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("finetune.toml", 'model = "x"\n'),
        ("pyproject.toml", '[tool.pytest_finetune]\nmodel = "x"\n'),
    ],
)
def test_a_configuration_file_that_is_not_utf8_is_an_error_naming_it(tmp_path, name, config):
    write_files(tmp_path, {f"data/{name}": config.encode("utf-16"), "data/train.jsonl": GOOD})
    with pytest.raises(ConfigError) as error:
        Settings().for_file(tmp_path / "data/train.jsonl")
    assert str(error.value) == (
        f"{tmp_path / 'data' / name}: not UTF-8 text; a configuration file must be UTF-8 "
        "TOML: save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("tool = 3\n", "pyproject.toml: [tool] must be a table"),
        (
            "[tool]\npytest_finetune = 3\n",
            "pyproject.toml [tool.pytest_finetune] must be a table, got 3",
        ),
        (
            "[tool.pytest_finetune]\nchecks = 3\n",
            "pyproject.toml [tool.pytest_finetune]: checks must be a table",
        ),
        (
            "[tool.pytest_finetune.checks]\nclass-imbalance = 3\n",
            "pyproject.toml [tool.pytest_finetune]: checks.class-imbalance must be a table of "
            "options",
        ),
        (
            "[tool.pytest_finetune]\ntrain = 3\n",
            "pyproject.toml [tool.pytest_finetune]: train must be an array of tables: "
            "[[tool.pytest_finetune.train]]",
        ),
        (
            "[tool.pytest_finetune]\ntrain = [3]\n",
            "pyproject.toml [tool.pytest_finetune]: train must be an array of tables: "
            "[[tool.pytest_finetune.train]]",
        ),
        (
            "[tool.pytest_finetune]\nmodels = 3\n",
            "pyproject.toml [tool.pytest_finetune]: models must be a table of model tables",
        ),
        (
            "[tool.pytest_finetune.models]\ngpt-x = 3\n",
            "models.gpt-x must be a table of encoding, training-limit, training-price, formats",
        ),
        (
            "[tool.pytest_finetune]\nper-file-ignores = 3\n",
            "pyproject.toml [tool.pytest_finetune]: per-file-ignores must be a table of "
            "glob = [codes]",
        ),
        (
            "[tool.pytest_finetune.training]\nopenai = 3\n",
            "pyproject.toml [tool.pytest_finetune]: training.openai must be a table",
        ),
    ],
)
def test_a_value_where_a_table_belongs_is_an_error_at_every_level(tmp_path, config, message):
    write_files(tmp_path, {"data/pyproject.toml": config, "data/train.jsonl": GOOD})
    with pytest.raises(ConfigError) as error:
        Settings().for_file(tmp_path / "data/train.jsonl")
    assert str(error.value).endswith(message)
    assert str(error.value).startswith(str(tmp_path / "data"))


def test_a_table_that_is_not_a_table_stops_pytest_with_a_usage_error(lint, pytester):
    run = lint({"pyproject.toml": "[tool]\npytest_finetune = 3\n", "data/train.jsonl": GOOD})
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert run.result.stderr.lines[0] == (
        f"ERROR: {pytester.path / 'pyproject.toml'} [tool.pytest_finetune] must be a table, got 3"
    )
    assert "INTERNALERROR" not in run.output


ADD_IT = "with its encoding, training-limit and training-price"


@pytest.mark.parametrize(
    ("config", "cli", "message"),
    [
        (
            "",
            "gpt4o-mini",
            "command line: model: unknown model 'gpt4o-mini'; did you mean 'gpt-4o-mini'? Or "
            f"add it as [tool.pytest_finetune.models.'gpt4o-mini'] (in pyproject.toml; [models.'gpt4o-mini'] in finetune.toml) {ADD_IT}",
        ),
        (
            'model = "no-such-model"\n',
            None,
            "{file}: model: unknown model 'no-such-model'; add it as "
            f"[tool.pytest_finetune.models.'no-such-model'] (in pyproject.toml; [models.'no-such-model'] in finetune.toml) {ADD_IT}",
        ),
        (
            'model = "gtp-4o-mini"\n[models.gpt-x]\ntraining-limit = 100\n',
            None,
            "{file}: model: unknown model 'gtp-4o-mini'; did you mean 'gpt-4o-mini'? Or add it "
            f"as [tool.pytest_finetune.models.'gtp-4o-mini'] (in pyproject.toml; [models.'gtp-4o-mini'] in finetune.toml) {ADD_IT}",
        ),
        (
            "[models.gpt-x]\ntraining-limit = 100\n",
            "ft:gpt-y:org::abc",
            "command line: model: unknown model 'ft:gpt-y:org::abc'; did you mean 'gpt-x'? Or "
            f"add it as [tool.pytest_finetune.models.'gpt-y'] (in pyproject.toml; [models.'gpt-y'] in finetune.toml) {ADD_IT}",
        ),
    ],
)
def test_an_unknown_model_is_an_error_with_a_did_you_mean(tmp_path, config, cli, message):
    write_files(tmp_path, {"data/finetune.toml": config, "data/train.jsonl": GOOD})
    settings = Settings(overrides={"model": cli} if cli else {})
    with pytest.raises(ConfigError) as error:
        settings.for_file(tmp_path / "data/train.jsonl")
    assert str(error.value) == message.format(file=tmp_path / "data" / "finetune.toml")


@pytest.mark.parametrize(
    ("config", "cli", "resolved"),
    [
        ("", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # a dated snapshot: its family
        ("", "ft:gpt-4o-mini-2024-07-18:org::abc", "gpt-4o-mini"),  # a fine-tuned model
        ("", "gpt-3.5-turbo-1106", "gpt-3.5-turbo"),
        ("[models.my-own]\ntraining-limit = 100\n", None, "my-own"),
        ("[models.my-own]\ntraining-limit = 100\n", "my-own-v2", "my-own"),
    ],
)
def test_models_that_resolve_by_prefix_or_the_models_table_are_accepted(
    tmp_path, config, cli, resolved
):
    if cli is None:
        config = 'model = "my-own"\n' + config
    write_files(tmp_path, {"data/finetune.toml": config, "data/train.jsonl": GOOD})
    settings = Settings(overrides={"model": cli} if cli else {})
    file = settings.for_file(tmp_path / "data/train.jsonl")
    spec = models.model_spec(file.model, file.config)
    assert spec.name == (cli or "my-own")
    limit = 100 if resolved == "my-own" else models.MODELS[resolved].training_limit
    assert spec.training_limit == limit


def test_an_unknown_model_on_the_command_line_stops_pytest_at_once(lint):
    run = lint({"data/train.jsonl": GOOD}, "--finetune-model=gpt4o-mini")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert run.result.stderr.lines[0] == (
        "ERROR: command line: model: unknown model 'gpt4o-mini'; did you mean 'gpt-4o-mini'? "
        f"Or add it as [tool.pytest_finetune.models.'gpt4o-mini'] (in pyproject.toml; [models.'gpt4o-mini'] in finetune.toml) {ADD_IT}"
    )


def test_options_at_their_minimum_are_accepted(tmp_path):
    write_files(
        tmp_path,
        {
            "data/finetune.toml": "[checks.class-imbalance]\nmax-ratio = 1\n"
            "[checks.FT602]\nmax-cost = 0\n",
            "data/train.jsonl": GOOD,
        },
    )
    file = Settings().for_file(tmp_path / "data/train.jsonl")
    assert file.options["FT501"].max_ratio == 1.0
    assert file.options["FT602"].max_cost == 0.0


def test_an_option_that_defaults_below_its_minimum_is_refused_when_declared():
    @dataclass(frozen=True)
    class Options:
        limit: int = option(-1, "A limit.", minimum=0)

    class Broken(Check):
        """A check.

        What it does:
            Nothing.

        Why it matters:
            Nothing.

        Example:
            None.

        Fix:
            None.
        """

        code = "FT999"
        name = "broken"
        severity = Severity.ERROR

    Broken.Options = Options
    with pytest.raises(TypeError) as error:
        register(Broken)
    assert str(error.value).endswith("Broken: option limit defaults below its minimum 0")
    assert "FT999" not in REGISTRY


def test_an_error_in_the_project_configuration_stops_pytest_at_once(lint):
    run = lint(
        {"pyproject.toml": "[tool.pytest_finetune]\nignroe = ['FT001']\n", "data/train.jsonl": GOOD}
    )
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stderr.fnmatch_lines(["*unknown key 'ignroe'; did you mean 'ignore'?*"])
    assert "Traceback" not in run.result.stderr.str()


def test_an_error_in_a_nested_configuration_is_a_collection_error_on_its_files(lint):
    run = lint({"data/finetune.toml": "fail-on = 3\n", "data/train.jsonl": GOOD})
    assert run.result.ret == pytest.ExitCode.INTERRUPTED
    run.result.stdout.fnmatch_lines(
        ["*ERROR collecting data/train.jsonl*", "*fail-on must be a string, got 3*"]
    )
    assert "Traceback" not in run.output


def test_ini_keys_and_markers_are_registered_for_strict_runs(lint):
    run = lint(
        {
            "pytest.ini": "[pytest]\nfinetune_select = FT0\nfinetune_fail_on = warning\n"
            "finetune_model = gpt-4o-mini-2024-07-18\nfinetune_include = *.jsonl\n"
            "finetune_items = check\n",
            "test_marked.py": "import pytest\n\n@pytest.mark.finetune\ndef test_x():\n    pass\n",
            "data/train.jsonl": GOOD,
        },
        "--strict-config",
        "--strict-markers",
    )
    assert run.result.ret == 0, run.output
    assert run.result.parseoutcomes()["passed"] > 1


def test_ini_keys_are_defaults_below_the_configuration_file(lint):
    run = lint(
        {
            "pytest.ini": "[pytest]\nfinetune_select = FT013\nfinetune_items = check\n",
            "data/train.jsonl": jsonl(*intents(3)),
        },
        "--collect-only",
        "-q",
    )
    run.result.stdout.fnmatch_lines(["data/train.jsonl::FT013-too-few-examples"])
    assert run.result.parseoutcomes() == {"test": 1}


def test_fail_on_warning_makes_warnings_fail(lint):
    files = {"data/train.jsonl": jsonl(*intents(20))}
    assert lint(files).result.ret == 0
    strict = lint(files, "--finetune-fail-on=warning", "-o", "finetune_items=check")
    assert strict.result.ret == 1
    strict.result.stdout.fnmatch_lines(["FAILED data/train.jsonl::FT014-few-examples*"])


def test_include_and_exclude_choose_the_dataset_files(lint):
    run = lint(
        {
            "pyproject.toml": "[tool.pytest_finetune]\ninclude = ['*.jsonl', '*.ndjson']\n"
            "exclude = ['fixtures']\n",
            "data/a.ndjson": GOOD,
            "data/b.jsonl": GOOD,
            "data/fixtures/c.jsonl": "{broken\n",
            "data/notes.txt": "not data\n",
        },
        "--collect-only",
        "-q",
    )
    collected = {line.split("::")[0] for line in run.result.stdout.lines if "::" in line}
    assert collected == {"data/a.ndjson", "data/b.jsonl"}


def test_opt_in_checks_run_only_when_named(tmp_path):
    assert "FT010" not in selected(tmp_path, "")
    for config in (
        'select = ["ALL"]',
        'select = ["FT0"]',
        'extend-select = ["FT010"]',
        'extend-select = ["duplicate-key"]',
    ):
        assert "FT010" in selected(tmp_path, f"[tool.pytest_finetune]\n{config}\n"), config
    # The default set is as specific as ALL: a family prefix ignores all of it.
    assert selected(tmp_path, '[tool.pytest_finetune]\nignore = ["FT0"]\n')[0] == "FT101"


BROKEN = {
    "pyproject.toml": '[tool.pytest_finetune]\nselect = ["FT9"]\n',
    "data/train.jsonl": GOOD,
    "test_code.py": "def test_code():\n    assert 1 + 1 == 2\n",
}
FT9 = "unknown check 'FT9'"
#: What follows an unknown code near no check: the families, and where the codes are.
NO_SUCH_CODE = (
    "; no check has that code (families: "
    + ", ".join(f"{family.value} {family.title.lower()}" for family in Family)
    + "; `pytest-finetune rules` lists all)"
)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["--markers"],
        ["--fixtures"],
        ["--no-finetune"],  # the datasets are not collected: their configuration is unused
        ["test_code.py"],  # Python tests only: nothing to lint
    ],
)
def test_a_broken_configuration_stops_no_run_that_does_not_lint(lint, args):
    run = lint(BROKEN, *args)
    assert run.result.ret == pytest.ExitCode.OK, run.output
    assert FT9 not in run.result.stderr.str()
    if args[0] in ("--no-finetune", "test_code.py"):
        assert run.result.parseoutcomes() == {"passed": 1}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (BROKEN, f"[tool.pytest_finetune]: select: {FT9}{NO_SUCH_CODE}"),
        (
            {**BROKEN, "pyproject.toml": "", "pytest.ini": "[pytest]\nfinetune_fail_on = fatal\n"},
            "pytest ini (finetune_*): fail-on must be one of error, warning, info, got 'fatal'",
        ),
    ],
)
@pytest.mark.parametrize("args", [[], ["--collect-only"], ["data/"]])
def test_a_broken_configuration_is_a_usage_error_once_datasets_are_collected(
    lint, files, message, args
):
    run = lint(files, *args)
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert run.result.stderr.lines[0].startswith("ERROR: ")
    assert run.result.stderr.lines[0].endswith(message)
    assert "passed" not in run.output
    assert not run.report  # nothing ran: no report that says the datasets are clean


def test_a_broken_configuration_fails_a_marked_test_that_trains(lint):
    marked = (
        "import pytest\n\n@pytest.mark.finetune(train='data/train.jsonl')\n"
        "def test_model(finetune):\n    pass\n"
    )
    run = lint({**BROKEN, "test_model.py": marked}, "--no-finetune", "--finetune-train")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert run.result.parseoutcomes() == {"passed": 1, "failed": 1}
    assert FT9 in run.output


def test_ini_lists_of_checks_take_commas_and_spaces_like_the_options(lint, monkeypatch, capsys):
    files = {
        "pytest.ini": "[pytest]\nfinetune_select = FT013,FT014\n  FT017 FT201\n"
        "finetune_ignore = FT201, FT017\nfinetune_items = check\n",
        "data/train.jsonl": jsonl(*intents(3)),
    }
    run = lint(files, "--collect-only", "-q")
    assert run.result.ret == pytest.ExitCode.OK, run.output
    run.result.stdout.fnmatch_lines(
        ["data/train.jsonl::FT013-too-few-examples", "data/train.jsonl::FT014-few-examples"]
    )
    assert run.result.parseoutcomes() == {"tests": 2}
    # pytest-finetune check reads the same keys the same way.
    capsys.readouterr()
    assert main(["check", "--format", "json", "data/"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {f["code"] for d in report["datasets"] for f in d["findings"]} == {"FT013"}


def test_a_secret_in_a_configuration_value_is_masked_in_the_error(tmp_path):
    key = "sk-proj-" + "Xy12" * 10
    write_files(tmp_path, {"data/finetune.toml": f'model = "{key}"\n', "data/train.jsonl": GOOD})
    with pytest.raises(ConfigError) as error:
        Settings().for_file(tmp_path / "data/train.jsonl")
    assert "unknown model 'sk-***'" in str(error.value)
    assert "Xy12" not in str(error.value)


def test_a_number_that_is_not_finite_on_the_command_line_is_a_usage_error(lint):
    run = lint({"data/train.jsonl": GOOD}, "--finetune-max-cost=nan")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--finetune-max-cost: 'nan' is not an amount of dollars (0 or more)" in (
        run.result.stderr.str()
    )


def test_a_configuration_nested_too_deeply_is_one_line_in_pytest(lint):
    # A nested configuration is a collection error on its files (as any other error
    # in it), worded in one line.
    run = lint({"data/finetune.toml": "x = " + "[" * 5000 + "\n", "data/train.jsonl": GOOD})
    assert run.result.ret == pytest.ExitCode.INTERRUPTED
    run.result.stdout.fnmatch_lines(["*data/finetune.toml: not valid TOML: nested too deeply*"])
    assert "RecursionError" not in run.output


def test_a_malformed_training_declaration_stops_a_training_run(lint):
    config = "[tool.pytest_finetune]\n[[tool.pytest_finetune.train]]\ntrain = 5\n"
    run = lint({"pyproject.toml": config, "data/train.jsonl": GOOD}, "--finetune-train")
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert "train[0]: train must be a non-empty string, got 5" in run.result.stderr.str()


def test_a_relative_path_is_read_from_the_cwd_of_the_moment(tmp_path, monkeypatch):
    # Globs start from the configuration file's folder, a relative path from the cwd
    # when it is asked about: the same relative folder, resolved earlier from another
    # cwd, is another folder.
    for project in ("one", "two"):
        write_files(
            tmp_path / project,
            {
                "pyproject.toml": "[tool.pytest_finetune]\ninclude = ['data/*.jsonl']\n",
                "data/train.jsonl": GOOD,
            },
        )
    for project in ("one", "two"):
        monkeypatch.chdir(tmp_path / project / "data")
        assert Settings().is_dataset(Path("train.jsonl")), project


def test_a_path_through_a_linked_folder_or_dot_dot_is_read_where_it_leads(tmp_path, monkeypatch):
    write_files(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest_finetune]\ninclude = ['real/*.jsonl']\n",
            "real/train.jsonl": GOOD,
            "other/notes.txt": "",
        },
    )
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "other/train.jsonl").symlink_to(tmp_path / "real/train.jsonl")
    settings = Settings()
    assert settings.is_dataset(tmp_path / "link/train.jsonl")
    assert settings.is_dataset(tmp_path / "other/train.jsonl")
    assert settings.is_dataset(tmp_path / "other/../real/train.jsonl")
    monkeypatch.chdir(tmp_path / "other")
    assert settings.is_dataset(Path("../link/train.jsonl"))
    assert settings.is_dataset(Path("train.jsonl"))
