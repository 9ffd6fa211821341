"""A small synthetic data set that ships with the tests: normal windows near a seeded 3-d linear manifold in 12
features, anomalies off it. Generated, not stored, so it costs no bytes and is the same on every machine (numpy's
seeded PCG64). The scorer contract suite runs on it where the shared SNSR data is absent, and beside it where not."""

from __future__ import annotations

import numpy as np

FEATURES, LATENT = 12, 3


def synthetic_split(
    seed: int = 11, n_train: int = 480, n_val: int = 160, n_test: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_val, X_test, y_test) in the order ``snsr_split`` gives them: train and validation normals, then a
    test set of ``n_test`` normals (y 0) followed by ``n_test`` anomalies (y 1).

    An anomaly is a normal window with a seeded subset of 2-4 features moved by 1.5-4 standard deviations of the
    data, so it leaves the manifold (reconstruction) and its neighbourhood (latent density) by different amounts."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(LATENT, FEATURES))
    offset = rng.normal(scale=3.0, size=FEATURES)

    def normals(n: int) -> np.ndarray:
        z = rng.normal(size=(n, LATENT))
        return z @ mix + offset + rng.normal(scale=0.05, size=(n, FEATURES))

    X_train, X_val, test_n = normals(n_train), normals(n_val), normals(n_test)
    test_a = normals(n_test)
    scale = X_train.std(axis=0)
    for row in test_a:
        cols = rng.choice(FEATURES, size=rng.integers(2, 5), replace=False)
        row[cols] += rng.choice([-1.0, 1.0], size=cols.size) * rng.uniform(1.5, 4.0, size=cols.size) * scale[cols]
    X_test = np.vstack([test_n, test_a])
    y_test = np.r_[np.zeros(n_test), np.ones(n_test)]
    return X_train, X_val, X_test, y_test
