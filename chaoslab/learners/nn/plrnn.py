"""The latent maps of the PLRNN and AL-RNN learners."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["PLRNNCell", "ShallowPLRNNCell"]


class _Start(nn.Module):
    """Shared ``start``: the observed units are the first observation, the others a
    learned linear map of it."""

    def _init_start(self, dim, M):
        self.init = nn.Linear(dim, M - dim) if M > dim else None
        if self.init is not None:
            nn.init.normal_(self.init.weight, std=0.1)
            nn.init.zeros_(self.init.bias)

    def start(self, x0):
        if self.init is None:
            return x0
        return torch.cat([x0, self.init(x0)], dim=1)


class PLRNNCell(_Start):
    """``z -> A z + W phi(z) + h`` with ``A`` diagonal (the AL-RNN's latent map).

    ``phi`` is the identity on the first ``M - P`` units and the ReLU on the last
    ``P``. The first ``dim`` units are the observed variables (standardised).
    ``init`` maps the first observation to the unobserved units' starting values.

    Parameters
    ----------
    dim : int
        Observed variables.
    M : int
        Latent units.
    P : int
        Rectified units (``P < M``: the AL-RNN; ``P = M``: the PLRNN of Durstewitz 2017).
    """

    def __init__(self, dim, M, P):
        super().__init__()
        self.dim, self.M, self.P = dim, M, P
        self.A = nn.Parameter(torch.empty(M).uniform_(0.9, 1.0))
        self.W = nn.Parameter(torch.randn(M, M) * (0.1 / M ** 0.5))
        self.h = nn.Parameter(torch.zeros(M))
        self._init_start(dim, M)

    def phi(self, z):
        k = self.M - self.P
        if k == 0:
            return torch.relu(z)
        return torch.cat([z[:, :k], torch.relu(z[:, k:])], dim=1)

    def forward(self, z):
        return self.A * z + self.phi(z) @ self.W.T + self.h

    def jacobian(self, z):
        """``A + W diag(phi'(z))`` at states ``z`` ``(..., M)`` -> ``(..., M, M)``."""
        slope = torch.ones_like(z)
        slope[..., self.M - self.P:] = (z[..., self.M - self.P:] > 0).to(z.dtype)
        J = self.W * slope[..., None, :]
        return J + torch.diag_embed(self.A.expand_as(z))


class ShallowPLRNNCell(_Start):
    """The shallow PLRNN ``z -> A z + W1 relu(W2 z + h2) + h1`` with ``A`` diagonal.

    ``M`` latent units, ``L`` hidden ReLU units (Hess, Monfared, Brenner and Durstewitz
    2023). The first ``dim`` units are the observed variables (standardised); ``init``
    maps the first observation to the other units' starting values.
    """

    def __init__(self, dim, M, L):
        super().__init__()
        self.dim, self.M, self.L = dim, M, L
        self.A = nn.Parameter(torch.empty(M).uniform_(0.9, 1.0))
        self.W1 = nn.Parameter(torch.randn(M, L) * (0.1 / L ** 0.5))
        self.W2 = nn.Parameter(torch.randn(L, M) / M ** 0.5)
        self.h1 = nn.Parameter(torch.zeros(M))
        self.h2 = nn.Parameter(torch.empty(L).uniform_(-1.0, 1.0))
        self._init_start(dim, M)

    def forward(self, z):
        return self.A * z + torch.relu(z @ self.W2.T + self.h2) @ self.W1.T + self.h1

    def jacobian(self, z):
        """``diag(A) + W1 diag(relu'(W2 z + h2)) W2`` at ``z`` ``(..., M)``."""
        on = ((z @ self.W2.T + self.h2) > 0).to(z.dtype)
        J = (self.W1 * on[..., None, :]) @ self.W2
        return J + torch.diag_embed(self.A.expand_as(z))
