"""`latentwatch artifacts list|show VERSION|rollback [VERSION]|prune --keep N`: the versions under an artifact
root (``--root``, or ``artifact.root`` of ``--config``) and the current pointer.

``rollback`` without a version points current at the version created before the current one; the target is
verified first (a tampered version is refused, current stays). A running daemon follows current.json on its next
check (``artifact.check_interval_s``). ``prune`` never removes the current version. Exit status 2 on a bad root,
version or pointer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--root", help="artifact root (versions/ and current.json)")
    where.add_argument("--config", help="the daemon's config: its artifact.root")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every version, oldest first, with the current one marked")
    show = sub.add_parser("show", help="one version's manifest")
    show.add_argument("version")
    back = sub.add_parser("rollback", help="point current at VERSION (default: the one created before current)")
    back.add_argument("version", nargs="?")
    pr = sub.add_parser("prune", help="remove all but the newest N versions (never the current one)")
    pr.add_argument("--keep", type=int, required=True)


def root_of(args: argparse.Namespace) -> Path:
    if args.root:
        return Path(args.root)
    if args.config:
        from daemon.config import load_config

        root = load_config(args.config).artifact.root
        if root is None:
            raise ValueError(f"{args.config}: no artifact.root")
        return Path(root)
    return Path("var/artifacts")


def rows(root: Path) -> list[dict[str, Any]]:
    from pipelines.artifact.store import ArtifactError, by_creation, current_version, read_manifest

    current = current_version(root)
    out = []
    for v in by_creation(root):
        try:
            m = read_manifest(root, v)
        except ArtifactError:
            m = {}
        out.append(
            {
                "version": v,
                "created": m.get("created_at", "?"),
                "current": v == current,
                "source": m.get("source"),
                "refreshed_from": m.get("refreshed_from"),
                "windows": m.get("windows", (m.get("metrics") or {}).get("train_rows")),
            }
        )
    return out


def table(items: list[dict[str, Any]]) -> str:
    head = ("", "version", "created", "source", "refreshed_from", "windows")
    lines = [head] + [
        (
            "*" if r["current"] else "",
            r["version"],
            str(r["created"]),
            str(r["source"] or "-"),
            str(r["refreshed_from"] or "-"),
            "-" if r["windows"] is None else str(r["windows"]),
        )
        for r in items
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    from daemon.config import ConfigError
    from pipelines.artifact.store import ArtifactError, prune, read_manifest, rollback

    try:
        root = root_of(args)
        if not (root / "versions").is_dir():
            raise ArtifactError(f"{root} holds no versions/ (not an artifact root)")
        if args.action == "list":
            print(table(rows(root)))
        elif args.action == "show":
            print(json.dumps(read_manifest(root, args.version), indent=2, sort_keys=True))
        elif args.action == "rollback":
            old, new = rollback(root, args.version)
            print(json.dumps({"current": new, "was": old}))
        else:
            print(json.dumps({"removed": prune(root, args.keep)}))
    except (ArtifactError, ConfigError, ValueError, OSError) as e:
        print(f"latentwatch artifacts: {e}", file=sys.stderr)
        return 2
    return 0
