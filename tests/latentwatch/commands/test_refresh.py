"""`latentwatch refresh` from files and `latentwatch artifacts`: exit codes, the pointer, the requests file."""

from __future__ import annotations

import json

import numpy as np
import yaml

from daemon.threshold_guard import request_refresh
from latentwatch.cli import main
from pipelines.artifact.store import list_versions, read_pointer
from pipelines.refresh.requests import read_requests
from tests.pipelines.refresh.conftest import refresh_data, root, traffic, trained_root  # noqa: F401


def _config(tmp_path, root, **refresh):  # noqa: F811
    doc = {
        "kafka": {"bootstrap_servers": ["127.0.0.1:1"]},
        "artifact": {"root": str(root)},
        "threshold": {"q": 1e-3, "level": 0.9, "checkpoint_path": str(tmp_path / "state" / "daemon-state.json")},
        "refresh": {"keep_versions": 2, **refresh},
    }
    path = tmp_path / "refresh.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _files(tmp_path, traffic):  # noqa: F811
    X, asset, ts, _ = traffic
    path = tmp_path / "recent.npz"
    np.savez(path, X=X, asset=asset, ts=ts)
    return path


def test_refresh_from_files_publishes_prunes_and_clears_the_requests(tmp_path, root, traffic, capsys):  # noqa: F811
    cfg = _config(tmp_path, root)
    requests = tmp_path / "state" / "refresh-request.json"
    assert main(["refresh", "--config", str(cfg), "--if-requested"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "not_requested"
    before = read_pointer(root)["version"]
    request_refresh(requests, "a", "peak rate", now=0)
    assert main(["refresh", "--config", str(cfg), "--files", str(_files(tmp_path, traffic)), "--if-requested"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "published" and out["refreshed_from"] == before
    assert read_pointer(root)["version"] == out["version"] and read_requests(requests) == []
    assert len(list_versions(root)) == 2 and before in list_versions(root)  # keep 2: the new and the old current


def test_a_failed_validation_exits_3_and_publishes_nothing(tmp_path, root, traffic, capsys):  # noqa: F811
    cfg = _config(tmp_path, root, max_alarm_rate_increase=0.0)
    pointer, versions = (root / "current.json").read_bytes(), list_versions(root)
    files = _files(tmp_path, traffic)
    from pipelines.refresh import validate

    real = validate.alarm_rates
    validate.alarm_rates = lambda *a: (0.0, 0.5)  # the new reference alarms on half the holdout
    try:
        code = main(["refresh", "--config", str(cfg), "--files", str(files)])
    finally:
        validate.alarm_rates = real
    err = capsys.readouterr().err
    assert code == 3 and "validation failed: the held-out alarm rate rises from 0.0000 to 0.5000" in err
    assert (root / "current.json").read_bytes() == pointer and list_versions(root) == versions


def test_bad_input_exits_2_naming_it(tmp_path, root, capsys):  # noqa: F811
    cfg = _config(tmp_path, root)
    bad = tmp_path / "narrow.npy"
    np.save(bad, np.zeros((50, 3)))
    assert main(["refresh", "--config", str(cfg), "--files", str(bad)]) == 2
    assert "3 values per window, the current model takes 12" in capsys.readouterr().err


def test_artifacts_list_rollback_and_prune(root, capsys):  # noqa: F811
    versions = list_versions(root)
    current = read_pointer(root)["version"]
    assert main(["artifacts", "--root", str(root), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["version", "created", "source", "refreshed_from", "windows"]
    assert lines[-1].startswith("*") and current in lines[-1]
    assert main(["artifacts", "--root", str(root), "rollback"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["was"] == current and read_pointer(root)["version"] == back["current"] != current
    assert main(["artifacts", "--root", str(root), "show", back["current"]]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == back["current"]
    assert main(["artifacts", "--root", str(root), "prune", "--keep", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == []  # the newest is kept, and so is the current
    assert main(["artifacts", "--root", str(root), "rollback", current]) == 0
    capsys.readouterr()
    assert main(["artifacts", "--root", str(root), "prune", "--keep", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == [back["current"]]
    assert list_versions(root) == [current] and len(versions) == 2
    assert main(["artifacts", "--root", str(root), "show", "../etc"]) == 2
    assert "not a plain version name" in capsys.readouterr().err
