"""Erasure impact (GDPR Art. 17): which data and which models hold the people who ask.

:func:`request_erasure` takes the ids of the people asking to be erased (a
file, one id a line, or a list), hashes them with the subject key
(:mod:`trustops.governance.subjects`), and looks them up in the subject index
of every dataset version registered with a subject-identifier column. From
each version holding some of them it follows lineage: the versions derived
from it, and every model version trained on any of these (directly, through
derived data, or as a descendant of such a model). In one transaction it then

1. records the request (``erasure.requested``: its reference, how many
   subjects, how many found, the key id, the keyed hashes of the subjects
   found — never an id);
2. records one fulfilment step per affected version (``erasure.step``):
   ``erase_from_source`` for a version holding subjects, ``review_derived``
   for data derived from it, ``retraining_required`` for a model version;
3. marks each affected model version "retraining required": an ``erasure``
   evidence record (``retraining_required: true``) that a policy reads —
   the ``gdpr`` pack blocks its promotion (rule ``art17-retraining-after-erasure``).

The store never held the raw data, and the audit log holds keyed hashes and
record identifiers only, so fulfilling the request never rewrites either:
the steps say what to erase at the source and which models to retrain.

Example:
    >>> import os, tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> os.environ["TRUSTOPS_SUBJECT_KEY"] = "an example secret of at least 32 bytes"
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="dpo").project)
    >>> _ = reg.create_system("credit")
    >>> dv = reg.register_dataset(pa.table({"id": [1, 2, 3], "x": [0, 1, 0]}), system="credit",
    ...                           name="train", subject_column="id")
    >>> _ = reg.register_model(b"w", system="credit", name="scorer", trained_on=[dv.ref])
    >>> done = request_erasure(reg, ["2", "9"], reference="case-17")
    >>> (done.subjects, done.found, done.models)
    (2, 1, ['credit/scorer@1'])
    >>> retraining_required(reg, "scorer@1")
    True
    >>> del os.environ["TRUSTOPS_SUBJECT_KEY"]
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.errors import InputError
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.database import insert_id
from trustops.governance.subjects import (
    SubjectKeyError,
    key_id,
    load_subject_key,
    read_subject_ids,
    subject_hash,
)

__all__ = [
    "ErasureRequest",
    "erasure_impact",
    "erasure_requests",
    "request_erasure",
    "retraining_required",
]

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,199}")
_CHUNK = 500  # hashes per IN (...) query


@dataclass(frozen=True)
class ErasureRequest:
    """An erasure request and what it touches (``id`` None: a preview, nothing recorded)."""

    id: int | None
    reference: str | None
    subjects: int  # distinct ids asked for
    found: int  # of which held in at least one indexed dataset version
    key_id: str
    datasets: dict[str, int]  # SYSTEM/NAME@V holding subjects -> how many
    derived: list[str]  # versions derived from those (not indexed themselves)
    models: list[str]  # SYSTEM/NAME@V trained on any of them: retraining required
    created_at: str | None = None
    created_by: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ids(subject_ids: Sequence[str] | str | os.PathLike[str]) -> list[str]:
    if isinstance(subject_ids, str | os.PathLike):
        return read_subject_ids(subject_ids)
    ids = [str(i).strip() for i in subject_ids]
    for number, text in enumerate(ids, 1):
        if not text:
            raise InputError(f"subject id number {number} is empty")
    if not ids:
        raise InputError("no subject ids given")
    return list(dict.fromkeys(ids))


def _label(conn: Any, subject_type: str, vid: int) -> str:
    """``SYSTEM/NAME@VERSION`` of a dataset or model version row."""
    if subject_type == "dataset_version":
        v, n, parent = t.dataset_versions.c, t.datasets.c, t.datasets
        link = n.id == v.dataset_id
        table = t.dataset_versions
    else:
        v, n, parent = t.model_versions.c, t.models.c, t.models
        link = n.id == v.model_id
        table = t.model_versions
    s = t.systems.c
    r = conn.execute(
        sa.select(s.name.label("system"), n.name, v.version)
        .select_from(table)
        .join(parent, link)
        .join(t.systems, s.id == n.system_id)
        .where(v.id == vid)
    ).one()
    return f"{r.system}/{r.name}@{r.version}"


def _check_key(conn: Any, kid: str) -> None:
    """Refuse a key other than the one every subject index was built with."""
    si = t.subject_indexes.c
    other = conn.execute(
        sa.select(sa.func.count(), sa.func.min(si.key_id)).where(si.key_id != kid)
    ).one()
    if other[0]:
        raise SubjectKeyError(
            f"the subject key (id {kid}) is not the key that indexed {other[0]} dataset "
            f"version(s) (key id {other[1]})",
            hint="use the subject key the data was registered with (TRUSTOPS_SUBJECT_KEY or "
            "privacy.subject_key)",
        )


def _plan(registry: Registry, ids: list[str], key: bytes) -> tuple[ErasureRequest, dict[str, Any]]:
    kid = key_id(key)
    hashes = sorted({subject_hash(key, i) for i in ids})
    sh = t.subject_hashes.c
    with registry.db.read() as conn:
        _check_key(conn, kid)
        matched: dict[int, set[str]] = {}
        for start in range(0, len(hashes), _CHUNK):
            chunk = hashes[start : start + _CHUNK]
            for vid, digest in conn.execute(
                sa.select(sh.dataset_version_id, sh.subject_hash).where(sh.subject_hash.in_(chunk))
            ).all():
                matched.setdefault(vid, set()).add(digest)
        found_hashes = sorted(set().union(*matched.values())) if matched else []
        labels = {vid: _label(conn, "dataset_version", vid) for vid in sorted(matched)}
    holding = {}
    for vid, label in labels.items():
        system, ref = label.split("/", 1)
        holding[vid] = registry.dataset(ref, system=system)
    datasets = {f"{d.system}/{d.ref}": len(matched[vid]) for vid, d in holding.items()}
    # derived data and models: the registry's lineage, both ways
    models: dict[str, Any] = {}
    derived: dict[str, Any] = {}
    held_ids = set(holding)
    for d in holding.values():
        for m in registry.used_by(d.ref, system=d.system):
            label = f"{m.system}/{m.ref}"
            if label in models:
                continue
            lineage = registry.lineage(label)
            if held_ids & {x.id for x in lineage.datasets}:  # trained on it, not only evaluated
                models[label] = m
                for x in lineage.datasets:
                    if x.id not in held_ids and _derives_from(registry, x, held_ids):
                        derived[f"{x.system}/{x.ref}"] = x
    for d in list(holding.values()):
        for x in registry.datasets(system=d.system):
            if x.id not in held_ids and _derives_from(registry, x, held_ids):
                derived[f"{x.system}/{x.ref}"] = x
    plan = ErasureRequest(
        id=None,
        reference=None,
        subjects=len(ids),
        found=len(found_hashes),
        key_id=kid,
        datasets=datasets,
        derived=sorted(derived),
        models=sorted(models),
    )
    parts = {"holding": holding, "derived": derived, "models": models, "hashes": found_hashes}
    return plan, parts


def _derives_from(registry: Registry, dataset: Any, targets: set[int]) -> bool:
    """``dataset`` was derived (transitively) from one of the versions ``targets``."""
    seen: set[str] = set()
    queue = list(dataset.parents)
    while queue:
        ref = queue.pop()
        if ref in seen:
            continue
        seen.add(ref)
        parent = registry.dataset(ref, system=dataset.system)
        if parent.id in targets:
            return True
        queue += parent.parents
    return False


def erasure_impact(
    registry: Registry, subject_ids: Sequence[str] | str | os.PathLike[str]
) -> ErasureRequest:
    """What :func:`request_erasure` would find and mark, recording nothing."""
    key = load_subject_key(registry.settings.subject_key if registry.settings else None)
    return _plan(registry, _ids(subject_ids), key)[0]


def request_erasure(
    registry: Registry,
    subject_ids: Sequence[str] | str | os.PathLike[str],
    *,
    reference: str | None = None,
) -> ErasureRequest:
    """Record an erasure request, its fulfilment steps, and mark the affected model versions
    "retraining required" (see the module docs). ``subject_ids``: a file path or a list."""
    if reference is not None and not _REFERENCE.fullmatch(reference):
        raise InputError(
            "the reference must be a case number (letters, digits and . _ : / # -, at most 200)"
        )
    ids = _ids(subject_ids)
    key = load_subject_key(registry.settings.subject_key if registry.settings else None)
    plan, parts = _plan(registry, ids, key)
    now = utc_now()
    with registry.transaction() as change:
        conn = change.conn
        _check_key(conn, plan.key_id)  # again, under the write lock
        rid = insert_id(
            conn,
            t.erasure_requests.insert().values(
                reference=reference, subjects=plan.subjects, found=plan.found,
                key_id=plan.key_id, audit_seq=-1, created_at=now, created_by=registry.actor,
            )
        )  # fmt: skip
        receipt = change.audit(
            "erasure.requested",
            f"erasure:{rid}",
            {
                "reference": reference,
                "subjects": plan.subjects,
                "found": plan.found,
                "key_id": plan.key_id,
                "subject_hashes": parts["hashes"],
            },
        )
        conn.execute(
            t.erasure_requests.update()
            .where(t.erasure_requests.c.id == rid)
            .values(audit_seq=receipt.seq)
        )
        steps: list[dict[str, Any]] = []

        def step(kind: str, subject_type: str, version: Any, matched: int | None) -> None:
            label = f"{version.system}/{version.ref}"
            what = "dataset" if subject_type == "dataset_version" else "model"
            conn.execute(
                t.erasure_impacts.insert().values(
                    request_id=rid, subject_type=subject_type, subject_id=version.id,
                    matched=matched, action=kind,
                )
            )  # fmt: skip
            payload: dict[str, Any] = {"request": rid, "step": kind, what: label}
            if matched is not None:
                payload["subjects"] = matched
            if subject_type == "model_version":
                content = {
                    "retraining_required": True,
                    "request": rid,
                    "reference": reference,
                    "datasets": sorted(plan.datasets),
                    "subjects_found": plan.found,
                }
                body = canonical_json(content).decode()
                digest = hashlib.sha256(body.encode()).hexdigest()
                eid = insert_id(
                    conn,
                    t.evidence.insert().values(
                        kind="erasure", subject_type="model_version", subject_id=version.id,
                        content=body, content_hash=digest, created_at=now,
                        created_by=registry.actor,
                    )
                )  # fmt: skip
                payload.update(evidence_id=eid, content_hash=digest)
            change.audit("erasure.step", f"{what}:{label}", payload)
            steps.append(payload)

        for label, d in sorted((f"{d.system}/{d.ref}", d) for d in parts["holding"].values()):
            step("erase_from_source", "dataset_version", d, plan.datasets[label])
        for label in plan.derived:
            step("review_derived", "dataset_version", parts["derived"][label], None)
        for label in plan.models:
            step("retraining_required", "model_version", parts["models"][label], None)
    return ErasureRequest(
        **{**plan.to_dict(), "id": rid, "reference": reference, "created_at": now,
           "created_by": registry.actor, "steps": steps},
    )  # fmt: skip


def erasure_requests(registry: Registry) -> list[ErasureRequest]:
    """Every recorded erasure request with what it touched, oldest first."""
    er, ei = t.erasure_requests.c, t.erasure_impacts.c
    out = []
    with registry.db.read() as conn:
        for r in conn.execute(sa.select(t.erasure_requests).order_by(er.id)).all():
            impacts = conn.execute(
                sa.select(ei.subject_type, ei.subject_id, ei.matched, ei.action).where(
                    ei.request_id == r.id
                )
            ).all()
            datasets, derived, models, steps = {}, [], [], []
            for kind, sid, matched, action in impacts:
                label = _label(conn, kind, sid)
                if action == "erase_from_source":
                    datasets[label] = matched
                elif action == "review_derived":
                    derived.append(label)
                else:
                    models.append(label)
                steps.append({"request": r.id, "step": action, "version": label})
            out.append(
                ErasureRequest(
                    id=r.id, reference=r.reference, subjects=r.subjects, found=r.found,
                    key_id=r.key_id, datasets=datasets, derived=sorted(derived),
                    models=sorted(models), created_at=r.created_at, created_by=r.created_by,
                    steps=steps,
                )
            )  # fmt: skip
    return out


def retraining_required(registry: Registry, model: str) -> bool:
    """Whether an erasure request marked model version ``model`` "retraining required"."""
    mv = registry.model(model)
    return any(
        e.content.get("retraining_required") is True
        for e in registry.evidence(subject=mv, kind="erasure")
    )
