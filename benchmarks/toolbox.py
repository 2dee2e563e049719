"""The analysis toolbox against peers, in one run (medians, ratios).

1. Recurrence quantification of a Lorenz trajectory (dt 0.05) at 2,000 to 20,000 points:
   chaoslab's ``rqa`` against pyunicorn's ``RecurrencePlot`` (its dense matrix; at 20,000
   its sparse mode, which takes only the max norm, so both use the max norm there), same
   threshold, and the agreement of RR, DET, L, LAM, TT. pyunicorn
   keeps the main diagonal for RR and LAM and leaves it out for DET and L, so those are
   compared with chaoslab's ``theiler=0`` and ``theiler=1`` respectively.
2. The 0-1 test on 5,000 samples, 100 frequencies: chaoslab (FFT) against the
   definition written as a plain numpy loop over lags.
3. Basins of the unforced Duffing oscillator on a 16 x 16 grid: chaoslab's batch against
   scipy's ``solve_ivp`` (RK45, rtol 1e-6) one start at a time, end state classified by
   the sign of x.

    python -m benchmarks.toolbox
"""
from __future__ import annotations

import time

import numpy as np

from .common import median_time, save


def _lorenz(n):
    import chaoslab as cl

    return cl.simulate("Lorenz", n, transient=50.0, dt=0.05, substeps=5)


def recurrence(sizes=(2000, 5000, 10000, 20000), eps=3.0):
    from chaoslab.analysis import rqa

    out = {}
    rqa(_lorenz(500), eps=eps)  # compile
    for n in sizes:
        x = _lorenz(n)
        # pyunicorn's sparse mode (used above 10,000 points) takes the max norm only
        metric = "max" if n > 10000 else "euclidean"
        t_cl, _ = median_time(lambda: (rqa(x, eps=eps, theiler=0, metric=metric),
                                       rqa(x, eps=eps, theiler=1, metric=metric)),
                              repeat=3, warmup=0)
        r0 = rqa(x, eps=eps, theiler=0, metric=metric)
        r1 = rqa(x, eps=eps, theiler=1, metric=metric)
        row = {"metric": metric, "chaoslab_s": t_cl, "chaoslab": {"RR": r0.recurrence_rate,
                                                "DET": r1.determinism, "L": r1.mean_diagonal,
                                                "LAM": r0.laminarity, "TT": r0.trapping_time}}
        try:
            from pyunicorn.timeseries import RecurrencePlot
        except ImportError:
            out[n] = row
            continue
        sparse = n > 10000

        def peer():
            rp = RecurrencePlot(x, threshold=eps, silence_level=3, sparse_rqa=sparse,
                                metric="supremum" if sparse else "euclidean")
            return {"RR": rp.recurrence_rate(), "DET": rp.determinism(l_min=2),
                    "L": rp.average_diaglength(l_min=2), "LAM": rp.laminarity(v_min=2),
                    "TT": rp.trapping_time(v_min=2)}

        t0 = time.perf_counter()
        theirs = peer()
        t_peer = time.perf_counter() - t0
        row.update(pyunicorn_s=t_peer, sparse=sparse,
                   pyunicorn={k: float(v) for k, v in theirs.items()},
                   speedup=t_peer / t_cl,
                   max_rel_diff=max(abs(row["chaoslab"][k] / float(theirs[k]) - 1)
                                    for k in theirs))
        out[n] = row
    return out


def chaos01(n=5000, n_c=100):
    from chaoslab.analysis import chaos_test_01

    x = _lorenz(n)[:, 0]
    t_cl, _ = median_time(lambda: chaos_test_01(x, n_c=n_c), repeat=3)
    rng = np.random.default_rng(0)
    c = rng.uniform(np.pi / 5, 4 * np.pi / 5, n_c)
    n_cut = n // 10

    def loop():
        K = []
        j = np.arange(1, n + 1)
        for cc in c:
            p = np.cumsum(x * np.cos(j * cc))
            q = np.cumsum(x * np.sin(j * cc))
            M = np.array([np.mean((p[k:n - n_cut + k] - p[:n - n_cut]) ** 2
                                  + (q[k:n - n_cut + k] - q[:n - n_cut]) ** 2)
                          for k in range(1, n_cut + 1)])
            V = x.mean() ** 2 * (1 - np.cos(np.arange(1, n_cut + 1) * cc)) / (1 - np.cos(cc))
            K.append(np.corrcoef(np.arange(1, n_cut + 1), M - V)[0, 1])
        return float(np.median(K))

    t_loop, _ = median_time(loop, repeat=1, warmup=0)
    return {"samples": n, "frequencies": n_c, "chaoslab_s": t_cl, "numpy_loop_s": t_loop,
            "speedup": t_loop / t_cl, "K_chaoslab_no_noise": chaos_test_01(x, n_c=n_c,
                                                                          noise=0).K,
            "K_loop": loop()}


def basins(n=16):
    import chaoslab as cl
    from chaoslab.analysis import basins_of_attraction

    g = np.linspace(-2, 2, n)
    kw = dict(params={"gamma": 0.0}, n_window=50)
    basins_of_attraction("Duffing", {"x": g[:4], "y": g[:4]}, **kw)
    t_cl, _ = median_time(lambda: basins_of_attraction("Duffing", {"x": g, "y": g}, **kw),
                          repeat=3, warmup=0)
    ours = basins_of_attraction("Duffing", {"x": g, "y": g}, **kw).basins
    from scipy.integrate import solve_ivp

    s = cl.systems.get("Duffing").with_params(gamma=0.0)

    def one(x0):
        sol = solve_ivp(lambda t, z: s.rhs(z), (0, 250.0), x0, rtol=1e-6)
        return int(sol.y[0, -1] > 0)

    X, Y = np.meshgrid(g, g, indexing="ij")
    t0 = time.perf_counter()
    theirs = np.array([one([a, b, 0.0]) for a, b in zip(X.ravel(), Y.ravel())]).reshape(n, n)
    t_peer = time.perf_counter() - t0
    return {"grid": [n, n], "chaoslab_s": t_cl, "solve_ivp_loop_s": t_peer,
            "speedup": t_peer / t_cl, "agreement": float(np.mean(ours == theirs))}


def main():
    return save("toolbox", {"recurrence": recurrence(),
                            "chaos01": chaos01(), "basins": basins()})


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=1, default=str))
