"""Shared test set-up: a capped Hypothesis profile, no telemetry, quiet peers."""

from __future__ import annotations

import logging
import os

from hypothesis import HealthCheck, settings

# Peers we compare against log optional-dependency warnings on import.
logging.getLogger().setLevel(logging.ERROR)
# Switch off the peers' usage telemetry before any of them is imported.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
# One OpenMP thread: scikit-learn's tree models spin-wait on a busy 2-core machine
# (Spark's JVM running beside them) and get ten times slower with more.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
