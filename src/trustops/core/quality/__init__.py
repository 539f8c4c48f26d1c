"""Data quality: validation rules and PII detectors.

Everything here is pure (NumPy, PyArrow and the standard library): results are
mergeable tallies computed per record batch, and the decisions built from them
(a column holds e-mail addresses, a column looks like a protected attribute)
are evidence objects with ``to_dict()``. Reading data is the engines' job and
the clock is the caller's: :mod:`trustops.scan` is the entry point that does both.

- :mod:`trustops.core.quality.checks`: declared data-quality checks,
  evaluated against a profile.
- :mod:`trustops.core.quality.pii`: detectors for personal data (e-mail
  addresses, phone numbers, US SSNs, payment cards, IBANs, IP addresses,
  dates of birth) and protected-attribute flags.
"""
