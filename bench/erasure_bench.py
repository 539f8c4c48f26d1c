#!/usr/bin/env python
"""Erasure benchmark: the cost of a subject index at registration, and of an erasure request.

On SQLite (a real file, the store's WAL and ``synchronous=FULL``), in a fresh
workspace with a subject key:

1. **Indexing at registration.** The same ``--rows``-row Arrow table (an
   integer ``applicant_id`` and three numeric columns) registered twice as
   two datasets, without and with ``subject_column="applicant_id"``
   (profile off in both, so the difference is the index: reading the column,
   HMAC-SHA256 of each distinct id, inserting the hashes in the registration's
   transaction). Timed with ``perf_counter``; the overhead is the difference.
2. **An erasure request.** Three models trained on the indexed version, then
   ``erasure_impact`` (the lookup, nothing written) and ``request_erasure``
   (lookup, lineage, steps, evidence and audit entries in one transaction)
   for 3 and for ``--ids`` subjects, each timed once on a fresh request.

There is no peer to compare with: no open-source ML governance tool keeps
a subject index across dataset and model versions. ``--quick`` runs 50,000
rows.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pyarrow as pa

import machine
from trustops.governance import Registry, init_workspace
from trustops.governance.subjects import create_subject_key
from trustops.governance.workspace import load_settings
from trustops.privacy.erasure import erasure_impact, request_erasure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ids", type=int, default=1_000, help="subjects in the large request")
    parser.add_argument("--quick", action="store_true", help="50,000 rows")
    args = parser.parse_args()
    rows = 50_000 if args.quick else args.rows
    print(machine.machine_line())
    print(machine.source_state())
    print(f"load: {machine.load()}")
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "applicant_id": np.arange(1, rows + 1),
            "income": rng.normal(50, 10, rows),
            "debt_ratio": rng.uniform(0, 1, rows),
            "age": rng.integers(18, 90, rows),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        ws = init_workspace(folder, actor="bench")
        create_subject_key(ws.path / "subject.key")
        with Registry.open(settings=load_settings(ws, env={})) as reg:
            reg.create_system("credit")
            t0 = time.perf_counter()
            reg.register_dataset(table, system="credit", name="plain", profile=False)
            t1 = time.perf_counter()
            dv = reg.register_dataset(
                table, system="credit", name="indexed", profile=False,
                subject_column="applicant_id",
            )  # fmt: skip
            t2 = time.perf_counter()
            plain, indexed = t1 - t0, t2 - t1
            print(f"register {rows:,} rows: {plain:.2f} s plain, {indexed:.2f} s with the "
                  f"subject index (+{indexed - plain:.2f} s, "
                  f"{(indexed - plain) / rows * 1e6:.2f} µs per subject)")  # fmt: skip
            for i in range(3):
                reg.register_model(
                    f"m{i}".encode(), system="credit", name=f"m{i}", trained_on=[dv.ref],
                    code_commit=None,
                )  # fmt: skip
            picks = rng.choice(rows, size=max(args.ids, 3), replace=False) + 1
            for n in (3, args.ids):
                ids = [str(i) for i in picks[:n]]
                t0 = time.perf_counter()
                preview = erasure_impact(reg, ids)
                t1 = time.perf_counter()
                done = request_erasure(reg, ids, reference=f"bench-{n}")
                t2 = time.perf_counter()
                assert preview.found == done.found == n and len(done.models) == 3
                print(f"erasure of {n:,} subjects among {rows:,}: impact {t1 - t0:.3f} s, "
                      f"request recorded {t2 - t1:.3f} s ({len(done.steps)} steps)")  # fmt: skip
            assert reg.audit.verify().ok


if __name__ == "__main__":
    main()
