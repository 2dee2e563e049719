"""The neural ODE's vector field and its RK4 flow map (the ``neural_ode`` learner's
network)."""
from __future__ import annotations

import torch
from torch import nn

from ...integrate.tableaux import RK4, rk_step

__all__ = ["ACTIVATIONS", "VectorField", "rk4_flow"]

#: smooth nonlinearities of the MLP, by name
ACTIVATIONS = {"silu": nn.SiLU, "tanh": nn.Tanh, "gelu": nn.GELU, "softplus": nn.Softplus}


class VectorField(nn.Module):
    """MLP ``f`` on the standardised state, in standardised units per sample.

    ``scale`` (a buffer) is the typical one-sample increment of each variable, so the
    network's outputs are of order one.

    Parameters
    ----------
    dim : int
        Observed variables.
    hidden : int
        Width of the hidden layers.
    depth : int
        Number of hidden layers.
    activation : str
        A key of :data:`ACTIVATIONS`.
    """

    def __init__(self, dim, hidden, depth, activation):
        super().__init__()
        layers = []
        width = dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), ACTIVATIONS[activation]()]
            width = hidden
        last = nn.Linear(width, dim)
        nn.init.zeros_(last.bias)
        with torch.no_grad():
            last.weight.mul_(0.1)
        layers.append(last)
        self.net = nn.Sequential(*layers)
        self.register_buffer("scale", torch.ones(dim))

    def forward(self, x):
        return self.net(x) * self.scale


def rk4_flow(field, x, substeps):
    """The state one sample after ``x``: ``substeps`` classical Runge-Kutta steps of
    ``dx/dt = field(x)`` (time in samples), with the coefficients of
    :data:`chaoslab.integrate.tableaux.RK4`."""
    h = 1.0 / substeps

    def f(t, z):
        return field(z)

    for _ in range(substeps):
        x = rk_step(f, 0.0, x, h, RK4)
    return x
