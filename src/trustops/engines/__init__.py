"""Engines: user data (pandas, Polars, PyArrow, NumPy, files) becomes arrays for the core.

Backends are imported lazily, only when the user passes one of their objects.
"""
