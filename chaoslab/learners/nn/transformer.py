"""A small causal Transformer with a linear increment head (the ``transformer`` learner's
network)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CausalBlock", "TransformerNet", "shift_window"]


class CausalBlock(nn.Module):
    """Pre-norm causal self-attention block (Vaswani et al. 2017; Xiong et al. 2020).

    Parameters
    ----------
    d_model : int
        Width of the residual stream.
    heads : int
        Attention heads (must divide ``d_model``).
    ff : int
        Hidden width of the feed-forward sublayer.
    """

    def __init__(self, d_model, heads, ff):
        super().__init__()
        self.d_model, self.heads = d_model, heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Linear(ff, d_model))

    def forward(self, h):
        B, T, _ = h.shape
        q, k, v = self.qkv(self.norm1(h)).chunk(3, dim=-1)
        shape = (B, T, self.heads, self.d_model // self.heads)
        q, k, v = (a.reshape(shape).transpose(1, 2) for a in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.proj(a.transpose(1, 2).reshape(B, T, self.d_model))
        return h + self.ff(self.norm2(h))


class TransformerNet(nn.Module):
    """Embedding + learned positions, causal blocks, linear increment head.

    ``forward(x)`` maps a window ``(B, T, dim)`` (``T <= window``) of standardised states
    to the next-state predictions ``x + scale * head(...)`` at every position.

    Parameters
    ----------
    dim : int
        Observed variables.
    window : int
        Longest window (the number of learned positions).
    d_model, heads, layers, ff : int
        Width, attention heads, blocks and feed-forward width.
    """

    def __init__(self, dim, window, d_model, heads, layers, ff):
        super().__init__()
        self.window = window
        self.embed = nn.Linear(dim, d_model)
        self.pos = nn.Parameter(0.02 * torch.randn(window, d_model))
        self.blocks = nn.ModuleList([CausalBlock(d_model, heads, ff) for _ in range(layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, dim)
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
        self.register_buffer("scale", torch.ones(dim))

    def forward(self, x):
        """Next-state predictions ``(B, T, dim)`` for every position of ``x``."""
        T = x.shape[1]
        h = self.embed(x) + self.pos[self.window - T:]
        for block in self.blocks:
            h = block(h)
        return x + self.scale * self.head(self.norm(h))


def shift_window(win, y):
    """Drop the oldest row of ``win`` ``(B, T, d)`` and append ``y`` ``(B, d)``."""
    return torch.cat([win[:, 1:], y[:, None]], dim=1)
