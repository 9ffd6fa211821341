import numpy as np
import pytest

from pipelines.reference.assets import build_asset_normal, held_blocks, score_against
from pipelines.reference.build import build_reference
from pipelines.scorers import make_scorer


def test_crossfit_blocks_cover_every_window_once_in_time_order():
    blocks = held_blocks(103, "crossfit", 5, 0.2)
    assert blocks[0][0] == 0 and blocks[-1][1] == 103
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
    assert held_blocks(100, "split", 5, 0.2) == [(80, 100)]
    with pytest.raises(ValueError, match="unknown calibration 'random'"):
        held_blocks(100, "random", 5, 0.2)


def test_crossfit_scores_each_fold_against_a_reference_without_it(snsr_bundle, snsr_split):
    model, X = snsr_bundle.model, snsr_split[0][:90]
    scorer = make_scorer("ares")
    normal = build_asset_normal(model, X, scorer, k=10, seed=0, folds=3)
    assert len(normal.calibration) == len(X)
    assert normal.reference.counts.sum() == len(X)
    # the middle fold, recomputed by hand: reference from folds 0 and 2 only
    keep = np.r_[0:30, 60:90]
    ref = build_reference(model, model.scaler.transform(X[keep]), k=10, n_trees=0, seed=0, window_ids=keep)
    np.testing.assert_allclose(normal.calibration[30:60], score_against(model, ref, scorer, X[30:60]))
    # in-sample scores (each window inside the reference it is scored against) are optimistic (on 300 windows: on
    # 90 the two medians are within noise of each other)
    X = snsr_split[0][:300]
    normal = build_asset_normal(model, X, scorer, k=10, seed=0, folds=3)
    in_sample = score_against(model, normal.reference, scorer, X)
    assert np.median(normal.calibration) > np.median(in_sample)


def test_split_and_gap(snsr_bundle, snsr_split):
    model, X = snsr_bundle.model, snsr_split[0][:80]
    scorer = make_scorer("ares")
    split = build_asset_normal(model, X, scorer, calibration="split", holdout=0.25)
    ref = build_reference(model, model.scaler.transform(X[:60]), k=10, n_trees=0, seed=0)
    np.testing.assert_allclose(split.calibration, score_against(model, ref, scorer, X[60:]))
    gapped = build_asset_normal(model, X, scorer, calibration="split", holdout=0.25, gap=5)
    ref = build_reference(model, model.scaler.transform(X[:55]), k=10, n_trees=0, seed=0)
    np.testing.assert_allclose(gapped.calibration, score_against(model, ref, scorer, X[60:]))


def test_too_few_windows_names_the_fold(snsr_bundle, snsr_split):
    with pytest.raises(ValueError, match=r"held windows \[0, 6\) keeps 24, needs more than k=30"):
        build_asset_normal(snsr_bundle.model, snsr_split[0][:30], make_scorer("ares"), k=30)
