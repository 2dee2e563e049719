"""Counts the generated calls of the fuzz tests and prints the total at the end of a run."""
from . import harness


def pytest_terminal_summary(terminalreporter):
    if harness.CALLS:
        total = sum(harness.CALLS.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(harness.CALLS.items()))
        terminalreporter.write_line(f"chaoslab fuzz: {total} generated calls ({parts})")
