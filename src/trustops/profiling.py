"""Profile any data source into a mergeable :class:`~trustops.core.profiles.DatasetProfile`.

``profile(data)`` reads ``data`` as Arrow record batches (pandas, Polars,
Arrow, CSV, Parquet files or directories streamed in bounded memory, DuckDB
relations) or, for a Spark DataFrame, runs the same kernel inside the Spark
executors and merges their partial profiles. Without a reference, it reads
the data twice: once for the sketches, whose quantiles place the histogram
edges, and once for the exact histogram counts on those edges (that is a
*reference* profile). With ``reference=``, it reads the data once and bins it
on the reference's edges, so the two profiles can be compared bin by bin.

Example:
    >>> import pyarrow as pa
    >>> ref = profile(pa.table({"x": [float(i) for i in range(100)]}))
    >>> cur = profile(pa.table({"x": [float(i) for i in range(50, 150)]}), reference=ref)
    >>> ref.columns["x"].histogram.above, cur.columns["x"].histogram.above
    (0, 50)
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from trustops.core.profiles import (
    DatasetProfile,
    Histogram,
    NumericProfile,
    ProfilePlan,
    from_bytes,
    to_bytes,
)
from trustops.core.profiles.categorical import DEFAULT_MAX_CATEGORIES
from trustops.core.profiles.dataset import DEFAULT_BINS
from trustops.core.profiles.edges import MAX_REFINEMENTS, QuantileGrid, constant_edges
from trustops.core.profiles.numeric import DEFAULT_SKETCH_K
from trustops.engines.sources import DEFAULT_BATCH_SIZE, BatchSource, open_source
from trustops.errors import InputError, MissingColumnError, UsageError

__all__ = [
    "OutcomeSpec",
    "Progress",
    "is_profile_file",
    "load_profile",
    "profile",
    "save_profile",
    "source_rows",
]

#: Called with the number of rows just read (for a progress bar).
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    """Which columns make the fairness part of a profile (outcome counts per group).

    The table is the one :func:`trustops.count_groups` builds, so fairness
    metrics follow from the profile alone:
    ``trustops.core.fairness.build_report(profile.outcomes)``.
    """

    sensitive: tuple[str, ...]
    y_true: str
    y_pred: str
    pos_label: Any = 1

    @staticmethod
    def of(spec: OutcomeSpec | Mapping[str, Any] | None) -> OutcomeSpec | None:
        if spec is None or isinstance(spec, OutcomeSpec):
            return spec
        try:
            sensitive = spec["sensitive"]
            return OutcomeSpec(
                tuple([sensitive] if isinstance(sensitive, str) else sensitive),
                spec["y_true"],
                spec["y_pred"],
                spec.get("pos_label", 1),
            )
        except KeyError as exc:
            raise UsageError(
                f"outcomes needs the key {exc.args[0]!r}",
                hint="outcomes={'sensitive': [...], 'y_true': ..., 'y_pred': ...}",
            ) from None


def _kernel(
    plan: ProfilePlan,
    schema: pa.Schema,
    outcomes: OutcomeSpec | None,
    batches: Iterable[pa.RecordBatch],
    progress: Progress | None = None,
) -> DatasetProfile:
    """The one profiling kernel: fold batches into a profile (runs in Spark executors too)."""
    result = DatasetProfile.zero(plan, schema)
    for batch in batches:
        if not batch.num_rows:
            continue
        result = result.update(batch)
        if outcomes is not None:
            result = result.with_outcomes(_count_outcomes(batch, outcomes))
        if progress is not None:
            progress(batch.num_rows)
    return result


def _count_outcomes(batch: pa.RecordBatch, spec: OutcomeSpec) -> Any:
    from trustops.assess import count_groups

    return count_groups(
        batch,
        sensitive=list(spec.sensitive),
        task="binary",
        y_true=spec.y_true,
        y_pred=spec.y_pred,
        pos_label=spec.pos_label,
    )


def _histogram_pass(
    first: DatasetProfile,
    plan: ProfilePlan,
    batches: Iterable[pa.RecordBatch],
    progress: Progress | None = None,
) -> DatasetProfile:
    """``first`` with exact histograms on ``plan``'s edges (the second read of a reference)."""
    shape = replace(first, plan=plan)
    counts = {name: Histogram.empty(edges) for name, edges in plan.edges.items()}
    for batch in batches:
        for name, hist in shape.histograms_of(batch).items():
            counts[name] = counts[name].merge(hist)
        if progress is not None:
            progress(batch.num_rows)
    columns = dict(first.columns)
    for name, hist in counts.items():
        col = columns[name]
        assert isinstance(col, NumericProfile)
        columns[name] = replace(col, histogram=hist)
    return replace(first, columns=columns, plan=plan)


def _plan(
    reference: DatasetProfile | None,
    columns: Sequence[str] | None,
    bins: int,
    sketch_k: int,
    max_categories: int,
) -> ProfilePlan:
    if reference is None:
        return ProfilePlan(
            columns=tuple(columns) if columns is not None else None,
            bins=bins,
            sketch_k=sketch_k,
            max_categories=max_categories,
        )
    plan = reference.plan
    if columns is not None:
        unknown = [c for c in columns if c not in reference.kinds]
        if unknown:
            raise MissingColumnError(
                unknown[0], available=reference.kinds, role="reference profile's"
            )
        plan = replace(plan, columns=tuple(columns))
    return plan


def _needed(plan: ProfilePlan, spec: OutcomeSpec | None) -> list[str] | None:
    """The columns to read: the profiled ones and the outcome table's (``None``: all)."""
    if plan.columns is None:
        return None
    extra = [] if spec is None else [*spec.sensitive, spec.y_true, spec.y_pred]
    return list(dict.fromkeys([*plan.columns, *extra]))


def _is_spark(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "pyspark"


def profile(
    data: Any,
    *,
    reference: DatasetProfile | Any | None = None,
    columns: Sequence[str] | None = None,
    outcomes: OutcomeSpec | Mapping[str, Any] | None = None,
    bins: int = DEFAULT_BINS,
    sketch_k: int = DEFAULT_SKETCH_K,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    sketches: bool = True,
) -> DatasetProfile:
    """Profile ``data`` (any supported source; see the module docstring).

    Args:
        data: a dataframe, Arrow table, DuckDB relation, Spark DataFrame, or a
            CSV/Parquet path (file, directory or glob); a profile is returned as is.
        reference: a reference profile (or data to profile as one) whose bin
            edges and column kinds this profile follows.
        columns: profile only these columns.
        outcomes: ``{"sensitive": [...], "y_true": ..., "y_pred": ...}`` to add
            the fairness core's outcome counts per group.
        bins: histogram bins at the reference's quantiles (reference profiles only).
        sketch_k: KLL sketch size (rank error ≈ 1.33% at 200).
        max_categories: exact category counts up to this many distinct values.
        batch_size: rows per Arrow batch read from the source.
        progress: called with the rows read after each batch (every read).
        sketches: build the KLL quantile sketches of numeric columns; without
            them (faster: the sketch is most of a numeric column's cost), a
            profile made with ``reference=`` still has exact moments and
            histograms, which is all PSI, chi-square, KS bounds and the
            distances need. Only a reference profile needs them (quantiles,
            Wasserstein, and exact small-sample KS).

    Raises:
        MissingColumnError: a column asked for is not in the data.
        TypeChangedError: a column's kind differs from the reference's.
        InputError: the source cannot be read.
    """
    if isinstance(data, DatasetProfile):
        return data
    if reference is not None and not isinstance(reference, DatasetProfile):
        reference = profile(
            reference,
            columns=columns,
            bins=bins,
            sketch_k=sketch_k,
            max_categories=max_categories,
            batch_size=batch_size,
        )
    plan = _plan(reference, columns, bins, sketch_k, max_categories)
    if not sketches:
        if reference is None:
            raise UsageError(
                "a reference profile needs its sketches", hint="pass sketches=False with reference="
            )
        plan = replace(plan, sketch_k=0)
    spec = OutcomeSpec.of(outcomes)
    if _is_spark(data):
        return _profile_spark(data, plan, spec, fit=reference is None, progress=progress)
    source = open_source(data, batch_size=batch_size)
    needed = _needed(plan, spec)
    if needed is not None:
        source = source.select(needed)
    first = _kernel(plan, source.schema, spec, source.batches(), progress)
    if reference is not None:
        return first
    edges = fit_edges_exactly(first, plan.bins, _local_runner(source, progress))
    fitted = first.fitted_plan(edges=edges)
    if not fitted.edges:
        return replace(first, plan=fitted)
    numeric = source.select(list(fitted.edges))
    return _histogram_pass(first, fitted, numeric.batches(), progress)


#: ``run(count, columns)``: sums ``count(shape, batch)`` over every batch of ``columns``.
Runner = Callable[
    [Callable[[DatasetProfile, pa.RecordBatch], dict[str, np.ndarray]], list[str]],
    dict[str, np.ndarray],
]


def _add_into(total: dict[str, np.ndarray], part: Mapping[str, np.ndarray]) -> None:
    for key, value in part.items():
        total[key] = total[key] + value if key in total else value


def _local_runner(source: BatchSource, progress: Progress | None) -> Runner:
    def run(
        count: Callable[[DatasetProfile, pa.RecordBatch], dict[str, np.ndarray]],
        columns: list[str],
    ) -> dict[str, np.ndarray]:
        chosen = source.select(columns)
        shape = DatasetProfile.zero(ProfilePlan(columns=tuple(columns)), chosen.schema)
        total: dict[str, np.ndarray] = {}
        for batch in chosen.batches():
            _add_into(total, count(shape, batch))
            if progress is not None:
                progress(batch.num_rows)
        return total

    return run


def _is_integer(arrow_type: str) -> bool:
    return arrow_type.startswith(("int", "uint")) or (
        "values=int" in arrow_type or "values=uint" in arrow_type
    )


def fit_edges_exactly(first: DatasetProfile, bins: int, run: Runner) -> dict[str, np.ndarray]:
    """Histogram edges at the quantiles of every numeric column (``core.profiles.edges``).

    Reads the data once more for the first grid, and once per refinement
    (at most twice, only for columns whose mass sits in few cells). The edges
    depend only on the values, not on how they are batched or partitioned.
    """
    ranges = first.ranges()
    edges = {n: constant_edges(lo) for n, (lo, hi) in ranges.items() if not hi > lo}
    varying = {n: r for n, r in ranges.items() if r[1] > r[0]}
    if not varying:
        return edges

    integers = frozenset(n for n in varying if _is_integer(first.types[n]))

    def first_grid(shape: DatasetProfile, batch: pa.RecordBatch) -> dict[str, np.ndarray]:
        return shape.grid_counts_of(batch, varying, integers)

    counts = run(first_grid, list(varying))
    grids = {
        n: QuantileGrid.start(lo, hi, counts[n], integer=n in integers)
        for n, (lo, hi) in varying.items()
    }
    for _ in range(MAX_REFINEMENTS):
        cells = {n: c for n, g in grids.items() if (c := g.to_refine(bins)).size}
        if not cells:
            break
        splitting = {n: grids[n] for n in cells}

        def sub_grid(
            shape: DatasetProfile,
            batch: pa.RecordBatch,
            splitting: dict[str, QuantileGrid] = splitting,
            cells: dict[str, np.ndarray] = cells,
        ) -> dict[str, np.ndarray]:
            return shape.sub_counts_of(batch, splitting, cells)

        sub = run(sub_grid, list(cells))
        for n, c in cells.items():
            grids[n] = grids[n].refined(c, sub[n])
    for n, g in grids.items():
        found = g.edges(bins)
        if _is_integer(first.types[n]):
            # Integers in [e_i, e_j) are those in [⌈e_i⌉, ⌈e_j⌉): the same bins, on values.
            inner = np.unique(np.ceil(found[:-1]))
            found = np.append(inner, found[-1])
        edges[n] = found
    return {n: edges[n] for n in ranges}


def _profile_spark(
    df: Any, plan: ProfilePlan, spec: OutcomeSpec | None, *, fit: bool, progress: Progress | None
) -> DatasetProfile:
    """:func:`profile` of a Spark DataFrame: the kernel runs in the executors."""
    from trustops.engines.spark import arrow_schema, run_kernel

    # Missing columns and changed types are found here, on the driver, before any job runs.
    DatasetProfile.zero(plan, arrow_schema(df))
    needed = _needed(plan, spec)
    if needed is not None:
        df = df.select(*needed)

    def partial(schema: pa.Schema, batches: Iterator[pa.RecordBatch], p: ProfilePlan) -> bytes:
        return to_bytes(_kernel(p, schema, spec, batches))

    def histograms(schema: pa.Schema, batches: Iterator[pa.RecordBatch], p: ProfilePlan) -> bytes:
        return to_bytes(_kernel(p, schema, None, batches))

    def merged(parts: list[bytes], schema: pa.Schema, p: ProfilePlan) -> DatasetProfile:
        total = DatasetProfile.zero(p, schema)
        for part in parts:
            one = from_bytes(part)
            if progress is not None and one.rows:
                progress(one.rows)
            total = total.merge(one)
        return total

    first, _ = run_kernel(df, plan, partial, merged)
    if not fit:
        return first
    fitted = first.fitted_plan(edges=fit_edges_exactly(first, plan.bins, _spark_runner(df)))
    if not fitted.edges:
        return replace(first, plan=fitted)
    # The second read bins the numeric columns on the fitted edges.
    numeric = replace(fitted, columns=tuple(fitted.edges))
    second, _ = run_kernel(df.select(*fitted.edges), numeric, histograms, merged)
    return _with_histograms(first, second, fitted)


def _spark_runner(df: Any) -> Runner:
    """Sums of per-batch counts computed in the Spark executors (arrays as ``.npz`` bytes)."""
    from trustops.engines.spark import run_kernel

    def run(
        count: Callable[[DatasetProfile, pa.RecordBatch], dict[str, np.ndarray]],
        columns: list[str],
    ) -> dict[str, np.ndarray]:
        def partial(schema: pa.Schema, batches: Iterator[pa.RecordBatch], _: None) -> bytes:
            shape = DatasetProfile.zero(ProfilePlan(columns=tuple(columns)), schema)
            total: dict[str, np.ndarray] = {}
            for batch in batches:
                if batch.num_rows:
                    _add_into(total, count(shape, batch))
            buffer = io.BytesIO()
            np.savez(buffer, **total)  # type: ignore[arg-type]
            return buffer.getvalue()

        def merged(parts: list[bytes], schema: pa.Schema, _: None) -> dict[str, np.ndarray]:
            total: dict[str, np.ndarray] = {}
            for part in parts:
                with np.load(io.BytesIO(part), allow_pickle=False) as arrays:
                    _add_into(total, {k: arrays[k] for k in arrays.files})
            return total

        result, _ = run_kernel(df.select(*columns), None, partial, merged)
        return result

    return run


def _with_histograms(
    first: DatasetProfile, second: DatasetProfile, plan: ProfilePlan
) -> DatasetProfile:
    columns = dict(first.columns)
    for name in plan.edges:
        col, again = columns[name], second.columns[name]
        assert isinstance(col, NumericProfile) and isinstance(again, NumericProfile)
        columns[name] = replace(col, histogram=again.histogram)
    return replace(first, columns=columns, plan=plan)


def source_rows(data: Any) -> int | None:
    """Rows in ``data`` if known without reading it (for a progress bar's total)."""
    if isinstance(data, DatasetProfile) or _is_spark(data):
        return None
    try:
        return open_source(data).num_rows
    except InputError:
        return None


def save_profile(p: DatasetProfile, path: str | Path) -> None:
    """Write ``p`` to ``path``: JSON for ``.json``, the compact binary form otherwise.

    The file is written to a temporary name and renamed, so a failure never
    leaves a half-written profile behind.
    """
    from trustops.core.profiles import to_json

    path = Path(path)
    data = to_json(p).encode("utf-8") if path.suffix.lower() == ".json" else to_bytes(p)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own, so two writers of one path never share a temporary
        # file (and, unlike mkstemp, the file gets the umask's permissions).
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it visible
        tmp.replace(path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def load_profile(path: str | Path) -> DatasetProfile:
    """Read a profile written by :func:`save_profile` (either form)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"profile file {str(path)!r} not found") from None
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    try:
        return from_bytes(data)
    except InputError as exc:
        raise type(exc)(f"{path.name}: {exc.message}", hint=exc.hint) from None


def is_profile_file(path: str | Path) -> bool:
    """Whether ``path`` is a profile file (by its first bytes), not data."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.startswith(b"TPROF") or b'"trustops-profile"' in head
