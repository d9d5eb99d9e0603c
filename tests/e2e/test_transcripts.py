"""The tutorial's transcripts (``transcripts/*.md``) replay exactly, and the replayer itself works.

Each transcript runs against a fresh demo vendor in a temporary folder (fixed clock, fixed
hardware id); a difference fails with the replayer's readable report and unified diff. To
accept a deliberate change: ``python -m chatbot.transcript --regenerate``, then read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.transcript import TranscriptError, check, main, parse, transcript_files

TRANSCRIPTS = transcript_files()

SMALL = """\
# A small transcript

Some prose that the replayer leaves alone.

**Device:** start the app

**You:** activate offline <KEY:perpetual>

**Vendor:**

```sh
licensing-portal --data <VENDOR> respond <DESKTOP>/ls_activation.req
```

**You:** activate offline

**You:** am I licensed?
"""


def test_the_tutorial_has_its_transcripts() -> None:
    names = {path.name for path in TRANSCRIPTS}
    assert len(names) >= 11
    for number in range(1, 12):
        assert any(name.startswith(f"{number:02d}-") for name in names), number
    assert (TRANSCRIPTS[0].parent / "README.md").is_file()


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[path.name for path in TRANSCRIPTS])
def test_transcript_replays_exactly(path: Path) -> None:
    report = check(path)
    assert not report, (f"\n{report}\nIf this change is deliberate, regenerate and review: "
                        f"python -m chatbot.transcript --regenerate {path.name}")


# -- the replayer itself ------------------------------------------------------------------------


def _regenerated(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.md"
    path.write_text(text, encoding="utf-8")
    assert main(["--regenerate", str(path)]) == 0
    return path


def test_a_wrong_expected_line_gives_a_diff_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _regenerated(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    wrong = lines.index("> **You are licensed.**")
    lines[wrong] = "> **You are not licensed.**"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = check(path)
    assert f"line {wrong + 1}: the reply to 'am I licensed?' differs" in report
    assert "-> **You are not licensed.**" in report and "+> **You are licensed.**" in report
    assert report.count("differs") == 1  # only that step
    capsys.readouterr()
    assert main([str(path)]) == 1
    assert "-> **You are not licensed.**" in capsys.readouterr().out


def test_a_wrong_vendor_output_is_named_too(tmp_path: Path) -> None:
    path = _regenerated(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("activations  1 / 3", "activations  2 / 3"), encoding="utf-8")
    line = next(number for number, row in enumerate(text.splitlines(), 1) if "activations  1 / 3" in row)
    assert f"line {line}: the output of 'licensing-portal --data <VENDOR> respond" in check(path)


def test_prose_is_kept_and_a_clean_replay_reports_nothing(tmp_path: Path) -> None:
    path = _regenerated(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "Some prose that the replayer leaves alone." in text
    assert "\n**Bot:**\n> **Step 2 of 2 done — activated offline.**\n" in text
    assert check(path) == ""
    assert main([str(path)]) == 0


def test_regenerate_round_trips_a_page_without_outputs(tmp_path: Path) -> None:
    """Strip every recorded output of a real page, regenerate it, and get the page back."""
    original = TRANSCRIPTS[0]
    transcript = parse(original)
    lines = list(transcript.lines)
    for step in reversed(transcript.steps):
        if step.output is not None:
            start, end = step.output
            del lines[start - 1 if not lines[start - 1].strip() else start:end]
    copy = tmp_path / original.name
    copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "**Bot:**" not in copy.read_text(encoding="utf-8")

    assert "is not recorded yet" in check(copy)
    assert main(["--regenerate", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
    assert check(copy) == ""


def test_an_unknown_step_kind_is_an_error_with_its_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.md"
    path.write_text("# Bad\n\n**Device:** start the app\n\n**Robot:** hello\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"bad\.md:5: unknown step kind \*\*Robot:\*\*"):
        parse(path)
    assert main([str(path)]) == 1
    assert "bad.md:5: unknown step kind" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "line", "message"), [
    ("**Device:** jump around\n", 3, "unknown device step 'jump around'"),
    ("**Clock:** yesterday\n", 3, "unknown clock step"),
    ("**Bot:**\n> hello\n", 3, "must follow a **You:** turn"),
    ("**Vendor:**\n\nlicensing-portal license list\n", 3, "followed by a ```sh block"),
    ("**Vendor:**\n\n```sh\nrm -rf /\n```\n", 6, "runs one `licensing-portal"),
    ("**Vendor:**\n\n```sh\nlicensing-portal license list\nlicensing-portal product list\n```\n", 5,
     "one command per **Vendor:** step"),
    ("```text\nnever closed\n", 3, "never closed"),
])
def test_malformed_steps_are_errors_with_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text("# Bad\n\n" + text, encoding="utf-8")
    with pytest.raises(TranscriptError) as caught:
        parse(path)
    assert caught.value.line == line and message in caught.value.message


def test_replay_errors_name_their_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.md"
    path.write_text("# Bad\n\n**You:** status\n", encoding="utf-8")
    assert main([str(path)]) == 1
    assert "bad.md:3: the app is not running here" in capsys.readouterr().err
    path.write_text("# Bad\n\n**Device:** start the app\n\n**You:** activate offline <KEY:nope>\n", encoding="utf-8")
    assert main([str(path)]) == 1
    assert "bad.md:5: unknown placeholder <KEY:nope>" in capsys.readouterr().err


def test_prose_code_blocks_are_not_steps(tmp_path: Path) -> None:
    path = tmp_path / "prose.md"
    path.write_text("# Prose\n\n```markdown\n**You:** not a step\n**Whatever:** nor this\n```\n", encoding="utf-8")
    assert parse(path).steps == ()


def test_the_command_line_defaults_to_every_transcript(monkeypatch, capsys) -> None:
    shown: list[str] = []

    def check_quietly(path: Path) -> str:
        shown.append(Path(path).name)
        return ""

    monkeypatch.setattr("chatbot.transcript.check", check_quietly)
    assert main([]) == 0
    assert shown == [path.name for path in TRANSCRIPTS] and "README.md" not in shown
