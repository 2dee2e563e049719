"""Generated calls of chaoslab's public API, valid and hostile mixed.

Every call must end in a valid result or a chaoslab error naming the argument (see
``harness``): no crash, no hang, no IndexError/OverflowError/numba error, no NaN without a
warning. The examples per test are a share of ``CHAOSLAB_FUZZ_EXAMPLES`` (default 3,000).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chaoslab as cl

from .harness import call, fuzz_settings, junk, kwargs_of, maybe, small_array

pytestmark = pytest.mark.timeout(600, method="thread")

FLOWS = ["Lorenz", "Rossler", "DoubleGyre"]
MAPS = ["Henon", "Logistic"]
SYSTEMS = FLOWS + MAPS


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """Compile (or load from the kernel cache) what the generated calls use, so the time
    limit per call measures the call, not numba's first compile."""
    for name in SYSTEMS:
        s = cl.systems.get(name)
        cl.simulate(s, 3)
        cl.lyapunov_spectrum(s, T=20 if s.is_map else 0.5, transient=0)
        if not s.is_map:
            cl.simulate(s, 3, method="dopri5")
            cl.simulate(s, 3, method="euler")
    cl.simulate("MackeyGlass", 3)


def systems_():
    named = st.sampled_from(SYSTEMS + ["MackeyGlass"])
    objects = st.sampled_from(SYSTEMS).map(cl.systems.get)
    return maybe(st.one_of(named, objects), bad_share=1)


def sizes(lo=1, hi=40):
    return maybe(st.integers(lo, hi))


def spans(lo=0.0, hi=2.0):
    return maybe(st.floats(lo, hi, allow_nan=False))


def x0s():
    return maybe(st.one_of(
        small_array(st.sampled_from([(1,), (2,), (3,), (2, 2), (2, 3), (4, 1)]),
                    st.floats(-2, 2, allow_nan=False, width=64)),
        st.lists(st.floats(-2, 2), min_size=1, max_size=3)))


def params_():
    values = st.one_of(st.floats(-30, 30, allow_nan=False),
                       small_array(st.sampled_from([(2,), (3,)]),
                                   st.floats(0.1, 30, allow_nan=False, width=64)),
                       junk())
    names = st.sampled_from(["sigma", "rho", "beta", "a", "b", "c", "r", "eps", "omega",
                             "alpha", "nope", ""])
    return maybe(st.one_of(st.dictionaries(names, values, max_size=3),
                           small_array(st.sampled_from([(1,), (2,), (3,), (2, 3)]))))


@fuzz_settings(0.16)
@given(s=systems_(), n=sizes(), kw=kwargs_of(
    dt=maybe(st.sampled_from([None, 0.01, 0.05, 1.0])), x0=x0s(), transient=spans(),
    backend=maybe(st.just("numba"), 1), method=maybe(st.sampled_from(["rk4", "euler",
                                                                      "dopri5"])),
    params=params_(), t0=maybe(st.floats(-5, 5)), substeps=sizes(1, 4),
    rtol=maybe(st.sampled_from([1e-6, 1e-9])), atol=maybe(st.sampled_from([1e-8, 1e-12])),
    max_steps=maybe(st.integers(1, 1000)), bound=maybe(st.sampled_from([1e8, 10.0])),
    on_diverge=maybe(st.sampled_from(["warn", "ignore"]), 1),
    full_output=st.booleans()))
def test_simulate(s, n, kw):
    # on_diverge="ignore" asks for diverged rows as NaN without a warning
    call("simulate", cl.simulate, s, n, names=("system", "n_steps", "x0", "params"),
         nan_documented=kw.get("on_diverge") == "ignore", **kw)


@fuzz_settings(0.12)
@given(s=systems_(), kw=kwargs_of(
    n_exponents=maybe(st.integers(1, 3)), T=spans(0.05, 2.0), dt=maybe(st.just(0.01)),
    transient=spans(0, 0.5), x0=x0s(), params=params_(), t0=maybe(st.floats(-5, 5)),
    renorm=sizes(1, 20), return_history=st.booleans(), n_history=sizes(1, 50),
    bound=maybe(st.sampled_from([1e8, 10.0])), seed=maybe(st.integers(0, 3))))
def test_lyapunov_spectrum(s, kw):
    if "T" not in kw:  # the default run is long: keep calls short
        kw["T"] = 1.0
    call("lyapunov_spectrum", cl.lyapunov_spectrum, s, names=("system", "x0", "params"),
         **kw)


def grids():
    return maybe(st.one_of(
        small_array(st.sampled_from([(1,), (3,), (5,)]),
                    st.floats(-2, 2, allow_nan=False, width=64)),
        st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=4)))


@fuzz_settings(0.10)
@given(s=systems_(), x=grids(), y=grids(), T=maybe(st.floats(-1.0, 1.0)), kw=kwargs_of(
    t0=maybe(st.floats(-2, 2)),
    plane=maybe(st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["x", "y", "z", "w"]), st.one_of(st.floats(-30, 30), junk()),
        max_size=2))),
    axes=maybe(st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", "z", "q"]),
                                             max_size=3).map(tuple))),
    dt=maybe(st.just(0.05)), params=params_(), bound=maybe(st.just(1e8))))
def test_ftle_field(s, x, y, T, kw):
    call("ftle_field", cl.ftle_field, s, x, y, T, names=("system", "plane", "params"), **kw)


@fuzz_settings(0.08)
@given(s=systems_(),
       parameter=maybe(st.sampled_from(["r", "a", "rho", "b", "nope"])),
       values=maybe(small_array(st.sampled_from([(1,), (3,)]),
                                st.floats(0.5, 3.9, allow_nan=False, width=64))),
       kw=kwargs_of(transient=spans(0, 20), T=spans(0.5, 20), variable=maybe(
           st.one_of(st.integers(-1, 3), st.sampled_from(["x", "y", "q"]))),
           continuation=st.booleans(), x0=x0s(), dt=maybe(st.just(0.05)),
           params=params_()))
def test_orbit_diagram(s, parameter, values, kw):
    kw.setdefault("T", 5.0)
    kw.setdefault("transient", 5.0)
    # rows are NaN-padded to the longest row of maxima (documented)
    call("orbit_diagram", cl.orbit_diagram, s, parameter, values,
         names=("system", "params", "x0"), nan_documented=True, **kw)


@fuzz_settings(0.08)
@given(s=systems_(), variable=maybe(st.one_of(st.integers(-1, 3),
                                              st.sampled_from(["x", "y", "z", "q"]))),
       value=maybe(st.floats(-20, 20)),
       kw=kwargs_of(direction=maybe(st.sampled_from([1, -1, 0])), n_steps=sizes(2, 400),
                    dt=maybe(st.just(0.02)), transient=spans(0, 2), x0=x0s(),
                    params=params_()))
def test_poincare_section(s, variable, value, kw):
    kw.setdefault("n_steps", 300)
    call("poincare_section", cl.poincare_section, s, variable, value,
         names=("system", "params", "x0"), **kw)


def point_clouds():
    finite = st.floats(-5, 5, allow_nan=False, width=64)
    return maybe(st.one_of(
        small_array(st.sampled_from([(30, 2), (50, 3), (5, 2), (40,), (0, 2), (20, 1)]),
                    finite),
        small_array(st.sampled_from([(30, 2)]),
                    st.one_of(finite, st.just(np.nan), st.just(np.inf)))))


@fuzz_settings(0.08)
@given(points=point_clouds(), kw=kwargs_of(
    radii=maybe(st.one_of(st.none(), small_array(st.sampled_from([(5,), (1,)]),
                                                 st.floats(-1, 3, width=64)))),
    fit=maybe(st.tuples(st.floats(-1, 1), st.floats(-1, 2))),
    max_points=sizes(2, 200), seed=maybe(st.integers(0, 3)),
    return_curve=st.booleans()))
def test_correlation_dimension(points, kw):
    call("correlation_dimension", cl.correlation_dimension, points, names=("points",),
         **kw)


@fuzz_settings(0.08)
@given(x=maybe(st.one_of(
    small_array(st.sampled_from([(64,), (16, 2), (3,), (0,), (20, 2, 2)]),
                st.floats(-5, 5, width=64)),
    st.lists(st.floats(-3, 3), max_size=20))),
    kw=kwargs_of(dt=maybe(st.floats(0.001, 2)), nperseg=sizes(1, 80)))
def test_power_spectrum(x, kw):
    call("power_spectrum", cl.power_spectrum, x, names=("x",), **kw)


@fuzz_settings(0.05)
@given(name=maybe(st.sampled_from(SYSTEMS + ["lorenz", "Lorenz96", "Nope"])),
       params=st.dictionaries(st.sampled_from(["rho", "sigma", "N", "a", "r", "zz"]),
                              st.one_of(st.floats(-1e3, 1e3), st.integers(-3, 70), junk()),
                              max_size=2),
       text=maybe(st.text(max_size=12)),
       override=st.dictionaries(st.sampled_from(["rho", "a", "r", "q"]),
                                st.one_of(st.floats(), junk()), max_size=2))
def test_systems(name, params, text, override):
    call("systems.search", cl.systems.search, text, names=("text",))
    # an unknown name is an UnknownSystemError: "unknown system 'Nope'" names the system
    s, _ = call("systems.get", cl.systems.get, name, names=("name", "system") + tuple(params),
                **params)
    if s is not None:
        call("System.with_params", s.with_params, names=tuple(override), **override)


@fuzz_settings(0.05)
@given(name=maybe(st.text(alphabet="abcxyzXY_1 ", min_size=0, max_size=8)),
       variables=maybe(st.lists(st.sampled_from(["x", "y", "t", "x", "1a", "sin", ""]),
                                max_size=3)),
       equations=maybe(st.lists(st.sampled_from(["-x", "y", "a*x", "x*y - 1", "q", "x**",
                                                 "exp(x)", ""]), max_size=3)),
       params=maybe(st.one_of(st.none(), st.dictionaries(
           st.sampled_from(["a", "x", "p q"]), st.one_of(st.floats(-5, 5), junk()),
           max_size=2))),
       x0=maybe(st.one_of(st.none(), st.lists(st.floats(-1, 1), max_size=3))),
       dt=maybe(st.one_of(st.none(), st.floats(0.001, 0.1))),
       kind=maybe(st.sampled_from(["flow", "map"]), 1))
def test_systems_define(name, variables, equations, params, x0, dt, kind):
    s, _ = call("systems.define", cl.systems.define, name, variables, equations, params,
                x0, dt, kind=kind, names=("name", "variables", "equations", "params", "x0",
                                          "dt", "kind", "equation", "variable"))
    if s is not None:
        call("simulate(defined)", cl.simulate, s, 5, names=("system", "x0"))


# ---------------------------------------------------------------------- metrics
def series():
    finite = st.floats(-5, 5, allow_nan=False, width=64)
    shapes = st.sampled_from([(20, 2), (20, 1), (20,), (5, 2), (1, 2), (0, 2), (20, 3)])
    return maybe(st.one_of(small_array(shapes, finite),
                           small_array(shapes, st.one_of(finite, st.just(np.nan),
                                                         st.just(np.inf)))))


M = cl.metrics
METRICS = {  # name -> (function, positional arguments, keywords) from (a, b, kw)
    "smape": lambda a, b, kw: (M.smape, (a, b), {}),
    "smape_curve": lambda a, b, kw: (M.smape_curve, (a, b), kw.get("cum", {})),
    "nrmse": lambda a, b, kw: (M.nrmse, (a, b), kw.get("tv", {})),
    "error_curve": lambda a, b, kw: (M.error_curve, (a, b), kw.get("scale", {})),
    "failed_steps": lambda a, b, kw: (M.failed_steps, (b,), {}),
    "valid_prediction_time": lambda a, b, kw: (
        M.valid_prediction_time, (a, b, kw.get("dt", 0.01), kw.get("lam", 0.9)),
        kw.get("thr", {})),
    "valid_prediction_steps": lambda a, b, kw: (M.valid_prediction_steps, (a, b),
                                                kw.get("thr", {})),
    "smape_at": lambda a, b, kw: (M.smape_at, (a, b, kw.get("dt", 0.01), kw.get("lam", 0.9)),
                                  {}),
    "state_space_divergence": lambda a, b, kw: (M.state_space_divergence, (a, b),
                                                kw.get("bins", {})),
    "bin_edges": lambda a, b, kw: (M.bin_edges, (a,), kw.get("bins", {})),
    "power_spectrum_distance": lambda a, b, kw: (M.power_spectrum_distance, (a, b),
                                                 kw.get("smoothing", {})),
    "normalized_power_spectrum": lambda a, b, kw: (M.normalized_power_spectrum, (a,),
                                                   kw.get("smoothing", {})),
}
METRIC_ARGS = {
    "smape": ("y_true", "y_pred"), "smape_curve": ("y_true", "y_pred", "cumulative"),
    "nrmse": ("y_true", "y_pred", "total_variance"),
    "error_curve": ("y_true", "y_pred", "scale"), "failed_steps": ("y_pred",),
    "valid_prediction_time": ("y_true", "y_pred", "dt", "lyapunov_exponent", "threshold",
                              "scale"),
    "valid_prediction_steps": ("y_true", "y_pred", "threshold", "method", "scale"),
    "smape_at": ("y_true", "y_pred", "dt", "lyapunov_exponent", "horizons"),
    "state_space_divergence": ("x_true", "x_gen", "bins"), "bin_edges": ("x_true", "bins"),
    "power_spectrum_distance": ("x_true", "x_gen", "smoothing"),
    "normalized_power_spectrum": ("x", "smoothing"),
}


@fuzz_settings(0.14)
@given(metric=st.sampled_from(sorted(METRICS)), a=series(), b=series(), kw=kwargs_of(
    cum=st.fixed_dictionaries({"cumulative": maybe(st.booleans())}),
    tv=st.fixed_dictionaries({"total_variance": maybe(st.floats(0.1, 10))}),
    scale=st.fixed_dictionaries({"scale": maybe(st.floats(0.1, 10))}),
    dt=maybe(st.floats(0.001, 1)), lam=maybe(st.floats(0.01, 2)),
    thr=st.fixed_dictionaries({"threshold": maybe(st.floats(0.01, 2))}),
    bins=st.fixed_dictionaries({"bins": maybe(st.integers(1, 40))}),
    smoothing=st.fixed_dictionaries({"smoothing": maybe(st.floats(0.1, 50))})))
def test_metrics(metric, a, b, kw):
    fn, args, kwargs = METRICS[metric](a, b, kw)
    # a constant column (standard deviation below 1e-10 of its magnitude) has no
    # spectrum: NaN (documented)
    flat = metric == "normalized_power_spectrum" and isinstance(a, np.ndarray) \
        and a.ndim >= 1 and len(a) > 1 and bool(np.any(
            ~(a.std(axis=0) > 1e-10 * np.max(np.abs(a), axis=0))))
    # D_stsp is inf when no generated sample falls in the truth's box (documented)
    call(f"metrics.{metric}", fn, *args, names=METRIC_ARGS[metric], inputs=args,
         nan_documented=flat or metric == "state_space_divergence", **kwargs)


# ---------------------------------------------------------------------- learners
FAST_LEARNERS = ["persistence", "linear_ar", "parrot", "esn", "ngrc", "sindy", "edmd"]
HYPER = {
    "linear_ar": {"order": st.one_of(st.just("auto"), st.integers(1, 5)),
                  "alpha": st.floats(1e-8, 1)},
    "parrot": {"motif_length": st.one_of(st.just("auto"), st.integers(2, 10)),
               "skip": st.integers(1, 3), "search": st.sampled_from(["both", "forward"])},
    "esn": {"size": st.integers(5, 30), "spectral_radius": st.floats(0.1, 1.2),
            "degree": st.integers(1, 4), "leak": st.floats(0.1, 1), "ridge": st.floats(1e-8, 1),
            "washout": st.one_of(st.just("auto"), st.integers(0, 20)), "seed": st.integers(0, 3)},
    "ngrc": {"k": st.integers(1, 4), "skip": st.one_of(st.just("auto"), st.integers(1, 3)),
             "degree": st.integers(1, 3), "ridge": st.one_of(st.just("auto"),
                                                             st.floats(1e-8, 1))},
    "sindy": {"degree": st.integers(1, 3), "threshold": st.floats(0, 1),
              "alpha": st.floats(0, 1), "derivative_order": st.sampled_from([2, 4, 6]),
              "substeps": st.integers(1, 4)},
    "edmd": {"dictionary": st.sampled_from(["poly", "rbf"]), "degree": st.integers(1, 3),
             "n_centers": st.integers(2, 20), "width": st.floats(0.1, 3),
             "ridge": st.floats(1e-8, 1)},
    "persistence": {},
}
TRAIN = cl.simulate("Lorenz", 400, transient=5.0)


@st.composite
def learner_calls(draw):
    name = draw(st.sampled_from(FAST_LEARNERS))
    hyper = draw(kwargs_of(**{k: maybe(v) for k, v in HYPER[name].items()}))
    X = draw(maybe(st.one_of(
        st.just(TRAIN), st.just(TRAIN[:, :2]), st.just(TRAIN[:30]),
        st.just(TRAIN[:, 0]), st.just(np.where(np.arange(400)[:, None] == 5, np.nan, TRAIN)),
        small_array(st.sampled_from([(3, 3), (0, 3), (200, 3)])),
        st.just(TRAIN.tolist())), bad_share=2))
    dt = draw(maybe(st.just(0.01), 2))
    context = draw(maybe(st.one_of(st.just(TRAIN[-100:]), st.just(TRAIN[-2:]),
                                   st.just(TRAIN[-100:, :2]), st.just(TRAIN[-50:] * np.nan)),
                         2))
    n_steps = draw(sizes(1, 50))
    return name, hyper, X, dt, context, n_steps


@fuzz_settings(0.10, deadline_s=20.0)
@given(args=learner_calls())
def test_learners(args):
    name, hyper, X, dt, context, n_steps = args
    learner, _ = call("learners.make", cl.learners.make, name,
                      names=("name", "learner") + tuple(hyper),
                      **hyper)
    if learner is None:
        return
    fitted, _ = call("learner.fit", learner.fit, X, dt, names=("X", "dt") + tuple(hyper),
                     label=f"{name}{hyper!r:.200} ")
    if fitted is None:
        return
    call("learner.forecast", learner.forecast, context, n_steps,
         names=("context", "n_steps"), label=f"{name}{hyper!r:.200} ")


TORCH_LEARNERS = ["plrnn", "alrnn", "lstm", "transformer", "mamba", "neural_ode"]


@fuzz_settings(0.02)
@given(name=st.sampled_from(TORCH_LEARNERS),
       hyper=st.dictionaries(st.sampled_from(["hidden", "latent_dim", "layers", "epochs",
                                              "lr", "batch_size", "seed", "device",
                                              "d_model", "heads", "window", "n_relu",
                                              "alpha", "substeps", "activation"]),
                             junk(), min_size=1, max_size=2))
def test_neural_learner_constructors(name, hyper):
    learner, _ = call("learners.make(neural)", cl.learners.make, name,
                      names=("name", "learner") + tuple(hyper), **hyper)
    if learner is not None:  # a value only fit can judge: fit must refuse it
        call("learner.fit(neural)", learner.fit, TRAIN[:, :1] * np.nan, 0.01,
             names=("X", "dt") + tuple(hyper))


# ---------------------------------------------------------------------- experiments
@fuzz_settings(0.02, deadline_s=30.0)
@given(s=maybe(st.sampled_from(["Lorenz", "Henon"]), 1),
       learners=maybe(st.sampled_from([["persistence"], ["persistence", "linear_ar"]]), 2),
       kw=kwargs_of(n_train=sizes(50, 300), dt=maybe(st.just(0.02)), n_starts=sizes(1, 3),
                    horizon=maybe(st.floats(0.1, 1.0)), context=sizes(5, 50),
                    transient=spans(0, 5), threshold=maybe(st.floats(0.1, 1)),
                    seed=maybe(st.integers(0, 3)), n_free=sizes(10, 200),
                    statistics=st.booleans()))
def test_forecast_divergence(s, learners, kw):
    kw.setdefault("n_train", 200)
    kw.setdefault("n_starts", 2)
    kw.setdefault("horizon", 0.5)
    kw.setdefault("n_free", 100)
    call("forecast_divergence", cl.experiments.forecast_divergence, s, learners,
         names=("system", "learners", "learner"), **kw)
