"""``trustops demo``: the end-to-end tour on synthetic credit data with an injected bias."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from trustops.cli import app
from trustops.errors import UnsupportedError


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo's files.")
    ] = Path("demo-output"),
    rows: Annotated[int, typer.Option("--rows", min=1000, help="Applicants to generate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of data, split and bootstrap.")] = 42,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples.")
    ] = 1000,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve the dashboard with a viewer's token (at a terminal: until "
            "Ctrl-C; otherwise: check it answers, then stop).",
        ),
    ] = False,
) -> None:
    """Biased credit data, a model and its fairness; then production data: drift and a PII leak."""
    try:
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:
        raise UnsupportedError(
            f"the demo needs {exc.name}", hint="pip install 'trustops[demo]'"
        ) from None

    from trustops.assess import assess_fairness
    from trustops.datasets import CREDIT_FEATURES, make_credit
    from trustops.drift import detect_drift
    from trustops.engines.files import write_table
    from trustops.profiling import profile, save_profile
    from trustops.reports.drift import rich_table as drift_table
    from trustops.reports.drift import to_html as drift_html
    from trustops.reports.drift import to_json as drift_json
    from trustops.reports.fairness import fmt_p, rich_tables, to_html, to_json, to_markdown
    from trustops.reports.pii import rich_table as pii_table
    from trustops.reports.pii import to_json as pii_json
    from trustops.reports.quality import rich_table as quality_table
    from trustops.reports.quality import to_json as quality_json
    from trustops.scan import scan_pii
    from trustops.validation import validate

    console = Console()
    output.mkdir(parents=True, exist_ok=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        step = progress.add_task(f"Generating {rows:,} credit applicants…", total=None)
        data = pd.DataFrame(make_credit(rows, seed=seed))
        train, test = train_test_split(
            data, test_size=0.3, random_state=seed, stratify=data["race"]
        )
        progress.update(step, description="Training a logistic regression on past decisions…")
        features = list(CREDIT_FEATURES)  # no sex or race: bias comes in through the data
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train[features], train["approved"])
        test = test.assign(
            score=model.predict_proba(test[features])[:, 1],
            prediction=model.predict(test[features]),
        )
        progress.update(
            step, description=f"Assessing fairness ({bootstrap:,} bootstrap resamples)…"
        )
        report = assess_fairness(
            test,
            y_true="repaid",
            y_pred="prediction",
            score="score",
            sensitive=["race", "sex"],
            privileged={"race": "A"},
            bootstrap=bootstrap,
            seed=seed,
        )
        progress.update(step, description="Profiling the training data as the reference…")
        reference = profile(train[features])
        save_profile(reference, output / "reference.tprof")
        progress.update(step, description="Scoring a production batch (drift, PII, quality)…")
        production = _production_batch(rows // 2, seed + 1)
        drift = detect_drift(reference, production[features], progress=None)
        current = profile(production[features], reference=reference)
        pii = scan_pii(production, reference_date=date(2026, 11, 27))
        quality = validate(production, DEMO_CHECKS, now=datetime(2026, 11, 27, tzinfo=UTC))
        progress.update(step, description="Writing reports…")
        import pyarrow as pa

        write_table(pa.Table.from_pandas(test, preserve_index=False), output / "predictions.csv")
        (output / "fairness.json").write_text(to_json(report), encoding="utf-8")
        (output / "fairness.md").write_text(to_markdown(report), encoding="utf-8")
        (output / "fairness.html").write_text(
            to_html(report, title="trustops demo: credit approvals"), encoding="utf-8"
        )
        (output / "drift.json").write_text(drift_json(drift), encoding="utf-8")
        (output / "drift.html").write_text(drift_html(drift, reference, current), encoding="utf-8")
        (output / "pii.json").write_text(pii_json(pii), encoding="utf-8")
        (output / "quality.json").write_text(quality_json(quality), encoding="utf-8")

    console.rule("[bold]trustops demo: a credit model trained on biased past decisions")
    for table in rich_tables(report):
        console.print(table)
    for b in report.breakdowns:
        for row in b.four_fifths:
            if row["below_threshold"]:
                group = ", ".join(f"{k}={v}" for k, v in row["group"].items())
                console.print(
                    "[bold red]four-fifths rule:[/] "
                    + escape(
                        f"impact_ratio[{group}] = {row['impact_ratio']:.3f} < "
                        f"{report.four_fifths_threshold:.2f} "
                        f"(n={row['count']:,}, Fisher p={fmt_p(row['fisher_p_value'])}, "
                        f"{row['shortfall']} more approvals needed)"
                    )
                )
    di = report.aggregates.get("disparate_impact")
    if di is not None:
        console.print(f"disparate impact (AIF360, unprivileged / race=A): {di:.3f}")

    console.rule("[bold]In production: a new batch of applicants")
    console.print(drift_table(drift))
    for c in drift.columns:
        if c.drift_detected:
            console.print(
                f"[bold red]drift:[/] {escape(c.column)}: {c.method} = {c.statistic:.3f}, "
                + (
                    f"p = {c.p_value:.2g} < {c.threshold}"
                    if c.p_value is not None
                    else f"≥ {c.threshold}"
                )
                + " (reference vs production histograms in drift.html)"
            )
    console.print(pii_table(pii))
    for col in pii.columns:
        for finding in col.detectors:
            if finding.matches:
                console.print(
                    f"[bold red]PII leak:[/] column {escape(col.column)!r} holds "
                    f"{finding.detector} values in {finding.match_rate:.1%} of rows "
                    f"(e.g. {escape(', '.join(finding.examples[:2]))})"
                )
    console.print(quality_table(quality))
    _govern(output, train, production, model, report_json=to_json(report),
            drift_json=drift_json(drift), console=console)  # fmt: skip
    console.print(
        f"\nReports written to [bold]{output}/[/]: fairness.json, fairness.md, "
        "fairness.html, predictions.csv, reference.tprof, drift.json, drift.html, "
        "pii.json, quality.json; policy.md (the gate's decision); model-card, annex-iv, "
        "eeoc, datasheet, gdpr-art30 and ll144 (.md and .html); the governance workspace "
        "in .trustops/ and its audit log in audit.jsonl (trustops audit verify audit.jsonl)"
    )
    if serve:
        from trustops.cli.demo_serve import serve_demo

        serve_demo(output, console)  # the server over the demo's store (cli/demo_serve.py)


# The demo's reason-code dictionary (Regulation B sample reasons, Appendix C).
DEMO_REASONS = {
    "version": "demo-2026-11",
    "reasons": {
        "income": {"code": "R01", "text": "Income insufficient for amount of credit requested"},
        "debt_ratio": {"code": "R02", "text": "Excessive obligations in relation to income"},
        "credit_history_years": {"code": "R03", "text": "Length of credit history"},
        "late_payments": {"code": "R04", "text": "Delinquent past or present credit obligations"},
        "zip_score": {"code": "R05", "text": "Location of residence"},
        "age": {"code": "R06", "text": "Age"},
    },
}


def _transparency(
    reg: Any, output: Path, ref: str, artifact: str, model: Any, train: Any, policy: Any,
    console: Console,
) -> None:  # fmt: skip
    """Explain the biased model, find its proxy, compare mitigations, give reason codes."""
    from rich.table import Table
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import trustops
    from trustops.core.explain import ReasonDictionary
    from trustops.datasets import CREDIT_FEATURES
    from trustops.mitigation import compare_methods
    from trustops.notices import adverse_action_notices
    from trustops.proxies import rich_table as proxy_table

    features = list(CREDIT_FEATURES)
    background = train[features].sample(50, random_state=0)
    status = Console(stderr=True).status("Explaining the model (SHAP, permutation)…")
    with status:
        explanation = trustops.explain(
            model, train[features].head(200), background=background, seed=0, budget=300
        )
        (output / "explanation.svg").write_text(explanation.plot_bar(), encoding="utf-8")
        reg.record_evidence("explanation", ref, explanation)
        status.update("Looking for proxies of race…")
        proxies = trustops.detect_proxies(
            train, sensitive=["race"], features=features, importance=explanation.importance()
        )
        reg.record_evidence("proxies", ref, proxies)
        status.update("Comparing mitigations on one split…")
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        comparison = compare_methods(
            train[[*features, "race", "approved"]], y="approved", sensitive="race",
            estimator=estimator, policy=policy, seed=0,
        )  # fmt: skip
        (output / "mitigation.svg").write_text(comparison.plot_svg(), encoding="utf-8")
        status.update("Reason codes for denied applicants…")
        notices = adverse_action_notices(
            model, train[features].head(40), features=features,
            dictionary=ReasonDictionary.from_dict(DEMO_REASONS), background=background,
            model_sha256=artifact, time=datetime.now(UTC).isoformat(), budget=300,
            allow=["age"], prohibited=["race", "sex"], proxies=["zip_score"],
        )  # fmt: skip
    console.print(proxy_table(proxies))
    console.print(comparison.rich_table())
    unmitigated = comparison["none"].impact_ratio or 0.0
    passing = [
        r for r in comparison.results
        if r.method != "none" and r.policy_outcome == "pass"
        and not r.uses_protected_attribute_at_decision and (r.impact_ratio or 0) > unmitigated
    ]  # fmt: skip
    if passing:
        chosen = max(passing, key=lambda r: (r.accuracy, r.method))
        console.print(
            f"chosen mitigation: [bold]{chosen.method}[/] (no protected attribute at decision "
            f"time): accuracy {chosen.accuracy:.3f}, impact ratio {chosen.impact_ratio:.2f}, "
            f"policy {policy.name}: {chosen.policy_outcome}; the trade-off in mitigation.svg"
        )
        _mitigated_version(reg, output, ref, chosen.method, estimator, train, policy, console,
                           comparison=comparison)  # fmt: skip
    else:
        console.print(
            "no mitigation without disparate treatment raises the impact ratio and passes "
            "the policy on this data"
        )

    denied = [n for n in notices if n.get("decision") == "denied"][:3]
    reg.record_evidence("reason_codes", ref, {"notices": denied})
    table = Table("applicant", "score", "principal reasons (Regulation B)", "withheld",
                  title="Adverse-action reason codes")  # fmt: skip
    for n in denied:
        reasons = "; ".join(f"{r['code']} {r['text']}" for r in n["reasons"])
        table.add_row(str(n["applicant"]), f"{n['score']:.2f}", reasons, ", ".join(n["withheld"]))
    console.print(table)


def _mitigated_version(
    reg: Any, output: Path, ref: str, method: str, estimator: Any, train: Any, policy: Any,
    console: Console, *, comparison: Any,
) -> None:  # fmt: skip
    """Refit the chosen mitigation on the training data, register it as the next version
    (parent: the biased one), record its fairness on the held-out applicants and the
    comparison it was chosen from, gate it with the policy (Registry.evaluate_policy, the
    one gate) and promote it when it passes."""
    import json
    import pickle

    import fairlearn
    import pandas as pd
    import sklearn

    from trustops.assess import assess_fairness
    from trustops.datasets import CREDIT_FEATURES
    from trustops.mitigation import mitigator
    from trustops.reports.fairness import to_json
    from trustops.reports.policy import rich_table as policy_table

    features = list(CREDIT_FEATURES)
    biased = reg.model(ref)
    model = mitigator(method, estimator, sensitive="race", seed=0)
    model.fit(train[[*features, "race"]], train["approved"])  # race at fit time only
    held_out = pd.read_csv(output / "predictions.csv")  # the rows v1 was assessed on
    held_out = held_out.assign(
        score=model.predict_proba(held_out[features])[:, 1],
        prediction=model.predict(held_out[features]),
    )
    report = assess_fairness(
        held_out, y_true="repaid", y_pred="prediction", score="score",
        sensitive=["race", "sex"], privileged={"race": "A"},
    )  # fmt: skip
    (output / "model-mitigated.pkl").write_bytes(pickle.dumps(model))  # stored, never loaded
    mitigated = reg.register_model(
        output / "model-mitigated.pkl", system=biased.system, name=biased.name,
        trained_on=biased.trained_on, parent=biased.ref, code_commit=None,
        framework=f"scikit-learn {sklearn.__version__}, fairlearn {fairlearn.__version__}",
        parameters={"mitigation": method, "constraint": "demographic_parity",
                    "sensitive_at_fit_time": ["race"], "features": features},
    )  # fmt: skip
    new_ref = f"{mitigated.system}/{mitigated.ref}"
    reg.record_evidence("fairness", new_ref, json.loads(to_json(report)))
    reg.record_evidence("mitigation_comparison", new_ref, comparison.to_dict())
    reg.promote(new_ref, "staging")
    decision = reg.evaluate_policy(policy, new_ref)
    console.print(policy_table(decision))
    if not decision.blocked:
        reg.promote(new_ref, "production", reason=f"policy {policy.name}: {decision.outcome}")
        console.print(
            f"[bold green]{mitigated.ref}[/] ({method}, parent {biased.ref}) passes policy "
            f"{policy.name} and is promoted to production"
        )
    else:
        console.print(f"[bold red]{mitigated.ref}[/] ({method}) does not pass {policy.name}")


def _documents(reg: Any, output: Path, system: str, model: Any, data: Any) -> list[str]:
    """The model card, datasheet, Annex IV, EEOC and Art. 30 documents, and the LL144 summary."""
    import pandas as pd

    from trustops.ll144 import ll144_audit
    from trustops.reports import ll144 as ll144_report
    from trustops.reports.documents import render_document

    ref = f"{system}/{model.ref}"
    written = []
    jobs: list[tuple[str, dict[str, Any]]] = [
        ("model_card", {"model": ref}),
        ("annex_iv", {"model": ref}),
        ("eeoc", {"model": ref}),
        ("datasheet", {"dataset": f"{system}/{data.ref}"}),
        ("gdpr_art30", {"system": system}),
    ]
    for kind, subject in jobs:
        for fmt, suffix in (("markdown", "md"), ("html", "html")):
            doc = render_document(reg, kind, fmt=fmt, **subject)
            name = f"{kind.replace('_', '-')}.{suffix}"
            (output / name).write_text(doc.text, encoding="utf-8")
            written.append(name)
    predictions = pd.read_csv(output / "predictions.csv")
    audit = ll144_audit(predictions, sex="sex", race="race", selected="prediction")
    (output / "ll144.md").write_text(
        ll144_report.to_markdown(audit, data_source="predictions.csv"), encoding="utf-8"
    )
    (output / "ll144.html").write_text(
        ll144_report.to_html(audit, data_source="predictions.csv"), encoding="utf-8"
    )
    return [*written, "ll144.md", "ll144.html"]


def _govern(
    output: Path,
    train: Any,
    production: Any,
    model: Any,
    *,
    report_json: str,
    drift_json: str,
    console: Console,
) -> None:
    """Record the demo in a governance workspace: register, attach evidence, promote, roll back.

    The workspace lives in the demo's folder and ignores ``TRUSTOPS_*``
    settings, so the demo never writes into a real store.
    """
    import json
    import pickle
    import shutil

    import pyarrow as pa
    import sklearn
    from rich.table import Table
    from sklearn.base import clone

    from trustops.cli.demo_erasure import demo_settings, erasure_part
    from trustops.cli.demo_monitoring import monitoring_part
    from trustops.cli.demo_privacy import dp_release_part
    from trustops.datasets import CREDIT_FEATURES
    from trustops.engines.files import write_table
    from trustops.governance import Registry, init_workspace, verify_export
    from trustops.governance.workspace import load_settings
    from trustops.policy import load_policy
    from trustops.reports.policy import rich_table as policy_table
    from trustops.reports.policy import to_markdown as policy_markdown

    policy = load_policy("eeoc-four-fifths")
    shutil.rmtree(output / ".trustops", ignore_errors=True)  # the demo starts a fresh log
    workspace = init_workspace(output, actor="demo")
    features = list(CREDIT_FEATURES)
    write_table(pa.Table.from_pandas(train, preserve_index=False), output / "train.parquet")
    write_table(
        pa.Table.from_pandas(production, preserve_index=False), output / "production.parquet"
    )
    # every read of the training data is recorded for its purpose (trustops.governance.usage),
    # its applicant ids indexed by keyed hash for erasure requests (a key outside the store)
    privacy = demo_settings(workspace)
    with Registry.open(settings=load_settings(workspace, env={}, overrides=privacy)) as reg:
        system = reg.create_system(
            "credit-scoring",
            owner="credit risk team",
            purpose="decide consumer credit applications",
            use_case="credit",
            risk="high",
            jurisdictions=["EU", "US-NY"],
        ).name
        train_v = reg.register_dataset(
            output / "train.parquet", system=system, purposes=["creditworthiness assessment"],
            lawful_basis="contract", personal_data=True, retention_days=5 * 365,
            subject_column="applicant_id",
        )  # fmt: skip
        prod_v = reg.register_dataset(output / "production.parquet", system=system)
        (output / "model-v1.pkl").write_bytes(pickle.dumps(model))  # stored, never loaded
        v1 = reg.register_model(
            output / "model-v1.pkl", system=system, name="credit-scorer",
            trained_on=[train_v.ref], framework=f"scikit-learn {sklearn.__version__}",
            parameters={"C": 1.0, "features": features}, code_commit=None,
        )  # fmt: skip
        reg.record_evidence("fairness", f"{system}/{v1.ref}", json.loads(report_json))
        reg.record_evidence("drift", f"dataset:{system}/{prod_v.ref}", json.loads(drift_json))
        reg.promote(f"{system}/{v1.ref}", "staging")
        decision = reg.evaluate_policy(policy, f"{system}/{v1.ref}")
        console.print(policy_table(decision))
        reg.promote(
            f"{system}/{v1.ref}",
            "production",
            reason=f"demo override: policy {policy.name} {decision.outcome} (recorded)",
        )
        retrained = clone(model).set_params(logisticregression__C=0.05)
        retrained.fit(train[features], train["approved"])
        (output / "model-v2.pkl").write_bytes(pickle.dumps(retrained))
        v2 = reg.register_model(
            output / "model-v2.pkl", system=system, name="credit-scorer",
            trained_on=[train_v.ref], parent=v1.ref, parameters={"C": 0.05, "features": features},
            code_commit=None,
        )  # fmt: skip
        reg.promote(f"{system}/{v2.ref}", "staging")
        reg.promote(f"{system}/{v2.ref}", "production", reason="stronger regularisation")
        reg.rollback(system, reason="drift found in the production batch; back to v1")
        _transparency(reg, output, f"{system}/{v1.ref}", v1.artifact_hash, model, train, policy,
                      console)  # fmt: skip
        written = _documents(reg, output, system, v1, train_v)
        # Further parts of the tour, each in a module of its own (cli/demo_*.py), go here.
        monitoring_part(reg, output, f"{system}/{v1.ref}", console)  # monitoring.html
        dp_release_part(reg, system, train_v, output / "train.parquet", console)
        erasure_part(reg, system, output, console)  # three applicants ask to be erased
        entries = reg.audit.entries()
        exported = reg.audit.export(output / "audit.jsonl")
        in_store = reg.audit.verify()
        offline = verify_export(output / "audit.jsonl", verifier=reg.audit.verifier())
        stages = {m.ref: m.stage for m in reg.models(system=system)}
    (output / "policy.md").write_text(policy_markdown(decision), encoding="utf-8")
    console.print(f"regulatory documents (stored as evidence): {', '.join(written)}")
    table = Table("seq", "actor", "action", title="Audit log")
    table.add_column("subject", overflow="fold")
    table.add_column("reason", overflow="fold")
    for e in entries:
        table.add_row(str(e.seq), e.actor, e.action, e.subject, e.reason or "")
    console.print(table)
    console.print(f"stages at the end: {', '.join(f'{k} {v}' for k, v in stages.items())}")
    verdict = "[bold green]verified[/]" if in_store.ok and offline.ok else "[bold red]FAILED[/]"
    console.print(
        f"audit log {verdict}: {exported} entries, {len(offline.log.checkpoints)} signed "
        f"checkpoints, root {offline.log.root.hex()[:16]}… (in the store and offline)"
    )
    if not (in_store.ok and offline.ok):
        for failure in [*in_store.failures, *offline.log.failures]:
            console.print(f"[red]FAIL:[/] {failure}")
        raise typer.Exit(1)


# Data-quality checks the production batch must pass (docs/quality.md).
DEMO_CHECKS = {
    "required_columns": ["applicant_id", "income", "debt_ratio", "age"],
    "row_count": {"min": 1000},
    "columns": {
        "income": {"type": "numeric", "max_null_rate": 0.01, "min": 0},
        "debt_ratio": {"type": "numeric", "min": 0, "max": 1},
        "age": {"type": "numeric", "min": 18, "max": 100},
        "race": {"allowed": ["A", "B", "C", "D", "E"]},
    },
}


def _production_batch(rows: int, seed: int) -> Any:
    """New applicants after an economic shock: lower incomes, more debt; and a PII leak.

    Incomes fall by a quarter and debt ratios rise (so those columns drift, and
    some debt ratios exceed 1, failing a quality check); a free-text ``notes``
    column written by a call-centre tool leaks applicants' e-mail addresses and
    phone numbers.
    """
    import numpy as np
    import pandas as pd

    from trustops.datasets import make_credit

    data = pd.DataFrame(make_credit(rows, seed=seed))
    rng = np.random.default_rng(seed)
    data["income"] = (data["income"] * 0.75).round(1)
    data["debt_ratio"] = (data["debt_ratio"] * 1.35 + 0.05).round(3)
    notes = np.full(rows, "", dtype=object)
    leak = rng.random(rows) < 0.08
    ids = data["applicant_id"].to_numpy()
    for i in np.flatnonzero(leak):
        if i % 2:
            notes[i] = f"call back applicant{ids[i]}@example.com"
        else:
            notes[i] = f"call back +1 415 555 {ids[i] % 10_000:04d}"
    data["notes"] = notes
    return data
