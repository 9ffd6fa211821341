"""The neighbour search: exact k-d tree against a brute-force reference, Annoy's recall, threads, far queries,
errors."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.reference.search import DEFAULT_EXACT_MAX, NeighbourIndex, exact_knn


def brute(Q: np.ndarray, R: np.ndarray, k: int, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The obvious implementation: every distance in float64, a stable sort (ties: lower index first)."""
    D = np.sqrt(((Q.astype(np.float64)[:, None, :] - R.astype(np.float64)[None, :, :]) ** 2).sum(-1))
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, axis=1)


def true_dist(Q: np.ndarray, R: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.sqrt(((Q.astype(np.float64)[:, None, :] - R.astype(np.float64)[idx]) ** 2).sum(-1))


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, d)) * 3
    return (centers[rng.integers(0, 20, n)] + rng.normal(0, 0.4, (n, d))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return clustered(3000, 8, 1), rng.normal(size=(400, 8)).astype(np.float32) * 2


def test_exact_knn_matches_brute_force(data):
    R, Q = data
    idx, dist = exact_knn(Q, R, 10)
    bi, bd = brute(Q, R, 10)
    assert idx.dtype == np.int64 and dist.dtype == np.float64 and idx.shape == (len(Q), 10)
    np.testing.assert_array_equal(idx, bi)
    np.testing.assert_allclose(dist, bd, rtol=1e-12, atol=1e-12)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_exact_knn_exclude_self_matches_brute_force(data):
    R, _ = data
    idx, dist = exact_knn(R, R, 7, exclude_self=True)
    bi, bd = brute(R, R, 7, exclude_self=True)
    np.testing.assert_array_equal(idx, bi)
    np.testing.assert_allclose(dist, bd, rtol=1e-12, atol=1e-12)
    assert not (idx == np.arange(len(R))[:, None]).any()


def test_exact_knn_threads_equal_one_thread(data):
    R, Q = data
    a = exact_knn(Q, R, 10, workers=1)
    b = exact_knn(Q, R, 10, workers=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_exact_knn_ties_on_a_grid():
    """Integer grid points: many neighbours at exactly equal distances."""
    g = np.arange(6, dtype=np.float32)
    R = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)  # 216 points
    Q = np.array([[2, 2, 2], [2.5, 2.5, 2.5], [0, 0, 0], [5, 0, 2.5]], dtype=np.float32)
    k = 9
    idx, dist = exact_knn(Q, R, k)
    _, bd = brute(Q, R, k)
    np.testing.assert_allclose(dist, bd, rtol=0, atol=1e-12)  # the distances are unique even when indices tie
    np.testing.assert_allclose(true_dist(Q, R, idx), dist, rtol=0, atol=1e-12)
    D = true_dist(Q, R, np.tile(np.arange(len(R)), (len(Q), 1)))
    for row in range(len(Q)):
        assert len(set(idx[row])) == k
        strictly_closer = np.flatnonzero(D[row] < dist[row, -1])
        assert set(strictly_closer) <= set(idx[row])
        for a in range(k - 1):  # equal distances come in index order
            if dist[row, a] == dist[row, a + 1]:
                assert idx[row, a] < idx[row, a + 1]
    # the centre of a unit cell: 8 corners tie at sqrt(3)/2, all returned, in index order
    np.testing.assert_allclose(dist[1, :8], np.sqrt(3) / 2)
    assert list(idx[1, :8]) == sorted(idx[1, :8])


def test_exact_knn_exclude_self_with_duplicates():
    """Five copies of one point: each copy's neighbours are the other copies, never itself."""
    R = np.vstack([np.zeros((5, 2)), np.arange(10, 20).reshape(5, 2)]).astype(np.float32)
    idx, dist = exact_knn(R, R, 3, exclude_self=True)
    for i in range(5):
        assert i not in idx[i]
        assert set(idx[i]) <= {0, 1, 2, 3, 4}
        np.testing.assert_array_equal(dist[i], 0.0)


def test_exact_knn_k_equals_n(data):
    R, Q = data
    R = R[:50]
    idx, dist = exact_knn(Q[:20], R, 50)
    bi, bd = brute(Q[:20], R, 50)
    np.testing.assert_array_equal(np.sort(idx, axis=1), np.tile(np.arange(50), (20, 1)))
    np.testing.assert_array_equal(idx, bi)
    np.testing.assert_allclose(dist, bd, rtol=1e-12)
    idx, _ = exact_knn(R, R, 49, exclude_self=True)
    assert all(set(row) == set(range(50)) - {i} for i, row in enumerate(idx))


def test_exact_knn_k_one_keeps_two_dimensions(data):
    R, Q = data
    idx, dist = exact_knn(Q, R, 1)
    assert idx.shape == dist.shape == (len(Q), 1)


def test_errors(data):
    R, Q = data
    with pytest.raises(ValueError, match="holds 50 items"):
        exact_knn(Q, R[:50], 51)
    with pytest.raises(ValueError, match="besides itself"):
        exact_knn(R[:50], R[:50], 50, exclude_self=True)
    with pytest.raises(ValueError, match="k must be >= 1"):
        exact_knn(Q, R, 0)
    with pytest.raises(ValueError, match="dimensions"):
        exact_knn(Q[:, :5], R, 3)
    with pytest.raises(ValueError, match="reference itself"):
        exact_knn(Q, R, 3, exclude_self=True)
    index = NeighbourIndex(R[:50], NeighbourIndex.build_annoy(R[:50], 5, 0), exact_max=10)
    for method in ("exact", "annoy"):
        with pytest.raises(ValueError, match="holds 50 items"):
            index.query(Q, 51, method=method)
    with pytest.raises(ValueError, match="queries must be"):
        index.query(Q[:, :5], 3)
    with pytest.raises(ValueError, match="unknown search method"):
        index.query(Q, 3, method="faiss")


def test_method_follows_exact_max(data):
    R, _ = data
    annoy = NeighbourIndex.build_annoy(R, 5, 0)
    assert NeighbourIndex(R, annoy).method == "exact"  # 3000 <= DEFAULT_EXACT_MAX
    assert NeighbourIndex(R, annoy, exact_max=len(R)).method == "exact"
    assert NeighbourIndex(R, annoy, exact_max=len(R) - 1).method == "annoy"
    assert NeighbourIndex(R, None, exact_max=10).method == "exact"  # no Annoy index: exact regardless
    assert DEFAULT_EXACT_MAX >= 100_000


def on_a_manifold(n: int, seed: int) -> np.ndarray:
    """Like an autoencoder's latent codes: 20 clusters on a fixed 4-d subspace of R^8, a little noise off it."""
    rng, g = np.random.default_rng(seed), np.random.default_rng(99)
    basis, centers = g.normal(size=(4, 8)), g.normal(size=(20, 4)) * 3
    return (
        (centers[rng.integers(0, 20, n)] + rng.normal(0, 0.4, (n, 4))) @ basis + rng.normal(0, 0.02, (n, 8))
    ).astype(np.float32)


def test_annoy_recall_floor_on_seeded_data():
    """The bench's Annoy settings (10 trees, search_k 200). Recall depends on the data: on these latent-like
    points 0.996-0.999 over build seeds (full-rank 8-d clusters give ~0.8, so the floor is this data's)."""
    R = on_a_manifold(20_000, 2)
    Q = on_a_manifold(500, 3)
    index = NeighbourIndex(R, NeighbourIndex.build_annoy(R, 10, seed=0), search_k=200, exact_max=0)
    assert index.method == "annoy"
    idx, dist = index.query(Q, 10)
    exact, _ = exact_knn(Q, R, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(idx.tolist(), exact.tolist(), strict=False)])
    assert recall >= 0.98, recall
    np.testing.assert_allclose(dist, true_dist(Q, R, idx), rtol=1e-5, atol=1e-5)  # its own float32 distances
    assert (np.diff(dist, axis=1) >= 0).all()


def test_annoy_threads_equal_one_thread(data):
    R, Q = data
    annoy = NeighbourIndex.build_annoy(R, 10, seed=0)
    one = NeighbourIndex(R, annoy, search_k=100, exact_max=0, threads=1).query(Q, 10)
    two_index = NeighbourIndex(R, annoy, search_k=100, exact_max=0, threads=2)
    two = two_index.query(Q, 10)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    small = two_index.query(Q[:5], 10)  # below the parallel threshold: one thread
    np.testing.assert_array_equal(small[0], one[0][:5])
    two_index.close()


def test_annoy_short_result_is_an_error():
    R = clustered(2000, 8, 4)
    index = NeighbourIndex(R, NeighbourIndex.build_annoy(R, 10, seed=0), search_k=5, exact_max=0, threads=1)
    with pytest.raises(RuntimeError, match="raise n_trees or search_k"):
        index.query(R[:50], 10)


def test_index_exact_is_exact_for_near_queries_and_bounded_for_far_ones():
    R = clustered(5000, 8, 5)
    rng = np.random.default_rng(6)
    near = R[rng.choice(len(R), 200, replace=False)] + rng.normal(0, 0.05, (200, 8)).astype(np.float32)
    far = rng.uniform(-40, 40, (100, 8)).astype(np.float32)
    Q = np.vstack([near, far])
    index = NeighbourIndex(R, None)
    idx, dist = index.query(Q, 10)
    ei, ed = exact_knn(Q, R, 10)
    radius = index.far_radius(10)
    is_far = ed[:, -1] >= radius
    assert 0 < index.last_far == is_far.sum() and is_far[200:].all() and not is_far[:200].any()
    np.testing.assert_array_equal(idx[~is_far], ei[~is_far])
    np.testing.assert_allclose(dist[~is_far], ed[~is_far], rtol=1e-12)
    # far queries: true distances of the returned items, nearest first, k-th within (1 + far_eps) of exact
    np.testing.assert_allclose(dist, true_dist(Q, R, idx), rtol=1e-12)
    assert (np.diff(dist, axis=1) >= 0).all()
    assert (dist[:, -1] <= (1 + index.far_eps) * ed[:, -1] + 1e-9).all()
    # far_eps=0: exact everywhere
    exact_index = NeighbourIndex(R, None, far_eps=0)
    xi, xd = exact_index.query(Q, 10)
    np.testing.assert_array_equal(xi, ei)
    np.testing.assert_array_equal(xd, ed)
    assert exact_index.last_far == 0 and exact_index.far_radius(10) == np.inf
    # seeded: the same radius every time
    assert NeighbourIndex(R, None).far_radius(10) == radius


def test_index_exact_threads_equal_one_thread(data):
    R, Q = data
    a = NeighbourIndex(R, None, threads=1).query(Q, 10)
    b = NeighbourIndex(R, None, threads=2).query(Q, 10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_build_annoy_is_seeded(data):
    R, Q = data
    a = NeighbourIndex(R, NeighbourIndex.build_annoy(R, 5, seed=3), search_k=50, exact_max=0).query(Q, 5)
    b = NeighbourIndex(R, NeighbourIndex.build_annoy(R, 5, seed=3), search_k=50, exact_max=0).query(Q, 5)
    np.testing.assert_array_equal(a[0], b[0])


def test_annoy_index_holds_every_latent_exactly_across_add_chunks(monkeypatch):
    import pipelines.reference.search as search

    monkeypatch.setattr(search, "ANNOY_ADD_CHUNK", 7)
    Z = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)
    index = NeighbourIndex.build_annoy(Z, 2, seed=0)
    assert index.get_n_items() == 50
    np.testing.assert_array_equal(np.array([index.get_item_vector(i) for i in range(50)], dtype=np.float32), Z)
