import numpy as np
import pytest

from pipelines.batch_encoding import encode_batch
from pipelines.reference.build import build_reference, dedup_rows, expand_by_counts
from pipelines.scorers import REGISTRY, make_scorer
from pipelines.scorers.neighbourhood import lof


def test_dedup_keeps_first_seen_order_and_counts():
    X = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4], [1, 2]], dtype=np.float32)
    u, first, counts = dedup_rows(X)
    np.testing.assert_array_equal(u, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(first, [0, 1, 3])
    np.testing.assert_array_equal(counts, [3, 2, 1])


def test_duplicate_heavy_reference_keeps_lof_finite(snsr_bundle, snsr_split):
    X_train, _, X_test, _ = snsr_split
    model = snsr_bundle.model
    Xs = model.scaler.transform(X_train)
    heavy = np.vstack([Xs] + [Xs[:20]] * 30)
    ref = build_reference(model, heavy, k=10, n_trees=5)
    assert ref.size == len(np.unique(Xs, axis=0))
    assert ref.counts.sum() == len(heavy)
    assert ref.counts[:20].min() == 31
    assert (ref.kdist[:20] == 0).all() and (ref.kdist[20:] > 0).all()  # 30 other copies within k=10
    assert np.isfinite(ref.lrd).all() and ref.lrd.max() <= 1.0 / ref.dist_floor + 1e-9
    enc = encode_batch(model, ref, np.vstack([X_test, X_train[:5]]), 10)
    assert np.isfinite(lof(enc, ref)).all()


def test_distance_floor_guards_near_duplicates(snsr_bundle, snsr_split):
    model = snsr_bundle.model
    Xs = model.scaler.transform(snsr_split[0])
    near = np.vstack([Xs, Xs[:1] + 1e-7 * np.arange(1, 15)[:, None]]).astype(np.float32)
    ref = build_reference(model, near, k=10, n_trees=5)
    assert ref.dist_floor > 0
    assert np.isfinite(ref.lrd).all()
    assert ref.lrd.max() <= 1.0 / ref.dist_floor + 1e-9


def test_reference_lof_matches_sklearn_on_distinct_points(snsr_bundle, snsr_split):
    from sklearn.neighbors import LocalOutlierFactor

    X_train, _, X_test, _ = snsr_split
    model = snsr_bundle.model
    ref = build_reference(model, model.scaler.transform(X_train), k=10, n_trees=5, floor_frac=0.0)
    enc = encode_batch(model, ref, X_test, 10)
    sk = LocalOutlierFactor(n_neighbors=10, novelty=True).fit(ref.latents)
    np.testing.assert_allclose(lof(enc, ref), -sk.score_samples(enc.z), rtol=1e-4)


def test_too_small_reference_is_refused(snsr_bundle):
    Xs = snsr_bundle.model.scaler.transform(np.ones((30, snsr_bundle.model.dim)))
    with pytest.raises(ValueError, match="more than k=10 distinct"):
        build_reference(snsr_bundle.model, Xs, k=10)


def test_dedup_false_keeps_every_window_and_equals_dedup_without_duplicates(snsr_bundle, snsr_split):
    model = snsr_bundle.model
    Xs = model.scaler.transform(snsr_split[0])
    Xs = Xs[np.sort(np.unique(Xs, axis=0, return_index=True)[1])]  # distinct rows only
    win = build_reference(model, Xs, k=5, n_trees=5, dedup=False)
    col = build_reference(model, Xs, k=5, n_trees=5)
    assert win.size == col.size == len(Xs)
    for a in ("err", "kdist", "lrd", "counts", "window_ids"):
        np.testing.assert_array_equal(getattr(win, a), getattr(col, a))
    dup = np.r_[Xs, Xs[:20], Xs[:20]]  # 20 windows seen three times
    win = build_reference(model, dup, k=5, n_trees=5, dedup=False)
    assert win.size == len(dup) and (win.counts == 1).all() and win.index.annoy.get_n_items() == len(dup)
    np.testing.assert_array_equal(win.window_ids, np.arange(len(dup)))
    assert np.isfinite(win.lrd).all() and win.kdist[:20].mean() < win.kdist[20 : len(Xs)].mean()  # multiplicity counts
    z, _, _ = model.encode_scaled(Xs[:20])
    _, dist = win.index.query(z, 3)
    assert np.allclose(dist, 0, atol=1e-6)  # each of the 20 sees its three copies first


def test_expand_by_counts_repeats_each_item_and_cuts_at_k():
    idx = np.array([[7, 3, 5, 9], [1, 2, 3, 4]])
    dist = np.array([[0.0, 0.5, 0.5, 2.0], [0.1, 0.2, 0.3, 0.4]])
    counts = np.array([[2, 0, 3, 1], [1, 1, 1, 1]])
    i, d = expand_by_counts(idx, dist, counts, 4)
    np.testing.assert_array_equal(i, [[7, 7, 5, 5], [1, 2, 3, 4]])
    np.testing.assert_array_equal(d, [[0.0, 0.0, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4]])
    assert expand_by_counts(idx[:0], dist[:0], counts[:0], 4)[0].shape == (0, 4)
    with pytest.raises(ValueError, match="fewer than k=7"):
        expand_by_counts(idx, dist, counts, 7)


def test_collapsed_reference_with_counts_scores_like_every_window(snsr_bundle, snsr_split):
    """The duplicate policy: collapsing identical windows keeps their multiplicity, so every scorer gives the
    scores of the reference that keeps each window (with an index of the distinct windows only)."""
    X_train, X_val, X_test, _ = snsr_split
    model = snsr_bundle.model
    raw = X_train[np.sort(np.unique(X_train, axis=0, return_index=True)[1])]
    rng = np.random.default_rng(3)
    heavy_raw = np.vstack([raw] + [raw[rng.choice(len(raw), 40, replace=False)] for _ in range(12)])  # 1-13 copies
    heavy_raw = heavy_raw[rng.permutation(len(heavy_raw))]
    heavy = model.scaler.transform(heavy_raw)
    Xs = np.unique(heavy, axis=0)
    col = build_reference(model, heavy, k=5, n_trees=5)
    win = build_reference(model, heavy, k=5, n_trees=5, dedup=False)
    assert col.size == len(Xs) < win.size == len(heavy) and col.counts.max() > 5
    np.testing.assert_allclose(np.sort(np.repeat(col.kdist, col.counts)), np.sort(win.kdist), atol=1e-6)
    assert col.dist_floor == pytest.approx(win.dist_floor, rel=1e-5)
    queries = np.vstack([X_test, X_val[:30], heavy_raw[:30]])  # 30 exact copies
    for name in (n for n, (cls, _) in REGISTRY.items() if cls.variants is None):  # the plain AE's scorers
        scores = []
        for ref in (col, win):
            sc = make_scorer(name)
            k = max(ref.k, getattr(sc, "k_needed", 0))
            sc.fit(encode_batch(model, ref, X_val, k), ref, model.decode)
            scores.append(sc.score(encode_batch(model, ref, queries, k), ref, model.decode).score)
        np.testing.assert_allclose(scores[0], scores[1], rtol=1e-5, atol=1e-6, err_msg=name)
    ids = col.window_ids[encode_batch(model, col, queries[-30:], 5).nbr_idx]
    assert (ids[:, 0] == ids[:, 1]).mean() > 0.5  # a copied window fills several of its own query's places


def _dedup_by_unique(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The former dedup_rows: np.unique(axis=0), then first-seen order."""
    _, first, counts = np.unique(X, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return X[first[order]], first[order], counts[order]


@pytest.mark.parametrize("n", [1, 7, 70_000, 150_001])  # across DEDUP_CHUNK boundaries
def test_dedup_groups_rows_exactly_as_np_unique_axis0(n):
    rng = np.random.default_rng(n)
    X = rng.integers(-3, 4, size=(n, 4)).astype(np.float32)  # many repeats among 7**4 distinct rows
    X.ravel()[np.flatnonzero(X.ravel() == 0)[::2]] = -0.0  # equal to 0.0, as np.unique has it
    X[0, 0], X[-1] = 0.0, X[0]
    X[-1, 0] = -0.0  # the last row repeats the first only by value
    for got, want in zip(dedup_rows(X), _dedup_by_unique(X), strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype or got.dtype.kind == want.dtype.kind == "i"


def test_dedup_without_repeats_returns_the_rows_themselves():
    X = np.random.default_rng(0).normal(size=(1000, 5)).astype(np.float32)
    u, first, counts = dedup_rows(X)
    assert u is X
    np.testing.assert_array_equal(first, np.arange(1000))
    assert (counts == 1).all()


def test_self_knn_in_chunks_equals_one_query_of_every_item(monkeypatch):
    import pipelines.reference.build as build
    from pipelines.reference.search import NeighbourIndex

    Z = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    Z[10] = Z[11]  # a tie at distance 0: self may be listed second, or past k
    index = NeighbourIndex(Z, NeighbourIndex.build_annoy(Z, 5, seed=0), exact_max=10)
    monkeypatch.setattr(build, "EXACT_BUILD_MAX", 10)
    idx, dist = index.query(Z, 6, method="annoy")
    own = idx == np.arange(300)[:, None]
    keep = ~own
    keep[~own.any(axis=1), 5] = False
    monkeypatch.setattr(build, "SELF_KNN_CHUNK", 7)
    got_idx, got_dist = build.self_knn(Z, 5, index)
    np.testing.assert_array_equal(got_idx, idx[keep].reshape(300, 5))
    np.testing.assert_array_equal(got_dist, dist[keep].reshape(300, 5))
    assert (got_idx != np.arange(300)[:, None]).all()
