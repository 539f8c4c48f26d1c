"""Shared test set-up: a capped Hypothesis profile, no telemetry, quiet peers."""

from __future__ import annotations

import logging
import os

from hypothesis import HealthCheck, settings

# Peers we compare against log optional-dependency warnings on import.
logging.getLogger().setLevel(logging.ERROR)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
