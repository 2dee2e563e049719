"""Names of chaoslab's learners and the classes behind them (imported on first use)."""
import warnings
from importlib import import_module

__all__ = ["LEARNERS", "names", "learner_class", "make", "describe"]

#: name -> (module, class, one-line description)
LEARNERS = {
    "persistence": ("baselines", "Persistence", "baseline: repeats the last observed state"),
    "linear_ar": ("baselines", "LinearAR", "baseline: linear autoregression on lagged states"),
    "parrot": ("parrot", "Parrot", "baseline: context parroting, copies what followed the "
               "nearest past motif (Zhang & Gilpin 2025)"),
    "esn": ("reservoir", "ESN", "echo state network (reservoir computer)"),
    "ngrc": ("ngrc", "NGRC", "next-generation reservoir computer (nonlinear vector autoregression)"),
    "sindy": ("sindy", "SINDy", "sparse identification of the vector field (pysindy), "
              "rolled out by chaoslab's integrator"),
    "edmd": ("koopman", "EDMD", "Koopman operator by extended dynamic mode decomposition"),
    "plrnn": ("plrnn", "PLRNN", "shallow PLRNN trained with generalized teacher forcing (adaptive alpha)"),
    "alrnn": ("plrnn", "ALRNN", "almost-linear RNN trained with sparse teacher forcing"),
    "lstm": ("sequence", "LSTM", "LSTM one-step forecaster"),
    "transformer": ("sequence", "Transformer", "small causal Transformer on a sliding window"),
    "mamba": ("ssm", "Mamba", "Mamba-style selective state-space model (pure torch)"),
    "neural_ode": ("neural_ode", "NeuralODE", "neural ODE: an MLP vector field integrated by RK4"),
    "family": ("family", "FamilyMixture", "one model for a family of systems: AL-RNN experts "
               "gated by a context window, zero-shot forecasts (DynaMix-style)"),
}


def names(torch=None):
    """Registered learner names; ``torch=False`` keeps only those that need no torch."""
    out = list(LEARNERS)
    if torch is None:
        return out
    return [n for n in out if learner_class(n).uses_torch == torch]


def learner_class(name):
    key = str(name).lower().replace("-", "_")
    if key not in LEARNERS:
        import difflib
        hint = difflib.get_close_matches(key, LEARNERS, n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown learner {name!r}{extra} Known: {', '.join(LEARNERS)}")
    module, cls, _ = LEARNERS[key]
    return getattr(import_module(f"chaoslab.learners.{module}"), cls)


def make(name, **hyper):
    """A new, unfitted learner ``name`` with hyperparameters ``hyper``.

    A deprecated hyperparameter name is accepted for one release; its
    ``DeprecationWarning`` points at the caller of ``make``.
    """
    cls = learner_class(name)
    caught = []
    try:
        if any(old in hyper for old in cls._renamed_params):
            # catch_warnings touches process-wide state: only for deprecated calls
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DeprecationWarning)
                obj = cls(**hyper)
        else:
            obj = cls(**hyper)
    except TypeError as exc:
        raise ValueError(f"bad hyperparameters for {name!r}: {exc}. "
                         f"Accepted: {cls._param_names()}") from None
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return obj


def _key(name):
    key = str(name).lower().replace("-", "_")
    if key not in LEARNERS:
        learner_class(name)          # raises the error with a suggestion
    return key


def describe(name):
    """One line on what learner ``name`` is (imports nothing)."""
    return LEARNERS[_key(name)][2]
