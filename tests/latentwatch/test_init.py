"""The package's front door: `from latentwatch import Detector` without torch at `import latentwatch`, and the
README's Python API example, run as it stands on the shared SNSR data."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipelines.data.registry import DataError, resolve_data_dir

README = Path(__file__).resolve().parents[2] / "README.md"


def test_import_latentwatch_does_not_load_torch_until_detector_is_used():
    code = (
        "import sys, latentwatch; assert 'torch' not in sys.modules, 'torch loaded early'; "
        "from latentwatch import Detector; from pipelines.api import Detector as D; assert Detector is D; "
        "assert 'Detector' in dir(latentwatch)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=README.parent, timeout=120)
    import latentwatch

    with pytest.raises(AttributeError, match="no attribute 'Detektor'"):
        latentwatch.Detektor  # noqa: B018


def readme_example() -> str:
    section = README.read_text().split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "README's Python API section has no python block"
    return blocks[0]


def test_the_readme_example_runs(monkeypatch, capsys, tmp_path):
    try:
        data = resolve_data_dir()
    except DataError as e:
        pytest.skip(str(e))
    if not (data / "snsr" / "X.npy").exists():
        pytest.skip(f"the shared SNSR data is not at {data / 'snsr'} (set LATENTWATCH_DATA_DIR)")
    monkeypatch.setenv("LATENTWATCH_DATA_DIR", str(data))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example saves under tempfile.mkdtemp()
    exec(compile(readme_example(), str(README), "exec"), {"__name__": "readme_example"})
    out = capsys.readouterr().out
    auroc = float(re.search(r"AUROC (\d\.\d+)", out).group(1))
    assert auroc > 0.9, out  # SNSR's faulty conditions are far from condition 0: a working detector separates them
    assert "'sensor': 'f" in out, out
    assert len(list(tmp_path.glob("*/versions/*/manifest.json"))) == 1
