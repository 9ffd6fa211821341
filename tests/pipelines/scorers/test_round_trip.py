"""Params/state round trip for every registered scorer, river-style: each scorer class gives its own test parameters
(``_unit_test_params``), and the shared check builds it from each set, fits it, saves ``params()`` and ``state()``
through JSON (as an artifact's scorer.json holds them), rebuilds it the way ``codec.load_scorer`` does, and requires
identical scores and components on further data. A scorer added to the registry is checked without a line here."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from pipelines.batch_encoding import encode_batch, neighbours_needed
from pipelines.scorers import REGISTRY, Scorer, make_scorer

CASES = [(name, params) for name, (cls, _) in sorted(REGISTRY.items()) for params in cls._unit_test_params()]


def _score(scorer: Scorer, bundle: Any, X: np.ndarray) -> Any:
    enc = encode_batch(bundle.model, bundle.reference, X, neighbours_needed(bundle.reference, scorer))
    return scorer.score(enc, bundle.reference, bundle.model.decode)


def _through_json(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def test_every_scorer_class_gives_test_params():
    for name, (cls, _) in REGISTRY.items():
        assert list(cls._unit_test_params()), f"{name}: {cls.__name__}._unit_test_params() yields nothing"


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_params_and_state_round_trip(name, params, synthetic_split, request):
    X_train, X_val, X_test, _ = synthetic_split
    # a scorer that reads a training variant's outputs runs on the model trained as that variant (AE-LFR, VAE)
    variants = REGISTRY[name][0].variants
    bundle = request.getfixturevalue(f"synthetic_{variants[0]}_bundle" if variants else "synthetic_bundle")
    scorer = make_scorer(name, **params)
    enc = encode_batch(bundle.model, bundle.reference, X_val, neighbours_needed(bundle.reference, scorer))
    scorer.fit(enc, bundle.reference, bundle.model.decode)
    for key, value in params.items():
        assert scorer.params().get(key, value) == value, f"{name}: params() reports {key} differently"

    restored = make_scorer(name, **_through_json(scorer.params()))
    restored.load_state(_through_json(scorer.state()))

    assert restored.params() == scorer.params()
    assert json.dumps(restored.state(), sort_keys=True) == json.dumps(scorer.state(), sort_keys=True)
    for X in (X_test, X_train[:97]):
        a, b = _score(scorer, bundle, X), _score(restored, bundle, X)
        np.testing.assert_array_equal(b.score, a.score)
        assert sorted(b.components) == sorted(a.components)
        for key in a.components:
            np.testing.assert_array_equal(b.components[key], a.components[key])
