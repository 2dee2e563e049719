"""Domain state of the app: which system, which parameters. Knows nothing of widgets."""
from __future__ import annotations

import param

from .. import systems
from ..integrate import simulate


class LabState(param.Parameterized):
    """The sidebar's state; every view reads it."""

    system_name = param.Selector(default="Lorenz", objects=systems.names(), label="System")
    values = param.Dict(default={}, doc="current parameter values of the system")
    n_steps = param.Integer(default=20_000, bounds=(100, 500_000))
    error = param.String(default="", doc="the last problem to show the user")

    def __init__(self, **kw):
        super().__init__(**kw)
        if not self.values:
            self.values = dict(self.system.values)

    @param.depends("system_name", watch=True)
    def _reset_values(self):
        self.values = dict(systems.get(self.system_name).values)

    @property
    def system(self):
        return systems.get(self.system_name)

    def current(self):
        """The system with the current parameter values."""
        return self.system.with_params(**self.values)

    def trajectory(self):
        """(t, x) of the current system; a diverged run sets ``error`` (its tail is NaN)."""
        s = self.current()
        r = simulate(s, self.n_steps, full_output=True, on_diverge="ignore")
        self.error = (f"The trajectory diverged at step {r.diverged[0]}; try other "
                      "parameters." if r.diverged else "")
        return r.t, r.x
