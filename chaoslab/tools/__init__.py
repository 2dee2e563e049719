"""Tools that regenerate or check chaoslab's recorded data; not on the runtime path.

``python -m chaoslab.tools.reference`` computes the catalog's reference invariants
(``chaoslab/systems/data/reference.json``), reruns them as a check, and writes the
comparison table of docs/catalog.md. Tools sit above every other layer and may import
any of them; nothing in chaoslab imports a tool.
"""
