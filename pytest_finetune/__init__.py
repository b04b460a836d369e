"""pytest-finetune: lint fine-tuning datasets with pytest, and gate retrains on accuracy.

The public API, re-exported here, is what plugins and scripts may rely on:
the check registry and base class (to write checks), findings, formats, and the scan
(``lint`` a file outside pytest).
"""

from pytest_finetune.checks import REGISTRY, Check, Family, option, register
from pytest_finetune.checks.context import DatasetStats
from pytest_finetune.config import FileSettings, Settings
from pytest_finetune.config_keys import ConfigError
from pytest_finetune.findings import Finding, Severity
from pytest_finetune.formats import Format, Record
from pytest_finetune.lint import lint
from pytest_finetune.scan import ScanResult, scan

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "Check",
    "ConfigError",
    "DatasetStats",
    "Family",
    "FileSettings",
    "Finding",
    "Format",
    "Record",
    "ScanResult",
    "Settings",
    "Severity",
    "__version__",
    "lint",
    "option",
    "register",
    "scan",
]
