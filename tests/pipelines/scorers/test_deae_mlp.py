"""The DeAE + MLP scorer (pipelines/scorers/deae_mlp.py) beyond the shared contract: its score is |e - e'| with the
model's own error and its MLP's prediction, and the clear errors where it meets a model without the error MLP."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from pipelines.batch_encoding import encode_batch
from pipelines.fit import TrainSpec, fit_calibrated
from pipelines.scorers import make_scorer


def test_the_score_is_the_distance_of_the_error_from_its_prediction(synthetic_deae_bundle, synthetic_split):
    model, ref = synthetic_deae_bundle.model, synthetic_deae_bundle.reference
    enc = encode_batch(model, ref, synthetic_split[2], ref.k)
    with torch.no_grad():  # the frozen model infers in float64 (pipelines/model/frozen.py)
        predicted = copy.deepcopy(model.parts).double()(torch.as_tensor(enc.z, dtype=torch.float64)).numpy()
    predicted = predicted.astype(np.float32).astype(np.float64)  # rounded as the model rounds its outputs
    result = make_scorer("deae-mlp").score(enc, ref, model.decode)
    np.testing.assert_allclose(result.components["predicted_error"], predicted, rtol=1e-6)
    np.testing.assert_allclose(result.score, np.abs(enc.err - predicted), rtol=1e-6)
    np.testing.assert_array_equal(result.components["recon_error"], enc.err)
    assert (predicted > enc.err).any() and (predicted < enc.err).any()  # both signs count: |e - e'|


def test_on_a_plain_autoencoder_it_says_what_it_needs(synthetic_bundle, synthetic_split):
    model, ref = synthetic_bundle.model, synthetic_bundle.reference
    enc = encode_batch(model, ref, synthetic_split[2][:5], ref.k)
    with pytest.raises(ValueError, match="needs a model trained with training variant deae"):
        make_scorer("deae-mlp").score(enc, ref, model.decode)


def test_training_refuses_the_scorer_with_another_variant_before_training(synthetic_split):
    with pytest.raises(ValueError, match="scorer 'deae-mlp' scores models of training variant deae"):
        fit_calibrated(synthetic_split[0], TrainSpec(scorer="deae-mlp", variant="lfr", epochs=1))
