"""The unit restarts what a restart can fix and leaves the rest for a person (exit codes: daemon/service.py)."""

from __future__ import annotations

from pathlib import Path

from daemon.service import EXIT_DEAD_LETTER_LIMIT, EXIT_DELIVERY, EXIT_ERROR, EXIT_NO_MODEL

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "latentwatch.service"


def _service_section() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    section = None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_exit_codes_that_need_a_person_are_not_restarted_the_others_are():
    s = _service_section()
    assert s["Restart"] == ["on-failure"]
    prevented = {int(c) for v in s["RestartPreventExitStatus"] for c in v.split()}
    assert prevented == {EXIT_NO_MODEL, EXIT_DEAD_LETTER_LIMIT}
    assert EXIT_ERROR not in prevented and EXIT_DELIVERY not in prevented
