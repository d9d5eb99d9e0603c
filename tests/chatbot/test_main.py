"""The ``chatbot`` entry point: --help, --version, start-up errors (exit 2, no traceback), lean imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.__main__ import main

from support.lab import isolated_home

ROOT = Path(__file__).resolve().parents[2]


def run_chatbot(*args: str, stdin: str = "", env: dict[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatbot", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=ROOT)


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    return isolated_home(tmp_path, "main-test-device")


def test_help_lists_the_options_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--plain", "--config", "--version", "--help"):
        assert option in out
    assert "CHATBOT_CONFIG" in out


def test_help_does_not_import_the_ui_or_the_vendor_side() -> None:
    probe = (
        "import sys\n"
        "from chatbot.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'prompt_toolkit', 'licensing.issuing', 'sqlalchemy', 'licensing')"
        " if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stderr or result.stderr.strip().endswith("HEAVY="), result.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("chatbot ")
    assert out.split()[1][0].isdigit()


def test_version_from_the_console_entry(isolated_env: dict[str, str]) -> None:
    result = run_chatbot("--version", env=isolated_env)
    assert result.returncode == 0
    assert result.stdout.startswith("chatbot ")


@pytest.mark.parametrize("mode", [[], ["--plain"]])
def test_missing_config_exits_2_with_a_hint(mode: list[str], isolated_env: dict[str, str], tmp_path: Path) -> None:
    result = run_chatbot(*mode, "--config", str(tmp_path / "nope.json"), stdin="am I licensed?\n",
                         env=isolated_env)
    assert result.returncode == 2
    assert "error:" in result.stderr and "nope.json" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("content", ["{ not json", json.dumps({"format": "something else"}), ""])
def test_damaged_config_exits_2_with_a_hint(content: str, isolated_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "bad-config.json"
    config.write_text(content, encoding="utf-8")
    result = run_chatbot("--config", str(config), stdin="am I licensed?\n", env=isolated_env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert "\nhint: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_config_from_the_environment_exits_2(isolated_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "bad-config.json"
    config.write_bytes(b"\x00\xff binary garbage")
    env = dict(isolated_env, CHATBOT_CONFIG=str(config))
    result = run_chatbot(stdin="am I licensed?\n", env=env)
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
