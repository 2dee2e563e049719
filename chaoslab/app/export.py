"""Download buttons: each figure's data as CSV (PNG comes from the figure's save tool)."""
from __future__ import annotations

import io
import re

import panel as pn

__all__ = ["csv_button", "slug"]


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "data"


def csv_button(csv_text, filename, label="Data as CSV"):
    """A :class:`panel.widgets.FileDownload` that writes ``csv_text()`` when clicked.

    ``filename`` is a function too (the system can change between clicks).
    """
    def callback():
        btn.filename = filename()
        return io.StringIO(csv_text())

    btn = pn.widgets.FileDownload(callback=callback, filename=filename(), label=label,
                                  button_type="light", embed=False, width=150,
                                  margin=(0, 5))
    return btn
