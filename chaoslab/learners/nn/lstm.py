"""Stacked LSTM cells with a linear increment head (the ``lstm`` learner's network)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["LSTMNet"]


class LSTMNet(nn.Module):
    """Stacked LSTM cells (Hochreiter and Schmidhuber 1997) and a linear increment head.

    ``step(x, states)`` reads the standardised state ``x`` ``(B, dim)`` and returns the
    next state ``x + scale * head(h)`` and the new ``[h_1, c_1, h_2, c_2, ...]``. Written
    with plain linear layers so that it runs in any dtype (bfloat16 included).

    Parameters
    ----------
    dim : int
        Observed variables.
    hidden : int
        Units per layer.
    layers : int
        Stacked cells.
    """

    def __init__(self, dim, hidden, layers):
        super().__init__()
        self.hidden, self.layers = hidden, layers
        self.cells = nn.ModuleList(
            [nn.Linear((dim if i == 0 else hidden) + hidden, 4 * hidden)
             for i in range(layers)])
        for cell in self.cells:  # forget-gate bias 1 (Gers et al. 2000)
            with torch.no_grad():
                cell.bias.zero_()
                cell.bias[hidden:2 * hidden] = 1.0
        self.head = nn.Linear(hidden, dim)
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
        self.register_buffer("scale", torch.ones(dim))
        self.state_shapes = [(hidden,)] * (2 * layers)

    def zero_state(self, B, dtype, device):
        return [torch.zeros(B, self.hidden, dtype=dtype, device=device)
                for _ in range(2 * self.layers)]

    def step(self, x, states):
        new = []
        inp = x
        for i, cell in enumerate(self.cells):
            h, c = states[2 * i], states[2 * i + 1]
            gates = cell(torch.cat([inp, h], dim=1))
            ig, fg, gg, og = gates.chunk(4, dim=1)
            c = torch.sigmoid(fg) * c + torch.sigmoid(ig) * torch.tanh(gg)
            h = torch.sigmoid(og) * torch.tanh(c)
            new += [h, c]
            inp = h
        return x + self.scale * self.head(inp), new
