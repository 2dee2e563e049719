"""NG-RC at coarse sampling: fixed ridges against ``ridge="auto"``, standardised and raw.

    python -m benchmarks.ngrc_coarse        # about 10 s on two cores

Lorenz sampled at dt 0.025 (Gauthier et al. 2021) and 0.037 (about 30 samples per
Lyapunov time), 10,000 training samples, 5 held-out starts; prints the median valid
prediction time of each setting and the penalty ``ridge="auto"`` chose.
"""
from __future__ import annotations

import warnings

import numpy as np

import chaoslab as cl


def settings() -> dict:
    out = {}
    for std in (True, False):
        tag = "std" if std else "raw"
        out[f"k3s3 {tag} ridge=1e-8"] = ("ngrc", dict(ridge=1e-8, standardize=std))
        out[f"k3s3 {tag} auto"] = ("ngrc", dict(standardize=std))
        out[f"k2s1 {tag} ridge=2.5e-6"] = ("ngrc", dict(k=2, skip=1, ridge=2.5e-6,
                                                        standardize=std))
        out[f"k2s1 {tag} auto"] = ("ngrc", dict(k=2, skip=1, standardize=std))
        out[f"k2s1 deg3 {tag} auto"] = ("ngrc", dict(k=2, skip=1, degree=3,
                                                     standardize=std))
    out["parrot"] = "parrot"
    out["persistence"] = "persistence"
    return out


def main():
    warnings.simplefilter("ignore")
    for dt in (0.025, 0.037):
        r = cl.forecast_divergence("Lorenz", settings(), dt=dt, n_starts=5, statistics=False)
        print(r.table())
        for k, v in r.results.items():
            if k.startswith("k"):
                print(f"  {k:24s} VPT per start {np.round(v.vpt, 2)}  "
                      f"ridge_ {v.learner.ridge_:.3g}")


if __name__ == "__main__":
    main()
