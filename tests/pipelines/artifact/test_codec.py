"""A counted reference keeps its duplicate policy through save and load; one saved before counts were honoured
(no `weighted` array) keeps scoring as it did."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import load_file, save_file

from pipelines.artifact import codec
from pipelines.batch_encoding import encode_batch
from pipelines.reference.build import build_reference
from pipelines.scorers import make_scorer


def _heavy(model, X_train):
    Xs = model.scaler.transform(X_train)
    return np.r_[Xs, Xs[:25], Xs[:25], Xs[:25]]  # 25 windows seen four times


def test_counted_reference_round_trips(snsr_bundle, snsr_split, tmp_path):
    model = snsr_bundle.model
    ref = build_reference(model, _heavy(model, snsr_split[0]), k=5, n_trees=5)
    assert ref.weighted and ref.counts.max() == 4
    codec.save_reference(tmp_path, ref)
    back = codec.load_reference(tmp_path)
    assert back.weighted
    q = snsr_split[2]
    a, b = encode_batch(model, ref, q, 5), encode_batch(model, back, q, 5)
    np.testing.assert_array_equal(a.nbr_idx, b.nbr_idx)
    sc = make_scorer("ares", k=5)
    np.testing.assert_array_equal(sc.score(a, ref, model.decode).score, sc.score(b, back, model.decode).score)
    z, _, _ = model.encode_scaled(model.scaler.transform(snsr_split[0][:25]))
    idx, dist = back.neighbours(z, 5)
    assert (idx[:, :4] == idx[:, :1]).all() and np.allclose(dist[:, :4], 0, atol=1e-6)  # its four copies first


def test_reference_saved_without_the_weighted_flag_ignores_counts(snsr_bundle, snsr_split, tmp_path):
    model = snsr_bundle.model
    ref = build_reference(model, _heavy(model, snsr_split[0]), k=5, n_trees=5)
    codec.save_reference(tmp_path, ref)
    path = tmp_path / "reference.safetensors"
    arrays = load_file(str(path))
    del arrays["weighted"]
    save_file(arrays, str(path))
    old = codec.load_reference(tmp_path)
    assert not old.weighted
    z, _, _ = model.encode_scaled(model.scaler.transform(snsr_split[0][:25]))
    idx, _ = old.neighbours(z, 5)
    assert all(len(set(row)) == 5 for row in idx.tolist())  # one place per item, as before counts were honoured
