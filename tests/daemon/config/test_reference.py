"""The config reference: rendered from the dataclasses, complete, and the README's copy current."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from daemon.config import Config, Secret
from daemon.config.base import doc
from daemon.config.reference import END, FIX, START, default_text, render, secrets, splice, type_name
from daemon.reload import LIVE_KEYS

README = Path(__file__).resolve().parents[3] / "README.md"


def _leaf_keys(cls: type = Config, prefix: str = "") -> list[str]:
    hints = typing.get_type_hints(cls)
    out: list[str] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            out += _leaf_keys(tp, f"{prefix}{f.name}.")
        elif f.name != "source":
            out.append(prefix + f.name)
    return out


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in render().splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_key_has_one_row_with_a_description() -> None:
    rows = _rows()
    assert sorted(rows) == sorted(_leaf_keys())
    assert all(cells[4] for cells in rows.values())


def test_sighup_column_matches_what_reload_applies() -> None:
    rows = _rows()
    live = {k for k in rows if any(k == key or k.startswith(key + ".") for key in LIVE_KEYS)}
    assert live and {k for k, cells in rows.items() if cells[3] == "yes"} == live
    assert rows["threshold.q"][3] == "restart" and rows["batching.max_records"][3] == "yes"


def test_every_section_is_there() -> None:
    text = render()
    for section in (
        "kafka",
        "kafka.security",
        "batching",
        "artifact",
        "threshold",
        "episodes",
        "drift",
        "dead_letter",
        "input",
        "http",
        "logging",
        "refresh",
    ):
        assert f"#### `{section}`" in text
    assert "#### top level" in text and "`shutdown_timeout_s`" in text


def test_defaults_and_types_read_as_yaml() -> None:
    rows = _rows()
    assert rows["kafka.bootstrap_servers"][1:3] == ["list of string", "`[127.0.0.1:19092]`"]
    assert rows["threshold.idle_expiry_s"][1:3] == ["number or null", "`604800`"]
    assert rows["threshold.method"][1] == '"spot" \\| "dspot"'
    assert type_name(Secret | None) == "secret string or null"
    assert default_text(1e-4) == "0.0001" and default_text(None) == "null" and default_text(False) == "false"


def test_secrets_name_their_file_alternative() -> None:
    assert secrets() == [("kafka.security.sasl_plain_password", "kafka.security.sasl_plain_password_file")]
    assert "`kafka.security.sasl_plain_password_file`" in render().split("#### top level")[0]


def test_a_key_without_doc_fails_the_render_naming_it() -> None:
    @dataclasses.dataclass(frozen=True)
    class Undocumented:
        """A section."""

        fine: int = dataclasses.field(default=1, metadata=doc("documented"))
        bare: int = 2

    from daemon.config import reference

    with pytest.raises(ValueError, match=r"Undocumented\.bare has no doc metadata"):
        reference._rows(Undocumented, "x.", False)


def test_doc_keeps_the_live_mark() -> None:
    assert doc("x", live=True)["reload"] == "live" and "reload" not in doc("x")


def test_splice_replaces_only_between_the_markers() -> None:
    document = f"before\n{START}\nold\n{END}\nafter\n"
    assert splice(document, "new\n") == f"before\n{START}\n\nnew\n\n{END}\nafter\n"
    with pytest.raises(ValueError, match="markers are missing"):
        splice("no markers", "new\n")


def test_readme_copy_is_current() -> None:
    document = README.read_text()
    assert splice(document, render()) == document, f"README.md's config reference is stale: run `{FIX}`"
