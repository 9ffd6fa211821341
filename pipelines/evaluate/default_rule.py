"""The rule that picks the default scorer (TrainSpec.scorer) from two runs of the evaluation, one per input scaler.

Why: the paper form of ARES moves by up to 28 AUROC points on a held-out tabular set when only the scaler changes
(z-score with a floor vs min-max; issue 13), and a user's scaler is not the evaluation's. So the default must be a
scorer whose accuracy does not hang on that choice, and among those the most accurate one:

- a scorer qualifies when |AUROC(zscore) - AUROC(minmax)| <= SWING_MAX_POINTS on every row of the table
  (AUROC x100, the mean over seeds and classes of each row);
- the default is the qualifying scorer with the highest mean AUROC over every row under both scalers;
- if no scorer qualifies, the one whose largest swing is smallest is reported, not applied.

The two runs are summarised (``summarise``) into a small document, committed as docs/default-scorer.json (the runs
with the default input norm, "range": every scorer qualifies and the pick, rank-mean, is TrainSpec's default), so
the rule can be re-applied (``choose``) without the runs, and a test holds TrainSpec's default to the rule's pick.
docs/default-scorer-scaler.json holds the same runs with the scaler alone (input_norm "scaler", the papers' setup),
under which no scorer qualifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.evaluate.report import row_label

SWING_MAX_POINTS = 3.0
SCALERS = ("minmax", "zscore")
RULE = (
    f"qualify: |AUROC(zscore) - AUROC(minmax)| <= {SWING_MAX_POINTS:g} points on every row; pick: the qualifying "
    "scorer with the highest mean AUROC over the rows under both scalers; none qualifies: the smallest largest swing"
)


@dataclass(frozen=True)
class Candidate:
    name: str
    minmax: dict[str, float]  # row -> AUROC x100
    zscore: dict[str, float]

    def swing(self, row: str) -> float:
        return abs(self.zscore[row] - self.minmax[row])

    @property
    def max_swing(self) -> float:
        return max(self.swing(r) for r in self.minmax)

    @property
    def mean(self) -> float:
        cells = [*self.minmax.values(), *self.zscore.values()]
        return sum(cells) / len(cells)

    @property
    def qualifies(self) -> bool:
        return self.max_swing <= SWING_MAX_POINTS


def _source(doc: dict[str, Any], scaler: str, where: str) -> dict[str, Any]:
    """The facts of one evaluation record that the summary keeps; a record of the wrong kind is refused."""
    if doc.get("status") != "complete":
        raise ValueError(f"{where}: the evaluation record is not complete (status {doc.get('status')!r})")
    protocol = doc.get("protocol", {})
    if protocol.get("scaler") != scaler:
        raise ValueError(f"{where}: expected a --scaler {scaler} record, this one has {protocol.get('scaler')!r}")
    if doc.get("aggregates") is None:
        raise ValueError(f"{where}: no aggregates in the record")
    return {
        "command": doc.get("command", {}).get("line"),
        "git": doc.get("git"),
        "seconds": doc.get("seconds"),
        "finished_utc": doc.get("finished_utc"),
        "datasets": protocol.get("datasets"),
        "seeds": protocol.get("seeds"),
        "input_norm": protocol.get("input_norm", "scaler"),  # records from before --input-norm: the scaler alone
    }


def summarise(records: dict[str, dict[str, Any]], names: dict[str, str] | None = None) -> dict[str, Any]:
    """records: {"minmax": record, "zscore": record} (``latentwatch evaluate`` JSON). Keeps each scorer's AUROC mean
    per row (x100, unrounded) for the scorers of the plain autoencoder that both runs have on every row."""
    names = names or {s: s for s in SCALERS}
    sources = {s: _source(records[s], s, names[s]) for s in SCALERS}
    if sources["minmax"]["datasets"] != sources["zscore"]["datasets"] or (
        sources["minmax"]["seeds"] != sources["zscore"]["seeds"]
    ):
        raise ValueError(f"{names['minmax']} and {names['zscore']} ran different data sets or seeds")
    if sources["minmax"]["input_norm"] != sources["zscore"]["input_norm"]:
        raise ValueError(f"{names['minmax']} and {names['zscore']} ran different --input-norm")
    baselines = set(records["minmax"]["protocol"].get("baselines") or []) | set(
        records["zscore"]["protocol"].get("baselines") or []
    )
    auroc: dict[str, dict[str, dict[str, float]]] = {}
    rows: list[str] = []
    for s in SCALERS:
        auroc[s] = {}
        for a in records[s]["aggregates"]:
            if ":" in a["method"] or a["method"] in baselines:
                continue
            row = row_label(a["dataset"], a["setting"])
            auroc[s].setdefault(a["method"], {})[row] = 100.0 * float(a["auroc_mean"])
            if row not in rows:
                rows.append(row)
    scorers = [m for m in auroc["minmax"] if m in auroc["zscore"]]
    scorers = [m for m in scorers if all(r in auroc[s][m] for s in SCALERS for r in rows)]
    if not scorers:
        raise ValueError(f"{names['minmax']} and {names['zscore']} share no scorer with a value on every row")
    return {
        "what": "AUROC x100 (mean over seeds and classes) per scorer and row, one evaluation per input scaler",
        "rule": RULE,
        "rows": rows,
        "auroc": {s: {m: {r: auroc[s][m][r] for r in rows} for m in scorers} for s in SCALERS},
        "sources": sources,
    }


def candidates(summary: dict[str, Any]) -> list[Candidate]:
    try:
        auroc = summary["auroc"]
        return [Candidate(m, dict(auroc["minmax"][m]), dict(auroc["zscore"][m])) for m in auroc["minmax"]]
    except (KeyError, TypeError) as e:
        raise ValueError(f"not a default-scorer summary (docs/default-scorer.json's shape): missing {e}") from None


def choose(summary: dict[str, Any]) -> tuple[str, list[Candidate]]:
    """(the pick, every candidate ordered as the rule ranks them: qualifying by mean AUROC, then the rest)."""
    cands = candidates(summary)
    ranked = sorted(cands, key=lambda c: (not c.qualifies, -c.mean if c.qualifies else c.max_swing, c.name))
    if not ranked:
        raise ValueError("no candidate scorer in the summary")
    if not any(c.qualifies for c in ranked):
        ranked = sorted(cands, key=lambda c: (c.max_swing, c.name))
    return ranked[0].name, ranked
