from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.data import DataError, clear_cache, resolve_data_dir


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The shared data folder; tests that need the real files skip (visibly, -ra) when it is absent."""
    try:
        return resolve_data_dir()
    except DataError as e:
        pytest.skip(f"real data not available: {e}")


@pytest.fixture
def mini(real_dir: Path, tmp_path: Path):
    """mini(folder, rows=5) -> a tmp data dir holding `folder` with every CSV cut to its header + `rows` rows
    (line endings kept as they are); other files are copied whole. Never writes into the shared folder."""

    def make(folder: str, rows: int = 5) -> Path:
        root = tmp_path / "data"
        for src in (real_dir / folder).rglob("*"):
            if src.is_dir() or src.name == "SOURCE.md":
                continue
            dst = root / folder / src.relative_to(real_dir / folder)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix in (".csv", ".NNA") and src.name != "train.csv":  # train.csv: the experiment list
                keep = rows if src.suffix == ".NNA" else rows + 1
                dst.write_bytes(b"".join(src.read_bytes().splitlines(keepends=True)[:keep]))
            else:
                shutil.copyfile(src, dst)
        return root

    yield make
    clear_cache()


def edit_line(path: Path, lineno: int, fn) -> None:
    """Replace 1-based line `lineno` of `path` by fn(line) (line without its ending; endings kept)."""
    lines = path.read_bytes().splitlines(keepends=True)
    body = lines[lineno - 1].rstrip(b"\r\n")
    ending = lines[lineno - 1][len(body) :]
    lines[lineno - 1] = fn(body.decode()).encode() + ending
    path.write_bytes(b"".join(lines))


def set_cell(delimiter: str, column: int, value: str):
    """An edit_line fn that replaces cell `column` (0-based) of a delimited line by `value`."""

    def fn(line: str) -> str:
        cells = line.split(delimiter)
        cells[column] = value
        return delimiter.join(cells)

    return fn


@pytest.fixture
def edit():
    return edit_line


@pytest.fixture
def cell():
    return set_cell


@pytest.fixture
def raises_about():
    """raises_about(path, *fragments): expect a DataError whose message contains str(path) and every fragment."""

    @contextmanager
    def check(path: Path, *fragments: str):
        with pytest.raises(DataError) as info:
            yield info
        msg = str(info.value)
        missing = [f for f in (str(path), *fragments) if f not in msg]
        assert not missing, f"DataError message {msg!r} lacks {missing}"

    return check
