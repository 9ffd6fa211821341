"""The broker helper ships as package data: the script and its pom are found through the package, run the same from a
checkout (scripts/kafka.sh delegates) and from an installed layout (no repo: data in the user's data dir)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from latentwatch.kafka import pom_path, script_path

REPO = Path(__file__).resolve().parents[3]


def test_the_script_and_its_pom_are_package_files():
    assert script_path().is_file() and pom_path().is_file()
    assert script_path().parent == pom_path().parent == REPO / "latentwatch" / "kafka"
    assert "<kafka.version>" in pom_path().read_text()


def test_scripts_kafka_sh_runs_the_packaged_script():
    proc = subprocess.run(["bash", str(REPO / "scripts" / "kafka.sh")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "latentwatch/kafka/kafka.sh {start|stop|status|fetch|wipe}" in proc.stderr


def test_outside_a_checkout_the_data_goes_to_the_users_data_dir(tmp_path):
    site = tmp_path / "site-packages" / "latentwatch" / "kafka"
    site.mkdir(parents=True)
    for f in (script_path(), pom_path()):
        shutil.copy(f, site / f.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENTWATCH_KAFKA", "XDG_"))}
    env["HOME"] = str(tmp_path / "home")
    proc = subprocess.run(["bash", str(site / "kafka.sh"), "wipe"], capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert f"nothing to wipe at {tmp_path}/home/.local/share/latentwatch/kafka" in proc.stderr
