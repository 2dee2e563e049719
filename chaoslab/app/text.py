"""Numbers as the app shows them: with units and a sentence of meaning."""
from __future__ import annotations

import math

__all__ = ["html", "plain", "fmt", "rate_unit", "time_unit", "lyapunov_sentence",
           "kaplan_yorke_sentence"]

#: characters that Markdown reads as markup
_MARKDOWN = set("\\`*_{}[]()#+-.!|<>~")


def plain(text) -> str:
    """``text`` as literal text for a Markdown or HTML pane: HTML-escaped and every
    Markdown character backslash-escaped, so text from a link, a typed system or a file
    shows as typed and never becomes markup or script."""
    from html import escape

    t = escape(str(text), quote=False)
    return "".join("\\" + c if c in _MARKDOWN else c for c in t)


def html(markdown_text: str) -> str:
    """The app's sentences (``**bold**`` and ``*italic*`` only) as HTML: an HTML pane
    updates faster than a Markdown one, which matters on every slider move."""
    import re
    from html import escape

    t = escape(markdown_text, quote=False)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"\*(.+?)\*", r"<i>\1</i>", t)
    return "<p>" + t.replace("\n\n", "</p><p>") + "</p>"


def fmt(v, digits=3) -> str:
    """A number to ``digits`` significant digits (``n/a`` for None or NaN)."""
    if v is None:
        return "n/a"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".")


def rate_unit(is_map: bool) -> str:
    return "per iteration" if is_map else "per unit time"


def time_unit(is_map: bool) -> str:
    return "iterations" if is_map else "time units"


def lyapunov_sentence(lam, is_map: bool, source: str = "", zero_band: float = 1e-3) -> str:
    """``lambda_1 = 0.906 per unit time ... a Lyapunov time ... e-fold`` as Markdown.

    ``|lam| < zero_band`` reads as zero: a finite run's estimate of a zero exponent is
    off by about one over the run's length, so pass ``zero_band`` ~ ``2 / T``.
    """
    src = f" ({source})" if source else ""
    if lam is None or not math.isfinite(lam):
        return f"**λ₁**: not known yet{src}."
    zero_band = max(float(zero_band), 1e-3)
    if lam > zero_band:
        return (f"**λ₁ = {fmt(lam)}** {rate_unit(is_map)}{src}: nearby states separate like "
                f"e^(λ₁t). A **Lyapunov time** 1/λ₁ = **{fmt(1 / lam)} {time_unit(is_map)}** "
                "is how long an error takes to grow e-fold; forecasts lose a digit about "
                f"every {fmt(math.log(10) / lam)} {time_unit(is_map)}.")
    if lam > -zero_band:
        return (f"**λ₁ ≈ {fmt(lam)}** {rate_unit(is_map)}{src}: no exponential divergence; "
                "errors grow at most slowly (a periodic or quasi-periodic motion).")
    return (f"**λ₁ = {fmt(lam)}** {rate_unit(is_map)}{src}: negative, so nearby states "
            f"converge: errors shrink e-fold every {fmt(-1 / lam)} {time_unit(is_map)} "
            "(a stable fixed point or cycle).")


def kaplan_yorke_sentence(d) -> str:
    if d is None or not math.isfinite(d):
        return ""
    return (f"**Kaplan-Yorke dimension {fmt(d)}**: the attractor's fractal dimension as "
            "estimated from the spectrum (how many directions it fills, counting partly "
            "filled ones).")
