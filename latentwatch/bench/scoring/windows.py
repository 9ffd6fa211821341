"""Where the benchmark's windows come from: a real data set's rows drawn with replacement plus noise, or a stated
synthetic generator."""

from __future__ import annotations

import numpy as np


def synthetic_windows(n: int, rng: np.random.Generator, d: int = 18, anomalies: float = 0.0) -> np.ndarray:
    """The stated synthetic generator: 12 gaussian clusters on a fixed random 4-d subspace of R^d (the structure
    is seeded with 1234, independent of rng) plus isotropic noise 0.05; a fraction `anomalies` of rows is uniform
    in the box the normal data spans, widened by 20%."""
    g = np.random.default_rng(1234)
    basis, centers = g.normal(size=(4, d)), g.normal(size=(12, 4)) * 3.0
    c = rng.integers(0, len(centers), n)
    X = (centers[c] + rng.normal(0.0, 0.3, (n, 4))) @ basis + rng.normal(0.0, 0.05, (n, d))
    m = int(round(anomalies * n))
    if m:
        lo, hi = X.min(0), X.max(0)
        span = hi - lo
        X[rng.choice(n, m, replace=False)] = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, (m, d))
    return X


class WindowSource:
    """Normal windows and query windows of one data set, any number of them."""

    def __init__(self, name: str, data_dir: str | None, noise: float) -> None:
        self.name, self.noise = name, float(noise)
        if name == "synthetic":
            self.normal_pool = self.all_pool = None
            self.describe = (
                "synthetic: 12 gaussian clusters on a 4-d subspace of R^18 (latentwatch.bench.scoring."
                "windows.synthetic_windows); queries hold 10% uniform anomalies"
            )
            return
        from pipelines.data import load_dataset

        ds = load_dataset(name, data_dir)
        if ds.kind != "single":
            raise ValueError(f"bench needs a single-label data set (normal/anomaly), {name} is {ds.kind}")
        self.all_pool = np.asarray(ds.X, dtype=np.float64)
        self.normal_pool = self.all_pool[np.asarray(ds.y) == 0]
        self.std = self.normal_pool.std(axis=0)
        n_distinct = len(np.unique(self.normal_pool, axis=0))
        self.describe = (
            f"{name}: {len(self.normal_pool):,} normal rows ({n_distinct:,} distinct) drawn with "
            f"replacement + gaussian noise {self.noise:g} x feature std; queries from all "
            f"{len(self.all_pool):,} rows ({float(np.mean(np.asarray(ds.y) != 0)):.1%} anomalous)"
        )

    def _draw(self, pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        X = pool[rng.integers(0, len(pool), n)]
        return X + rng.normal(0.0, 1.0, X.shape) * (self.noise * self.std)

    def normal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.normal_pool is None:
            return synthetic_windows(n, rng)
        return self._draw(self.normal_pool, n, rng)

    def queries(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.all_pool is None:
            return synthetic_windows(n, rng, anomalies=0.1)
        return self._draw(self.all_pool, n, rng)
