import numpy as np
import pytest

import chaoslab as cl

LORENZ_LAMBDA = 0.9056   # largest Lyapunov exponent of Lorenz (sigma 10, rho 28, beta 8/3)


@pytest.fixture(scope="session")
def lorenz_data():
    """Lorenz at dt 0.01: 10,000 training samples and 6,000 held out."""
    s = cl.systems.get("Lorenz")
    X = cl.simulate(s, 16_000, dt=0.01, transient=20.0)
    return X[:10_000], X[10_000:]


@pytest.fixture(scope="session")
def median_vpt():
    """median_vpt(model, test, ...): median VPT in Lyapunov times over held-out starts,
    each forecast ``n_steps`` samples long."""
    return _median_vpt


def _median_vpt(model, test, n=20, context=200, n_steps=2000, dt=0.01,
                lyapunov_exponent=LORENZ_LAMBDA, scale=None):
    starts = np.linspace(0, len(test) - context - n_steps, n).astype(int)
    ctx = np.stack([test[i:i + context] for i in starts])
    truth = np.stack([test[i + context:i + context + n_steps] for i in starts])
    pred = model.forecast(ctx, n_steps)
    vpt = cl.metrics.valid_prediction_time(truth, pred, dt, lyapunov_exponent, scale=scale)
    return float(np.median(vpt))
