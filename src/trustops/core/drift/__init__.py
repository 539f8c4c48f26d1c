"""Drift: how far a current sample has moved from a reference sample.

A drift statistic compares two distributions of one column. trustops
computes it in one of two modes:

- **from counts** (the profile-based mode): profiles keep bin and category
  counts, quantiles and CDFs, never rows, so statistics take aligned count
  vectors (:mod:`.statistics`: PSI, Jensen-Shannon, Hellinger, KL,
  chi-square, z-test) or sketch summaries (KS with bounds from histograms,
  Wasserstein from quantiles). They are exact for what the counts say, and
  the binning is the caller's explicit choice;
- **exact**, on raw samples: the same statistics on all values, equal to
  SciPy (:func:`ks_exact`, :func:`wasserstein_exact`), and the named
  compatibility modes (:mod:`.compat`) that reproduce Evidently 0.7.23 and
  NannyML 0.13.1 step by step, binning and thresholds included, so a result
  can be checked against the tool a team already runs.

The functions are pure (NumPy, plus SciPy imported when a function needs
it): no I/O, no clock, no profiles. Deciding which statistic a column gets
and which threshold applies is the caller's job, except in the
compatibility modes, which decide as their peer does.

Example:
    >>> from trustops.core.drift import population_stability_index, ks_from_histograms
    >>> round(population_stability_index([50, 30, 20], [30, 30, 40]), 4)
    0.2408
    >>> round(ks_from_histograms([50, 30, 20], [30, 30, 40]).lower, 6)
    0.2
"""

from trustops.core.drift.compat import (
    CompatResult,
    evidently_default_method,
    evidently_drift,
    nannyml_drift,
)
from trustops.core.drift.statistics import (
    KSBounds,
    SignificanceResult,
    aligned_category_counts,
    chi_square_test,
    fill_zeroes,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    ks_exact,
    ks_from_histograms,
    ks_pvalue,
    ks_statistic_from_cdfs,
    normalized_wasserstein,
    population_stability_index,
    proportions,
    quantile_midpoints,
    two_proportion_z_test,
    wasserstein_exact,
    wasserstein_from_quantiles,
)

__all__ = [
    "CompatResult",
    "KSBounds",
    "SignificanceResult",
    "aligned_category_counts",
    "chi_square_test",
    "evidently_default_method",
    "evidently_drift",
    "fill_zeroes",
    "hellinger_distance",
    "jensen_shannon_distance",
    "kl_divergence",
    "ks_exact",
    "ks_from_histograms",
    "ks_pvalue",
    "ks_statistic_from_cdfs",
    "nannyml_drift",
    "normalized_wasserstein",
    "population_stability_index",
    "proportions",
    "quantile_midpoints",
    "two_proportion_z_test",
    "wasserstein_exact",
    "wasserstein_from_quantiles",
]
