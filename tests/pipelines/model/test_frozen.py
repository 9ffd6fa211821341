"""The frozen model (pipelines/model/frozen.py): a window's values do not depend on the batch it is scored in, which
is what lets a restart that replays windows in batches of other sizes reach the same decisions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipelines.batch_encoding import encode_batch
from pipelines.scorers import make_scorer


def pieces(n: int, seed: int = 0) -> list[slice]:
    rng, out, i = np.random.default_rng(seed), [], 0
    while i < n:
        b = int(rng.integers(1, 40))
        out.append(slice(i, i + b))
        i += b
    return out


@pytest.mark.parametrize("bundle", ["synthetic_bundle", "synthetic_lfr_bundle"])
def test_a_window_encodes_to_the_same_bits_in_any_batch(bundle, synthetic_split, request):
    model = request.getfixturevalue(bundle).model
    X = synthetic_split[2][:400]
    Xs, z, xhat, err = model.encode(X)
    cut = pieces(len(X))
    parts = [model.encode(X[s]) for s in cut]
    for whole, piece in zip((Xs, z, xhat, err), zip(*parts, strict=True), strict=True):
        np.testing.assert_array_equal(whole, np.concatenate(piece))
    extra = model.extra(Xs, z, xhat)
    for key, values in extra.items():
        np.testing.assert_array_equal(values, np.concatenate([model.extra(Xs[s], z[s], xhat[s])[key] for s in cut]))
    np.testing.assert_array_equal(model.decode(z), np.concatenate([model.decode(z[s]) for s in cut]))


@pytest.mark.parametrize("scorer", ["ares", "nln", "rank-mean"])
def test_a_window_scores_the_same_in_any_batch(scorer, synthetic_bundle, synthetic_split):
    model, ref = synthetic_bundle.model, synthetic_bundle.reference
    sc = make_scorer(scorer)
    sc.fit(encode_batch(model, ref, synthetic_split[1], ref.k), ref, model.decode)
    X = synthetic_split[2][:400]
    whole = sc.score(encode_batch(model, ref, X, ref.k), ref, model.decode).score
    cut = [sc.score(encode_batch(model, ref, X[s], ref.k), ref, model.decode).score for s in pieces(len(X), 1)]
    np.testing.assert_array_equal(whole, np.concatenate(cut))


def test_the_stored_weights_stay_float32(synthetic_bundle):
    model = synthetic_bundle.model
    assert all(p.dtype == torch.float32 for p in model.ae.parameters())
    z, xhat = model.encode(np.zeros((2, model.dim)))[1:3]
    assert z.dtype == np.float32 and xhat.dtype == np.float32
