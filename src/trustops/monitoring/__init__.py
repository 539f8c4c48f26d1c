"""Continuous monitoring: prediction logs, windows, fairness and drift over time, alerts."""
