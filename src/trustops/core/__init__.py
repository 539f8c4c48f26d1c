"""The pure computational core: NumPy, PyArrow and SciPy only; no I/O, clock or database.

Seeds and clocks are passed in. Surfaces (CLI, server), storage and engines
call into this package; it never calls out (checked by import-linter).
"""
