import numpy as np
import torch

from pipelines.model.autoencoder import AESpec
from pipelines.model.training import TrainParams, train_autoencoder


def _data():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(600, 3))
    X = (Z @ rng.normal(size=(3, 12)) + 0.05 * rng.normal(size=(600, 12))).astype(np.float32)
    return X[:500], X[500:]


def test_same_seed_same_weights():
    Xt, Xv = _data()
    spec, params = AESpec(12, hidden=(16,), latent=3), TrainParams(epochs=15, patience=5)
    a = train_autoencoder(Xt, Xv, spec, params, seed=3, progress=False).model.state_dict()
    b = train_autoencoder(Xt, Xv, spec, params, seed=3, progress=False).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_learns_and_keeps_the_best_epoch():
    Xt, Xv = _data()
    r = train_autoencoder(
        Xt, Xv, AESpec(12, hidden=(16,), latent=3), TrainParams(epochs=200, patience=5), seed=0, progress=False
    )
    first_val = r.history[0][1]
    assert r.best_val_loss < 0.5 * first_val
    assert r.best_val_loss == min(v for _, v in r.history)
    assert r.epochs_run <= r.best_epoch + 1 + 5
    with torch.no_grad():
        x = torch.from_numpy(Xv)
        assert (
            float(((r.model(x) - x) ** 2).mean()) == np.float32(r.best_val_loss).item()
            or abs(float(((r.model(x) - x) ** 2).mean()) - r.best_val_loss) < 1e-5
        )


def test_early_stopping_stops_before_the_epoch_limit():
    Xt, Xv = _data()
    r = train_autoencoder(
        Xt,
        Xv,
        AESpec(12, hidden=(16,), latent=3),
        TrainParams(epochs=2000, patience=3, lr=1e-2),
        seed=0,
        progress=False,
    )
    assert r.epochs_run < 2000
