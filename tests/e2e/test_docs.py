"""The README's promises that can drift from the code: the error table and the quick start."""

from __future__ import annotations

import re
from pathlib import Path

from licensing import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
ABSTRACT_CODES = {"license_error", "file_error", "binding_error", "guard_error", "license_state", "vendor_refusal",
                  "online_error", "floating_error"}


def test_readme_error_table_lists_exactly_the_codes_the_code_raises() -> None:
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([a-z_]+)` \|", readme, flags=re.MULTILINE))
    assert table == set(ERROR_CODES) - ABSTRACT_CODES


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci


def test_every_error_has_a_message_and_a_hint() -> None:
    for code, cls in ERROR_CODES.items():
        error = cls()
        assert error.code == code and error.message.endswith(".") and error.hint
        assert error.to_dict() == {"code": code, "message": error.message, "hint": error.hint}


def test_readme_shows_the_haproxy_configuration_scaleout_writes() -> None:
    from scaleout import haproxy_config

    readme = (ROOT / "README.md").read_text()
    assert "```text\n" + haproxy_config(8000, [8001, 8002], stats_port=8100) + "```" in readme
