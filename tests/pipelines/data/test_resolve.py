from __future__ import annotations

import pytest

from pipelines.data import DataError, load_dataset, registry, resolve_data_dir

ENV = "LATENTWATCH_DATA_DIR"


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """A fake repo root and cwd, each next to where ../shared/data would be; nothing exists yet."""
    repo, cwd = tmp_path / "a" / "repo", tmp_path / "b" / "cwd"
    repo.mkdir(parents=True)
    cwd.mkdir(parents=True)
    monkeypatch.setattr(registry, "_REPO_ROOT", repo)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(ENV, raising=False)
    return tmp_path


def test_default_repo_root_is_the_parent_of_the_pipelines_package():
    assert (registry._REPO_ROOT / "pipelines" / "data" / "registry.py").is_file()


def test_explicit_beats_env(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv(ENV, str(b))
    assert resolve_data_dir(a) == a.resolve()
    assert resolve_data_dir(str(a)) == a.resolve()
    assert resolve_data_dir() == b.resolve()


def test_missing_explicit_or_env_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    good = tmp_path / "good"
    good.mkdir()
    monkeypatch.setenv(ENV, str(good))
    with pytest.raises(DataError, match="argument") as e:
        resolve_data_dir(tmp_path / "typo")
    assert str(tmp_path / "typo") in str(e.value)
    monkeypatch.setenv(ENV, str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"\$LATENTWATCH_DATA_DIR") as e:
        resolve_data_dir()
    assert str(tmp_path / "gone") in str(e.value)


def test_defaults_repo_relative_then_cwd_relative(layout):
    repo_data, cwd_data = layout / "a" / "shared" / "data", layout / "b" / "shared" / "data"
    with pytest.raises(DataError) as e:
        resolve_data_dir()
    msg = str(e.value)
    assert str(layout / "a" / "repo" / ".." / "shared" / "data") in msg
    assert str(layout / "b" / "cwd" / ".." / "shared" / "data") in msg
    cwd_data.mkdir(parents=True)
    assert resolve_data_dir() == cwd_data.resolve()
    repo_data.mkdir(parents=True)
    assert resolve_data_dir() == repo_data.resolve()


def test_load_dataset_follows_the_env_var(mini, monkeypatch):
    root = mini("stl", rows=3)
    monkeypatch.setenv(ENV, str(root))
    assert load_dataset("stl").X.shape == (3, 27)


def test_load_dataset_with_no_data_anywhere(layout):
    with pytest.raises(DataError, match="tried"):
        load_dataset("nasa")
