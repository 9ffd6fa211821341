"""The benchmark's peers: PyOD KNN fitted without its self-scoring pass, and recall against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from latentwatch.bench.scoring.peers import fit_pyod_knn, recall_at_k


def test_pyod_knn_without_self_scores_scores_like_pyod():
    from pyod.models.knn import KNN

    rng = np.random.default_rng(0)
    X, Q = rng.normal(size=(500, 5)), rng.normal(size=(50, 5)) * 1.5
    full = KNN(n_neighbors=10).fit(X)
    quick = fit_pyod_knn(X, 10, n_jobs=1)
    np.testing.assert_allclose(quick.decision_function(Q), full.decision_function(Q), rtol=1e-12)


def test_recall_at_k():
    exact = np.array([[0, 1, 2], [3, 4, 5]])
    assert recall_at_k(exact, exact) == 1.0
    assert recall_at_k(np.array([[2, 1, 9], [8, 7, 6]]), exact) == pytest.approx(2 / 6)
