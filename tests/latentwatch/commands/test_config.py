"""`latentwatch config reference` and `latentwatch config check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config.reference import END, START, render
from latentwatch.cli import main


def test_reference_prints_the_generated_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "reference"]) == 0
    assert capsys.readouterr().out == render()


def test_check_fails_on_a_stale_copy_and_write_fixes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(f"# x\n{START}\n| `kafka.old_key` | ... |\n{END}\nafter\n")
    assert main(["config", "reference", "--check", str(doc)]) == 1
    assert "latentwatch config reference --write README.md" in capsys.readouterr().err
    assert main(["config", "reference", "--write", str(doc)]) == 0
    text = doc.read_text()
    assert "kafka.old_key" not in text and "`kafka.input_topic`" in text and text.endswith(f"{END}\nafter\n")
    assert main(["config", "reference", "--check", str(doc)]) == 0


def test_write_refuses_a_file_without_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "README.md"
    doc.write_text("no markers here\n")
    assert main(["config", "reference", "--write", str(doc)]) == 2
    assert "markers are missing" in capsys.readouterr().err
    assert doc.read_text() == "no markers here\n"


def test_check_config_names_the_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka:\n  bootstrap_server: localhost:9092\n")
    assert main(["config", "check", "--config", str(bad)]) == 2
    assert "kafka.bootstrap_server: unknown key" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("kafka:\n  input_topic: plant.windows\n")
    assert main(["config", "check", "--config", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
