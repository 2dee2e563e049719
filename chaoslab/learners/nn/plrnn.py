"""The latent maps of the PLRNN and AL-RNN learners and of their piecewise-linear
initialisation."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["PLRNNCell", "PiecewiseLinearIncrements", "StructuredPLRNN", "ComposedMap",
           "compose", "write_parameters"]


class PLRNNCell(nn.Module):
    """``z -> A z + W phi(z) + h`` with ``A`` diagonal.

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
        Rectified units (``P = M``: the PLRNN; ``P < M``: the AL-RNN).
    """

    def __init__(self, dim, M, P):
        super().__init__()
        self.dim, self.M, self.P = dim, M, P
        self.A = nn.Parameter(torch.empty(M).uniform_(0.9, 1.0))
        self.W = nn.Parameter(torch.randn(M, M) * (0.1 / M ** 0.5))
        self.h = nn.Parameter(torch.zeros(M))
        self.init = nn.Linear(dim, M - dim) if M > dim else None
        if self.init is not None:
            nn.init.normal_(self.init.weight, std=0.1)
            nn.init.zeros_(self.init.bias)

    def phi(self, z):
        k = self.M - self.P
        if k == 0:
            return torch.relu(z)
        return torch.cat([z[:, :k], torch.relu(z[:, k:])], dim=1)

    def forward(self, z):
        return self.A * z + self.phi(z) @ self.W.T + self.h

    def start(self, x0):
        if self.init is None:
            return x0
        return torch.cat([x0, self.init(x0)], dim=1)


class PiecewiseLinearIncrements(nn.Module):
    """One-hidden-layer piecewise-linear map ``x -> L x + V relu(U x + c) + e``.

    The ``K`` ReLU hyperplanes start through random points of ``x0`` with random unit
    normals ``U``; ``V`` is random, ``L`` and ``e`` zero. All random draws use
    ``generator`` (on the CPU), in this order: ``U``, the anchor points, ``V``.

    Parameters
    ----------
    x0 : tensor (n, dim)
        Data points (standardised); the parameters are created on its device.
    K : int
        Number of ReLU features.
    generator : torch.Generator
    """

    def __init__(self, x0, K, generator):
        super().__init__()
        dev = x0.device
        d = x0.shape[1]
        u = torch.randn(K, d, generator=generator)
        u = u / u.norm(dim=1, keepdim=True)
        anchor = x0[torch.randint(len(x0), (K,), generator=generator).to(dev)].cpu()
        self.U = nn.Parameter(u.to(dev))
        self.c = nn.Parameter(-(u * anchor).sum(dim=1).to(dev))
        self.V = nn.Parameter((torch.randn(d, K, generator=generator) / K ** 0.5).to(dev))
        self.L = nn.Parameter(torch.zeros(d, d, device=dev))
        self.e = nn.Parameter(torch.zeros(d, device=dev))

    def forward(self, x):
        return x @ self.L.T + torch.relu(x @ self.U.T + self.c) @ self.V.T + self.e


def compose(L, V, U, c, e, dim, M, P, free_W):
    """Latent-model parameters ``(A, W, h, init_w, init_b)`` that reproduce a fitted
    piecewise-linear map exactly (differentiable in ``L, V, U, c, e``).

    The ReLU units' pre-activations track ``U x + c``: their increments are ``U`` times
    the observed increments. In the PLRNN, whose observed units are rectified too, ``dim``
    more units track ``-x``, so that ``x = relu(x) - relu(-x)`` is available linearly.
    Units left over get the small fixed couplings ``free_W`` and ``A = 0.5``.
    """
    d = dim
    K = U.shape[0]
    dev, dt = L.device, L.dtype
    A = torch.ones(M, device=dev, dtype=dt)
    W = torch.zeros(M, M, device=dev, dtype=dt)
    h = torch.zeros(M, device=dev, dtype=dt)
    init_w = torch.zeros(M - d, d, device=dev, dtype=dt)
    init_b = torch.zeros(M - d, device=dev, dtype=dt)
    r = slice(M - K, M)
    Ld = torch.diagonal(L)
    Loff = L - torch.diag(Ld)
    UL = U @ L
    A[:d] = 1.0 + Ld
    W[:d, :d] = Loff
    W[:d, r] = V
    h[:d] = e
    W[r, r] = U @ V
    W[r, :d] = UL
    h[r] = U @ e
    init_w[M - K - d:] = U
    init_b[M - K - d:] = c
    if P == M:  # PLRNN: units d..2d track -x
        n = slice(d, 2 * d)
        W[:d, n] = -Loff
        W[n, :d] = -L
        W[n, n] = L
        W[n, r] = -V
        h[n] = -e
        W[r, n] = -UL
        init_w[:d] = -torch.eye(d, device=dev, dtype=dt)
        free = slice(2 * d, M - K)
    else:  # ALRNN: observed units are linear
        free = slice(d, M - K)
    if free.stop > free.start:
        A[free] = 0.5
        W[free] = free_W
    return A, W, h, init_w, init_b


class ComposedMap:
    """The latent map ``z -> A z + W phi(z) + h`` for given parameter tensors (the
    interface of :class:`PLRNNCell`: call, ``start``)."""

    def __init__(self, A, W, h, init_w, init_b, dim, M, P):
        self.A, self.W, self.h, self.init_w, self.init_b = A, W, h, init_w, init_b
        self.dim, self.M, self.P = dim, M, P

    def __call__(self, z):
        k = self.M - self.P
        phi = torch.relu(z) if k == 0 else torch.cat([z[:, :k], torch.relu(z[:, k:])], 1)
        return self.A * z + phi @ self.W.T + self.h

    def start(self, x0):
        return torch.cat([x0, x0 @ self.init_w.T + self.init_b], dim=1)


class StructuredPLRNN(nn.Module):
    """Holds ``L, V, U, c, e`` as parameters; ``composed()`` is the latent map they define
    (:func:`compose`), so training them keeps the hidden units consistent."""

    def __init__(self, L, V, U, c, e, dim, M, P, free_W):
        super().__init__()
        self.dim, self.M, self.P = dim, M, P
        self.L, self.V, self.U = nn.Parameter(L), nn.Parameter(V), nn.Parameter(U)
        self.c, self.e = nn.Parameter(c), nn.Parameter(e)
        self.register_buffer("free_W", free_W)

    def parts(self):
        return compose(self.L, self.V, self.U, self.c, self.e, self.dim, self.M, self.P,
                       self.free_W)

    def composed(self):
        return ComposedMap(*self.parts(), self.dim, self.M, self.P)


def write_parameters(cell, parts):
    """Copy ``(A, W, h, init_w, init_b)`` into a :class:`PLRNNCell`."""
    A, W, h, init_w, init_b = parts
    with torch.no_grad():
        cell.A.copy_(A)
        cell.W.copy_(W)
        cell.h.copy_(h)
        if cell.init is not None:
            cell.init.weight.copy_(init_w)
            cell.init.bias.copy_(init_b)
