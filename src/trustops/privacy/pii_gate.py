"""The PII policy hook: a dataset's PII scan is evidence, and a policy can refuse registration.

:func:`register_scanned` scans the data for personal data
(:func:`trustops.scan.scan_pii`) *before* anything is written, judges the
candidate version with the policy's dataset rules (``field`` rules on
``datasets...``: the ``gdpr`` pack's lawful basis, purposes and
``pii-declared-personal``), and refuses the registration when they block:
the scan found PII columns in data not declared as personal data with a
lawful basis. Otherwise it registers the version and records the scan as its
``pii_scan`` evidence, which every later policy check of a model trained on
it sees (``datasets[pii_detected].personal_data_basis``).

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("crm")
    >>> data = {"email": ["ann@example.org", "bob@example.org"], "visits": [3, 5]}
    >>> register_scanned(reg, data, system="crm", name="contacts")
    Traceback (most recent call last):
    trustops.privacy.pii_gate.RegistrationBlocked: gdpr blocks registering crm/contacts: ...
    >>> dv = register_scanned(reg, data, system="crm", name="contacts", personal_data=True,
    ...                       lawful_basis="consent", purposes=["newsletter"])
    >>> [e.content["pii_columns"] for e in reg.evidence(subject=dv, kind="pii_scan")]
    [['email']]
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from trustops.core.policy import Context, Decision, Policy, evaluate
from trustops.errors import TrustOpsError
from trustops.governance import DatasetVersion, Registry

__all__ = ["RegistrationBlocked", "register_scanned"]


class RegistrationBlocked(TrustOpsError):
    """The policy's dataset rules refuse the registration (nothing was registered)."""

    status = 422
    exit_code = 1  # a check failed, as `trustops check`

    def __init__(self, message: str, decision: Decision, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.decision = decision


def _dataset_rules(policy: Policy) -> Policy:
    rules = tuple(
        r for r in policy.rules if r.kind == "field" and (r.field_path or "").startswith("datasets")
    )
    return replace(policy, rules=rules)


def register_scanned(
    registry: Registry,
    data: Any,
    *,
    system: str,
    name: str | None = None,
    policy: Policy | str = "gdpr",
    **registration: Any,
) -> DatasetVersion:
    """Scan ``data`` for PII, judge it with ``policy``'s dataset rules, then register it (the
    keyword arguments of :meth:`Registry.register_dataset`) and record the scan as evidence.

    Raises :class:`RegistrationBlocked` (nothing registered) when a blocking rule fails.
    """
    import os
    from pathlib import Path

    from trustops.policy import load_policy
    from trustops.scan import scan_pii

    loaded = load_policy(policy) if isinstance(policy, str) else policy
    label = name or (Path(data).stem if isinstance(data, str | os.PathLike) else "dataset")
    report = scan_pii(data).to_dict()
    found = list(report.get("pii_columns") or [])
    personal = bool(registration.get("personal_data"))
    basis = registration.get("lawful_basis")
    purposes = registration.get("purposes") or ()
    facts = {
        "ref": f"{label} (candidate)",
        "personal_data": personal,
        "lawful_basis": basis,
        "permitted_purposes": [purposes] if isinstance(purposes, str) else list(purposes),
        "retention_days": registration.get("retention_days"),
        "pii_columns": found,
        "pii_detected": bool(found),
        "personal_data_basis": basis if personal else None,
    }
    context = Context(
        system=registry.system(system).to_dict(),
        datasets=[facts],
        now=datetime.now(UTC),
        subject=f"dataset:{system}/{label}",
    )
    decision = evaluate(_dataset_rules(loaded), [], context)
    if decision.blocked:
        failed = [f"{r.id}: {'; '.join(r.messages)}" for r in decision.rules if r.effect == "fail"]
        raise RegistrationBlocked(
            f"{loaded.name} blocks registering {system}/{label}: " + " | ".join(failed),
            decision,
            hint=f"the PII scan found {', '.join(found) or 'no PII'}: declare the data "
            "personal (--personal-data) with a lawful basis and purposes, or remove the columns",
        )
    dv = registry.register_dataset(data, system=system, name=name, **registration)
    registry.record_evidence("pii_scan", dv, report)
    return dv
