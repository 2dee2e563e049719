import numpy as np
import pytest

import chaoslab as cl

LORENZ_LAMBDA = 0.9056   # largest Lyapunov exponent of Lorenz (sigma 10, rho 28, beta 8/3)


@pytest.fixture(scope="session")
def lorenz_data():
    """Lorenz at dt 0.01: 10,000 training samples and 6,000 held out."""
    s = cl.systems.get("Lorenz")
    X = cl.simulate(s, 16_000, dt=0.01, transient=2000)
    return X[:10_000], X[10_000:]


@pytest.fixture(scope="session")
def median_vpt():
    """median_vpt(model, test, ...): median VPT in Lyapunov times over held-out starts."""
    return _median_vpt


def _median_vpt(model, test, n=20, context=200, horizon=2000, dt=0.01, lam=LORENZ_LAMBDA,
               scale=None):
    starts = np.linspace(0, len(test) - context - horizon, n).astype(int)
    ctx = np.stack([test[i:i + context] for i in starts])
    truth = np.stack([test[i + context:i + context + horizon] for i in starts])
    pred = model.forecast(ctx, horizon)
    vpt = cl.metrics.valid_prediction_time(truth, pred, dt, lam, scale=scale)
    return float(np.median(vpt))
