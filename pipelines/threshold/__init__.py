"""Extreme-value alarm thresholds: SPOT, DSPOT (Siffer et al., KDD 2017) and a per-asset bank."""

from pipelines.threshold.bank import ThresholdBank
from pipelines.threshold.dspot import DSPOT
from pipelines.threshold.gpd import grimshaw, tail_quantile
from pipelines.threshold.spot import SPOT

__all__ = ["DSPOT", "SPOT", "ThresholdBank", "grimshaw", "tail_quantile"]
