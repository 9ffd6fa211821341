"""What the README tells a new user still matches the code: the diagram's chain is the chain the daemon builds, and
every message quoted under Troubleshooting still occurs in the source."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from daemon.chain_factory import build_chain
from daemon.config import Config

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("daemon", "pipelines", "latentwatch")


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n{title}\n")
    level = title.split(" ")[0]
    nxt = re.search(rf"\n#{{1,{len(level)}}} ", text[start + len(title) + 2 :])
    return text[start : start + len(title) + 2 + (nxt.start() if nxt else len(text))]


@cache
def _string_constants() -> tuple[str, ...]:
    """Every string literal in the source, f-strings as their fixed parts (adjacent literals already joined)."""
    out: list[str] = []
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    out.append(node.value)
    return tuple(out)


def quoted_messages(section: str) -> list[str]:
    quotes = [line.split(">", 1)[1] for line in section.splitlines() if line.lstrip().startswith(">")]
    split = [line for line in quotes if line.count("`") % 2]
    assert not split, f"a quoted message's code span runs across lines (keep each on one line): {split}"
    return [span.strip() for line in quotes for span in re.findall(r"`([^`]+)`", line) if span.strip()]


def not_in_code(section: str) -> list[str]:
    """The quoted fixed parts of ``section`` that occur in no string of the source."""
    return [q for q in quoted_messages(section) if not any(q in s for s in _string_constants())]


def test_troubleshooting_quotes_messages_the_code_still_prints() -> None:
    section = _section("### Troubleshooting")
    assert len(quoted_messages(section)) >= 25
    missing = not_in_code(section)
    assert not missing, f"quoted in README.md's Troubleshooting but found in no string of {SOURCES}: {missing}"


def test_a_reworded_message_is_caught() -> None:
    section = "- **x**\n  > `start_failed`: `no Kafka broker answered at` *h:p*\n\n  not `quoted here`\n"
    assert quoted_messages(section) == ["start_failed", "no Kafka broker answered at"]
    assert not_in_code(section) == ["no Kafka broker answered at"]


def _chain_steps() -> list[str]:
    none: Any = lambda *a, **k: None  # noqa: E731
    chain = build_chain(
        Config(),
        SimpleNamespace(send=none, flush=none),
        none,
        none,
        commit=none,
        on_committed=none,
        on_dead_letter=none,
        record_limit=1 << 20,
    )
    names, step = [], chain.batcher
    while step is not None:
        name = type(step).__name__.removesuffix("Step")
        names.append(re.sub(r"(?<!^)([A-Z])", r" \1", name).lower())
        step = getattr(step, "next_step", None)
    return names


def test_the_diagram_draws_the_chain_the_daemon_builds() -> None:
    section = _section("## How it flows")
    block = re.search(r"```mermaid\n(.*?)```", section, re.S)
    assert block, "README.md's 'How it flows' has no mermaid block"
    chain = re.search(r"subgraph run\[.*?\]\n(.*?)\n\s*end\n", block.group(1), re.S)
    assert chain, "the mermaid block has no 'subgraph run' holding the chain"
    labels = re.findall(r'\w+\["([^"<:+]+)', chain.group(1))
    assert [label.strip() for label in labels] == _chain_steps()
