"""Headless Chromium: a screenshot of a report and the check that it rendered (every plot drew something, the
console logged no error). Needs Debian's ``chromium`` (``apt-get install chromium``); Pillow reads the screenshot.

Where the plots are comes from the page itself: a copy of it with a small script added (the report has none) is
dumped with ``--dump-dom`` after layout, the script having written the page position of every plot's frame into
it. The screenshot is of the report as written, so its console is the report's own.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--enable-logging=stderr",
    "--v=0",
)
PAGE_WIDTH = 1120
_LAYOUT = """<script>addEventListener('load',()=>{const r=[...document.querySelectorAll('svg.plot')].map(s=>{
const f=s.querySelector('rect.frame').getBoundingClientRect();return {id:s.id,x:f.left+scrollX,y:f.top+scrollY,
w:f.width,h:f.height}});const p=document.createElement('pre');p.id='lw-layout';p.style.display='none';
p.textContent=JSON.stringify({height:document.documentElement.scrollHeight,plots:r});document.body.append(p)})
</script>"""
_CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


class BrowserError(RuntimeError):
    """Chromium is missing or failed; the message says which and what it printed."""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise BrowserError("no chromium on PATH: apt-get install -y chromium (Debian's package)")


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="latentwatch-chromium-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"chromium did not finish in {timeout_s:.0f} s: {' '.join(cmd)}") from None


def layout(html: Path, timeout_s: float = 120) -> dict[str, Any]:
    """{"height": page height px, "plots": [{"id", "x", "y", "w", "h"} of every plot's frame]}."""
    with tempfile.TemporaryDirectory(prefix="latentwatch-layout-") as tmp:
        copy = Path(tmp) / "layout.html"
        copy.write_text(Path(html).read_text().replace("</body>", _LAYOUT + "</body>", 1))
        p = _run(["--dump-dom", f"--window-size={PAGE_WIDTH},1000", copy.resolve().as_uri()], timeout_s)
    m = re.search(r'<pre id="lw-layout"[^>]*>(.*?)</pre>', p.stdout, re.S)
    if m is None:
        raise BrowserError(f"chromium --dump-dom gave no layout (exit {p.returncode}): {p.stderr[-2000:]}")
    return dict(json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")))


def console_errors(stderr: str) -> list[str]:
    """The console messages that are errors: an uncaught exception, console.error, a resource that failed."""
    out = []
    for line in stderr.splitlines():
        m = _CONSOLE.search(line)
        if m and ("ERROR:CONSOLE" in line or re.search(r"Uncaught|Failed to load|error", m.group(1), re.I)):
            out.append(m.group(1).strip())
    return out


def screenshot(html: Path, png: Path, height: int, timeout_s: float = 120) -> list[str]:
    """The top ``height`` px of the page, ``PAGE_WIDTH`` wide, into ``png``; the console's errors."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    p = _run([f"--screenshot={png}", f"--window-size={PAGE_WIDTH},{height}", Path(html).resolve().as_uri()], timeout_s)
    if not png.is_file():
        raise BrowserError(f"chromium wrote no screenshot (exit {p.returncode}): {p.stderr[-2000:]}")
    return console_errors(p.stderr)


def blank_plots(png: Path, plots: list[dict[str, Any]], min_pixels: int = 30) -> list[str]:
    """The ids of the plots whose frame (2 px inside its border) holds fewer than ``min_pixels`` pixels that differ
    from the page's white background."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    blank = []
    for p in plots:
        x0, y0 = int(p["x"]) + 2, int(p["y"]) + 2
        x1, y1 = int(p["x"] + p["w"]) - 2, int(p["y"] + p["h"]) - 2
        box = img[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
        if int((np.abs(box - 255).max(axis=-1, initial=0) > 16).sum()) < min_pixels:
            blank.append(str(p["id"]))
    return blank


@dataclass
class Rendered:
    png: Path
    plots: list[str]
    blank: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.plots) and not self.blank and not self.console_errors


def check(html: Path, png: Path, timeout_s: float = 120) -> Rendered:
    """Render the whole page once and check every plot and the console."""
    lay = layout(html, timeout_s)
    errors = screenshot(html, png, int(lay["height"]) + 10, timeout_s)
    return Rendered(Path(png), [p["id"] for p in lay["plots"]], blank_plots(png, lay["plots"]), errors)
