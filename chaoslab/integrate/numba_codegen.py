"""Printing numba kernels from tapes.

For each system structure chaoslab prints one small Python module: a per-trajectory
right-hand side ``f`` (and Jacobian ``jac``) on scalars, and batch drivers (RK4, Euler,
map iteration, Dormand-Prince 5(4)) whose inner loop runs across trajectories, so that
LLVM vectorises it (one SIMD lane per trajectory). The module is written to chaoslab's
kernel cache keyed by a hash of the tape, and numba caches its machine code beside it,
so a system is compiled once per machine, not once per process.

Only chaoslab writes this source: slots are ``s0, s1, ...``, inputs ``t, x0.., p0..``,
numbers are printed with ``repr(float)``; user text never reaches it.
"""
from __future__ import annotations

from fractions import Fraction as F

__all__ = ["kernel_source", "KERNEL_VERSION"]

#: Bump when the printed drivers change, so cached modules are rebuilt.
KERNEL_VERSION = 7

_UNARY = {
    "neg": "(-{0})", "sqrt": "np.sqrt({0})", "sin": "_vsin({0})", "cos": "_vcos({0})",
    "tan": "np.tan({0})", "asin": "np.arcsin({0})", "acos": "np.arccos({0})",
    "atan": "np.arctan({0})", "sinh": "np.sinh({0})", "cosh": "np.cosh({0})",
    "tanh": "np.tanh({0})", "exp": "np.exp({0})", "log": "np.log({0})", "abs": "abs({0})",
    "sign": "np.sign({0})", "heaviside": "(0.5 + 0.5 * np.sign({0}))", "const": "{0}",
}
_BINARY = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "pow": "({0} ** {1})", "atan2": "np.arctan2({0}, {1})", "mod": "np.mod({0}, {1})",
    "min": "min({0}, {1})", "max": "max({0}, {1})",
}


def _ref(r, names):
    if isinstance(r, float):
        return repr(r)
    return names[r]


def tape_body(tape, in_names, indent="    "):
    """Lines computing every slot of ``tape``; returns (lines, output expressions)."""
    names = list(in_names) + [f"s{i}" for i in range(len(tape.ops))]
    lines = []
    for op, dst, args in tape.ops:
        if op == "powi":
            b = _ref(args[0], names)
            n = args[1]
            rhs = " * ".join([b] * n) if n <= 4 else f"({b} ** {n})"
            rhs = f"({rhs})"
        elif op in _UNARY:
            rhs = _UNARY[op].format(_ref(args[0], names))
        else:
            rhs = _BINARY[op].format(*(_ref(a, names) for a in args))
        lines.append(f"{indent}{names[dst]} = {rhs}")
    outs = [_ref(r, names) for r in tape.outputs]
    return lines, outs


# sin and cos that LLVM can vectorise across trajectories (libm's are scalar calls):
# Cody-Waite reduction by pi/2 in three parts (exact for |x| < 2^29 pi/2, about 8e8) and
# the minimax polynomials of the Cephes library on [-pi/4, pi/4]; within 2 ulp of libm
# there. Branches are selects, so the lane loop stays a SIMD loop.
_SINCOS = """
@njit(inline='always', error_model='numpy')
def _sincos_core(x):
    k = np.floor(x * 0.6366197723675814 + 0.5)
    r = ((x - k * 1.57079625129699707031) - k * 7.54978941586159635336e-08) \\
        - k * 5.39030285815811905290e-15
    z = r * r
    ps = (((((1.58962301576546568060e-10 * z - 2.50507477628578072866e-08) * z
             + 2.75573136213857245213e-06) * z - 1.98412698295895385996e-04) * z
           + 8.33333333332211858878e-03) * z - 1.66666666666666307295e-01)
    s = r + r * z * ps
    pc = (((((-1.13585365213876817300e-11 * z + 2.08757008419747316778e-09) * z
             - 2.75573141792967388112e-07) * z + 2.48015872888517045348e-05) * z
           - 1.38888888888730564116e-03) * z + 4.16666666666665929218e-02)
    c = 1.0 - 0.5 * z + z * z * pc
    q = k - 4.0 * np.floor(k * 0.25)
    return s, c, q


@njit(inline='always', error_model='numpy')
def _vsin(x):
    s, c, q = _sincos_core(x)
    v = c if (q == 1.0 or q == 3.0) else s
    return -v if q >= 2.0 else v


@njit(inline='always', error_model='numpy')
def _vcos(x):
    s, c, q = _sincos_core(x)
    v = s if (q == 1.0 or q == 3.0) else c
    return -v if (q == 1.0 or q == 2.0) else v
"""


def _tuple(items):
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _names(prefix, n):
    return [f"{prefix}{i}" for i in range(n)]


# Dormand-Prince 5(4) tableau (Dormand and Prince 1980), exact fractions.
_DP_C = [F(0), F(1, 5), F(3, 10), F(4, 5), F(8, 9), F(1), F(1)]
_DP_A = [
    [],
    [F(1, 5)],
    [F(3, 40), F(9, 40)],
    [F(44, 45), F(-56, 15), F(32, 9)],
    [F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729)],
    [F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)],
    [F(35, 384), F(0), F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84)],
]
_DP_B = _DP_A[6] + [F(0)]
_DP_BSTAR = [F(5179, 57600), F(0), F(7571, 16695), F(393, 640), F(-92097, 339200),
             F(187, 2100), F(1, 40)]
_DP_E = [b - bs for b, bs in zip(_DP_B, _DP_BSTAR)]


def _f(fr: F) -> str:
    return repr(float(fr))


def kernel_source(rhs_tape, jac_tape, dim: int, n_params: int, kind: str,
                  fj_tape=None) -> str:
    """The source of the kernel module for one system structure.

    ``fj_tape`` computes the right-hand side and the Jacobian together (shared
    subexpressions); it drives the tangent-space kernels of :mod:`chaoslab.analysis`.
    """
    D, M = dim, n_params
    X = _names("x", D)
    P = _names("p", M)
    args = ", ".join(["t"] + X + P)
    L = []
    w = L.append
    w("# Generated by chaoslab from a checked expression tape; do not edit.")
    w("import numpy as np")
    w("from numba import njit")
    w("")
    w("_JIT = dict(cache=True, nogil=True, error_model='numpy', fastmath=False)")
    w("")
    L.extend(_SINCOS.splitlines())
    w("")
    # -------------------------------------------------------- right-hand side
    body, outs = tape_body(rhs_tape, ["t"] + X + P)
    w("@njit(**_JIT)")
    w(f"def f({args}):")
    L.extend(body)
    w(f"    return {_tuple(outs)}")
    w("")
    body, outs = tape_body(jac_tape, ["t"] + X + P)
    w("@njit(**_JIT)")
    w(f"def jac({args}):")
    L.extend(body)
    w(f"    return {_tuple(outs)}")
    w("")

    def load_lane(indent):
        s = " " * indent
        out = [f"{s}{x} = X[{i}, l]" for i, x in enumerate(X)]
        out += [f"{s}{p} = Pm[{j}, l]" for j, p in enumerate(P)]
        return out

    def store_lane(indent):
        s = " " * indent
        return [f"{s}X[{i}, l] = {x}" for i, x in enumerate(X)]

    def call(t, xs):
        return f"f({', '.join([t] + list(xs) + P)})"

    def record(indent):
        """Blow-up check and output of lane l at output index k."""
        s = " " * indent
        cond = " and ".join(f"abs(X[{i}, l]) < bound" for i in range(D))
        out = [f"{s}if not ({cond}):",
               f"{s}    if bad[l] < 0:",
               f"{s}        bad[l] = k"]
        out += [f"{s}    X[{i}, l] = np.nan" for i in range(D)]
        out += [f"{s}out[l, k, {i}] = X[{i}, l]" for i in range(D)]
        return out

    def step_rk4(indent):
        s = " " * indent
        K = [_names(f"k{j}_", D) for j in range(1, 5)]
        out = [f"{s}{_tuple(K[0])} = {call('t', X)}"]
        out.append(f"{s}{_tuple(K[1])} = "
                   + call("t + hh", [f"{x} + hh * {k}" for x, k in zip(X, K[0])]))
        out.append(f"{s}{_tuple(K[2])} = "
                   + call("t + hh", [f"{x} + hh * {k}" for x, k in zip(X, K[1])]))
        out.append(f"{s}{_tuple(K[3])} = "
                   + call("t + h", [f"{x} + h * {k}" for x, k in zip(X, K[2])]))
        for i, x in enumerate(X):
            out.append(f"{s}{x} = {x} + h6 * ({K[0][i]} + 2.0 * {K[1][i]} + "
                       f"2.0 * {K[2][i]} + {K[3][i]})")
        return out

    def step_euler(indent):
        s = " " * indent
        K = _names("k_", D)
        out = [f"{s}{_tuple(K)} = {call('t', X)}"]
        out += [f"{s}{x} = {x} + h * {k}" for x, k in zip(X, K)]
        return out

    def step_map(indent):
        s = " " * indent
        return [f"{s}{_tuple(X)} = {call('t', X)}"]

    def fixed_driver(fname, stepper):
        # One block of trajectories per call (the caller splits the batch): the lane loop
        # then runs from 0 to B, a form LLVM vectorises across trajectories.
        w("@njit(**_JIT)")
        w(f"def {fname}(X, Pm, t0, h, n_out, stride, out, bound, bad):")
        w("    B = X.shape[1]")
        w("    hh = 0.5 * h")
        w("    h6 = h / 6.0")
        w("    for k in range(n_out):")
        w("        if k > 0:")
        w("            for j in range(stride):")
        w("                t = t0 + ((k - 1) * stride + j) * h")
        w("                for l in range(B):")
        L.extend(load_lane(20))
        L.extend(stepper(20))
        L.extend(store_lane(20))
        w("        for l in range(B):")
        L.extend(record(12))
        w("    return 0")
        w("")

    if kind == "map":
        fixed_driver("iterate", step_map)
    else:
        fixed_driver("rk4", step_rk4)
        fixed_driver("euler", step_euler)
        _dopri_driver(L, X, P, call, record)
    if fj_tape is not None:
        body, outs = tape_body(fj_tape, ["t"] + X + P)
        # inlined at numba's level: LLVM's inliner may refuse a body this size, and a call
        # inside the lane loop would stop it from vectorising
        w("@njit(inline='always', **_JIT)")
        w(f"def fj({args}):")
        L.extend(body)
        w(f"    return {_tuple(outs)}")
        w("")
        _tangent_kernels(L, X, P, outs[D:], kind)
        if kind == "flow" and D <= 8:
            _tangent2_driver(L, X, P, outs[D:])
    return "\n".join(L) + "\n"


def _dopri_driver(L, X, P, call, record):
    """Adaptive Dormand-Prince 5(4), one trajectory per lane, output on the fixed grid."""
    D = len(X)
    w = L.append
    K = [_names(f"k{j}_", D) for j in range(1, 8)]
    w("@njit(**_JIT)")
    w("def dopri5(X, Pm, t0, h_out, n_out, rtol, atol, max_steps, out, bound, bad, nsteps):")
    w("    B = X.shape[1]")
    w("    for l in range(B):")
    for i, x in enumerate(X):
        w(f"        {x} = X[{i}, l]")
    for j, p in enumerate(P):
        w(f"        {p} = Pm[{j}, l]")
    w("        t = t0")
    w("        h = h_out")
    w("        steps = 0")
    w(f"        {_tuple(K[0])} = {call('t', X)}")
    w("        k = 0")
    L.extend(record(8))
    w("        dead = bad[l] >= 0")
    w("        for k in range(1, n_out):")
    w("            if dead:")
    for i in range(D):
        w(f"                out[l, k, {i}] = np.nan")
    w("                continue")
    w("            t_end = t0 + k * h_out")
    w("            while t < t_end and not dead:")
    w("                hs = h")
    w("                clipped = t + h >= t_end")
    w("                if clipped:")
    w("                    hs = t_end - t")
    # stages 2..7
    for s in range(1, 7):
        a = _DP_A[s]
        xs = []
        for i, x in enumerate(X):
            terms = " + ".join(f"{_f(a[j])} * {K[j][i]}" for j in range(len(a)) if a[j] != 0)
            xs.append(f"{x} + hs * ({terms})")
        w(f"                {_tuple(K[s])} = " + call(f"t + {_f(_DP_C[s])} * hs", xs))
    # the 5th-order solution is the stage-7 input (first same as last)
    for i, x in enumerate(X):
        terms = " + ".join(f"{_f(_DP_B[j])} * {K[j][i]}" for j in range(6) if _DP_B[j] != 0)
        w(f"                y{i} = {x} + hs * ({terms})")
    w("                err = 0.0")
    for i, x in enumerate(X):
        terms = " + ".join(f"{_f(_DP_E[j])} * {K[j][i]}" for j in range(7) if _DP_E[j] != 0)
        w(f"                sc = atol + rtol * max(abs({x}), abs(y{i}))")
        w(f"                e = hs * ({terms}) / sc")
        w("                err += e * e")
    w(f"                err = np.sqrt(err / {float(D)!r})")
    w("                steps += 1")
    w("                if not (err == err) or steps > max_steps:")
    w("                    dead = True")
    w("                    break")
    w("                fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * err ** -0.2))")
    w("                if err <= 1.0:")
    w("                    t = t_end if clipped else t + hs")
    for i, x in enumerate(X):
        w(f"                    {x} = y{i}")
    w(f"                    {_tuple(K[0])} = {_tuple(K[6])}")
    w("                    if not clipped:")
    w("                        h = hs * fac")
    w("                else:")
    w("                    h = hs * fac")
    w("                if h < 1e-14 * max(1.0, abs(t)):")
    w("                    dead = True")
    for i, x in enumerate(X):
        w(f"            X[{i}, l] = np.nan if dead else {x}")
    L.extend(record(12))
    w("            dead = bad[l] >= 0")
    w("        nsteps[l] = steps")
    w("    return 0")
    w("")


def _tangent_kernels(L, X, P, jac_outs, kind):
    """Benettin's method: the state and K tangent vectors, re-orthonormalised by QR.

    ``lyap`` integrates x' = f(x, t), Q' = J(x, t) Q (flows, RK4) or iterates
    x -> f(x), Q -> J(x) Q (maps), one trajectory per lane, and every ``renorm`` steps
    re-orthonormalises Q by modified Gram-Schmidt, adding log |R_cc| to ``logsum[l, c]``.
    With ``renorm`` larger than ``n_steps`` it returns the plain tangent map (for FTLE).
    Jacobian entries that are the constant 0 are skipped at print time.
    """
    D = len(X)
    w = L.append
    # J entry (i, j) is output D*i + j of the Jacobian part; print terms once
    def jv(r, i, src, c):
        terms = []
        for j in range(D):
            e = jac_outs[D * i + j]
            if e == "0.0":
                continue
            ref = f"{r}[{D + D * i + j}]"
            if e == "1.0":
                terms.append(f"{src}[{j}, {c}]")
            else:
                terms.append(f"{ref} * {src}[{j}, {c}]")
        return " + ".join(terms) if terms else "0.0"

    def fjcall(t, xs):
        return f"fj({', '.join([t] + list(xs) + P)})"

    w("@njit(**_JIT)")
    w("def lyap(X, Pm, Q, t0, h, n_steps, renorm, logsum, hist, hist_every, bound, bad):")
    w("    B = X.shape[1]")
    w("    K = Q.shape[2]")
    w(f"    A1 = np.empty(({D}, K))")
    w(f"    A2 = np.empty(({D}, K))")
    w(f"    A3 = np.empty(({D}, K))")
    w(f"    A4 = np.empty(({D}, K))")
    w(f"    Y = np.empty(({D}, K))")
    w("    hh = 0.5 * h")
    w("    h6 = h / 6.0")
    w("    for l in range(B):")
    for i, x in enumerate(X):
        w(f"        {x} = X[{i}, l]")
    for j, p in enumerate(P):
        w(f"        {p} = Pm[{j}, l]")
    w("        Qc = Q[l]")
    w("        nh = 0")
    w("        for s in range(n_steps):")
    w("            t = t0 + s * h")
    if kind == "map":
        w(f"            r = {fjcall('t', X)}")
        w("            for c in range(K):")
        for i in range(D):
            w(f"                A1[{i}, c] = {jv('r', i, 'Qc', 'c')}")
        w("                for i in range(" + str(D) + "):")
        w("                    Qc[i, c] = A1[i, c]")
        w(f"            {_tuple(X)} = {_tuple(f'r[{i}]' for i in range(D))}")
    else:
        stages = [("t", X, "Qc", "A1"), ("t + hh", None, "Y", "A2"), ("t + hh", None, "Y", "A3"),
                  ("t + h", None, "Y", "A4")]
        for n, (tt, _, src, dst) in enumerate(stages):
            if n == 0:
                xs = X
            else:
                fac = "h" if n == 3 else "hh"
                xs = [f"{x} + {fac} * r{n - 1}_{i}" for i, x in enumerate(X)]
            w(f"            r = {fjcall(tt, xs)}")
            for i in range(D):
                w(f"            r{n}_{i} = r[{i}]")
            w("            for c in range(K):")
            for i in range(D):
                w(f"                {dst}[{i}, c] = {jv('r', i, src, 'c')}")
            if n < 3:
                fac = "h" if n == 2 else "hh"
                for i in range(D):
                    w(f"                Y[{i}, c] = Qc[{i}, c] + {fac} * {dst}[{i}, c]")
        w("            for c in range(K):")
        for i in range(D):
            w(f"                Qc[{i}, c] += h6 * (A1[{i}, c] + 2.0 * A2[{i}, c] + "
              f"2.0 * A3[{i}, c] + A4[{i}, c])")
        for i, x in enumerate(X):
            w(f"            {x} = {x} + h6 * (r0_{i} + 2.0 * r1_{i} + 2.0 * r2_{i} + r3_{i})")
    cond = " and ".join(f"abs({x}) < bound" for x in X)
    w(f"            if not ({cond}):")
    w("                bad[l] = s")
    w("                break")
    w("            if (s + 1) % renorm == 0:")
    w("                for c in range(K):")
    w("                    for c2 in range(c):")
    w("                        dot = 0.0")
    w(f"                        for i in range({D}):")
    w("                            dot += Qc[i, c] * Qc[i, c2]")
    w(f"                        for i in range({D}):")
    w("                            Qc[i, c] -= dot * Qc[i, c2]")
    w("                    nrm = 0.0")
    w(f"                    for i in range({D}):")
    w("                        nrm += Qc[i, c] * Qc[i, c]")
    w("                    nrm = np.sqrt(nrm)")
    w("                    if not (nrm > 0.0 and nrm < np.inf):")
    w("                        bad[l] = s")
    w("                    logsum[l, c] += np.log(nrm)")
    w(f"                    for i in range({D}):")
    w("                        Qc[i, c] /= nrm")
    w("                if bad[l] >= 0:")
    w("                    break")
    w("            if hist_every > 0 and (s + 1) % hist_every == 0 and nh < hist.shape[1]:")
    w("                for c in range(K):")
    w("                    hist[l, nh, c] = logsum[l, c]")
    w("                nh += 1")
    for i, x in enumerate(X):
        w(f"        X[{i}, l] = {x}")
    w("    return 0")
    w("")


def _tangent2_driver(L, X, P, jac_outs):
    """RK4 for the state and two tangent vectors, one trajectory per SIMD lane.

    ``V`` is ``(2*dim, B)``: rows ``2*i + c`` hold component ``i`` of column ``c``. Used
    for FTLE fields, where every grid point is a lane and nothing is re-orthonormalised.
    """
    D = len(X)
    w = L.append
    cols = range(2)

    def jv(i, c, vals):
        terms = []
        for j in range(D):
            e = jac_outs[D * i + j]
            if e == "0.0":
                continue
            ref = f"r[{D + D * i + j}]"
            terms.append(vals[j][c] if e == "1.0" else f"{ref} * {vals[j][c]}")
        return " + ".join(terms) if terms else "0.0"

    def fjcall(t, xs):
        return f"fj({', '.join([t] + list(xs) + P)})"

    w("@njit(**_JIT)")
    w("def tangent2(X, Pm, V, t0, h, n_steps, bound, bad):")
    w("    B = X.shape[1]")
    w("    hh = 0.5 * h")
    w("    h6 = h / 6.0")
    w("    for s in range(n_steps):")
    w("        t = t0 + s * h")
    w("        for l in range(B):")
    ind = " " * 12
    for i, x in enumerate(X):
        w(f"{ind}{x} = X[{i}, l]")
    for j, p in enumerate(P):
        w(f"{ind}{p} = Pm[{j}, l]")
    v = [[f"v{i}_{c}" for c in cols] for i in range(D)]
    for i in range(D):
        for c in cols:
            w(f"{ind}{v[i][c]} = V[{2 * i + c}, l]")
    prev = None
    for n, tt in enumerate(("t", "t + hh", "t + hh", "t + h")):
        if n == 0:
            xs = X
            src = v
        else:
            fac = "h" if n == 3 else "hh"
            xs = [f"{x} + {fac} * k{n - 1}_{i}" for i, x in enumerate(X)]
            src = [[f"({v[j][c]} + {fac} * a{n - 1}_{j}_{c})" for c in cols] for j in range(D)]
        w(f"{ind}r = {fjcall(tt, xs)}")
        for i in range(D):
            w(f"{ind}k{n}_{i} = r[{i}]")
        for i in range(D):
            for c in cols:
                w(f"{ind}a{n}_{i}_{c} = {jv(i, c, src)}")
    for i, x in enumerate(X):
        w(f"{ind}X[{i}, l] = {x} + h6 * (k0_{i} + 2.0 * k1_{i} + 2.0 * k2_{i} + k3_{i})")
    for i in range(D):
        for c in cols:
            w(f"{ind}V[{2 * i + c}, l] = {v[i][c]} + h6 * (a0_{i}_{c} + 2.0 * a1_{i}_{c} + "
              f"2.0 * a2_{i}_{c} + a3_{i}_{c})")
    w("    for l in range(B):")
    cond = " and ".join([f"abs(X[{i}, l]) < bound" for i in range(D)]
                        + [f"abs(V[{r}, l]) < np.inf" for r in range(2 * D)])
    w(f"        if not ({cond}):")
    w("            bad[l] = n_steps")
    w("    return 0")
    w("")


def delay_source(rhs_tape, dim: int, n_params: int, delay_vars, tau_index: int) -> str:
    """The kernel module of a delay-differential system ``x' = f(t, x, x(t - tau))``.

    RK4 by the method of steps: every trajectory keeps a ring buffer of its past states and
    derivatives on the step grid; the delayed state at a stage time is the cubic Hermite
    interpolant of the two bracketing grid points (fourth-order, like RK4 itself). Before
    the first grid point the history is the constant ``XI``. The delay must span at least
    two steps.
    """
    D, M = dim, n_params
    X = _names("x", D)
    XD = _names("xd", len(delay_vars))
    P = _names("p", M)
    L = []
    w = L.append
    w("# Generated by chaoslab from a checked expression tape; do not edit.")
    w("import numpy as np")
    w("from numba import njit")
    w("")
    w("_JIT = dict(cache=True, nogil=True, error_model='numpy', fastmath=False)")
    w("")
    L.extend(_SINCOS.splitlines())
    w("")
    body, outs = tape_body(rhs_tape, ["t"] + X + XD + P)
    w("@njit(inline='always', **_JIT)")
    w(f"def f({', '.join(['t'] + X + XD + P)}):")
    L.extend(body)
    w(f"    return {_tuple(outs)}")
    w("")
    w("@njit(inline='always', **_JIT)")
    w("def lagged(HX, HF, XI, l, pos, h, L, i):")
    w("    # component i of the state at grid position pos (>= pos - 1 points are stored)")
    w("    if pos <= 0.0:  # before the first step: the constant initial history")
    w("        return XI[i, l]")
    w("    j = int(np.floor(pos))")
    w("    u = pos - j")
    w("    xa = HX[l, j % L, i]")
    w("    fa = HF[l, j % L, i]")
    w("    if u == 0.0:")
    w("        return xa")
    w("    xb = HX[l, (j + 1) % L, i]")
    w("    fb = HF[l, (j + 1) % L, i]")
    w("    u2 = u * u")
    w("    u3 = u2 * u")
    w("    return ((2.0 * u3 - 3.0 * u2 + 1.0) * xa + (u3 - 2.0 * u2 + u) * h * fa")
    w("            + (3.0 * u2 - 2.0 * u3) * xb + (u3 - u2) * h * fb)")
    w("")
    w("@njit(**_JIT)")
    w("def dde_rk4(X, Pm, XI, HX, HF, g0, t0, h, n_out, stride, out, bound, bad):")
    w("    B = X.shape[1]")
    w("    L = HX.shape[1]")
    w("    hh = 0.5 * h")
    w("    h6 = h / 6.0")
    w("    for l in range(B):")
    for i, x in enumerate(X):
        w(f"        {x} = X[{i}, l]")
    for j, p in enumerate(P):
        w(f"        {p} = Pm[{j}, l]")
    w(f"        q = Pm[{tau_index}, l] / h")
    w("        g = g0")
    w("        for k in range(n_out):")
    w("            if k > 0:")
    w("                for j in range(stride):")
    w("                    t = t0 + g * h")
    ind = " " * 20

    def lag(pos, tag):
        return [f"{ind}{XD[n]}{tag} = lagged(HX, HF, XI, l, {pos}, h, L, {v})"
                for n, v in enumerate(delay_vars)]

    def call(t, xs, tag):
        return f"f({', '.join([t] + list(xs) + [d + tag for d in XD] + P)})"

    K = [_names(f"k{j}_", D) for j in range(1, 5)]
    L.extend(lag("g - q", "_a"))
    w(f"{ind}{_tuple(K[0])} = {call('t', X, '_a')}")
    for i, x in enumerate(X):
        w(f"{ind}HX[l, g % L, {i}] = {x}")
        w(f"{ind}HF[l, g % L, {i}] = {K[0][i]}")
    L.extend(lag("g + 0.5 - q", "_b"))
    L.extend(lag("g + 1.0 - q", "_c"))
    w(f"{ind}{_tuple(K[1])} = " + call("t + hh", [f"{x} + hh * {k}" for x, k in zip(X, K[0])], "_b"))
    w(f"{ind}{_tuple(K[2])} = " + call("t + hh", [f"{x} + hh * {k}" for x, k in zip(X, K[1])], "_b"))
    w(f"{ind}{_tuple(K[3])} = " + call("t + h", [f"{x} + h * {k}" for x, k in zip(X, K[2])], "_c"))
    for i, x in enumerate(X):
        w(f"{ind}{x} = {x} + h6 * ({K[0][i]} + 2.0 * {K[1][i]} + 2.0 * {K[2][i]} + {K[3][i]})")
    w(f"{ind}g += 1")
    cond = " and ".join(f"abs({x}) < bound" for x in X)
    w(f"            if not ({cond}):")
    w("                if bad[l] < 0:")
    w("                    bad[l] = k")
    for x in X:
        w(f"                {x} = np.nan")
    for i, x in enumerate(X):
        w(f"            out[l, k, {i}] = {x}")
    for i, x in enumerate(X):
        w(f"        X[{i}, l] = {x}")
    w("    return 0")
    w("")
    return "\n".join(L) + "\n"
