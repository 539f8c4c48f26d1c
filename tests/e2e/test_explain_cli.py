"""``trustops explain`` and ``trustops reasons`` end to end through Typer's runner.

Models (logistic regression on named columns, gradient boosting on a bare array)
fitted on a few hundred ``make_credit`` rows and saved with joblib/pickle; the
registry built with the Python API for ``--record``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from trustops.cli import app
from trustops.datasets import CREDIT_FEATURES, make_credit
from trustops.governance import Registry, init_workspace

runner = CliRunner()
AS_OF = "2026-01-01T00:00:00Z"
NOT_FEATURES = ("--drop", "applicant_id", "--drop", "repaid", "--target", "approved")


def run(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("explain")
    frame = pd.DataFrame(make_credit(300, seed=5))
    X = frame[list(CREDIT_FEATURES)]
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, frame.approved), folder / "lr.joblib")
    gb = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0)
    with open(folder / "gb.pkl", "wb") as f:
        pickle.dump(gb.fit(X.to_numpy(), frame.approved), f)
    coded = frame.assign(race=(frame.race == "C").astype(int), sex=(frame.sex == "male") * 1)
    for basis in ("race", "sex"):
        fitted = LogisticRegression(max_iter=1000).fit(
            coded[[*CREDIT_FEATURES, basis]], frame.approved
        )
        joblib.dump(fitted, folder / f"{basis}.joblib")
    frame.to_csv(folder / "credit.csv", index=False)
    coded.to_csv(folder / "coded.csv", index=False)
    reasons = {f: {"code": f"R{i:02d}", "text": f"{f} text"} for i, f in enumerate(CREDIT_FEATURES)}
    (folder / "codes.json").write_text(json.dumps({"version": "2026-11", "reasons": reasons}))
    del reasons["debt_ratio"]
    (folder / "partial.json").write_text(json.dumps({"version": "x", "reasons": reasons}))
    return {p.name: p for p in folder.iterdir()}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("TRUSTOPS_DATABASE_URL", "TRUSTOPS_ACTOR", "TRUSTOPS_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    for var in ("TRUSTOPS_SIGNING_KEY", "TRUSTOPS_ARTIFACTS", "TRUSTOPS_CHECKPOINT_COPY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def fails_with(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for word in words:
        assert word in lines[0]


# --- explain ----------------------------------------------------------------------------------


def test_explain_table_names_every_feature(files: dict[str, Path], here: Path) -> None:
    result = run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"])
    assert result.exit_code == 0, result.output
    assert "shap.LinearExplainer" in result.output
    for feature in CREDIT_FEATURES:
        assert feature in result.output


def test_explain_json_plot_and_groups_for_an_unnamed_model(
    files: dict[str, Path], here: Path
) -> None:
    result = run(
        "explain", "--model", files["gb.pkl"], "--data", files["credit.csv"], *NOT_FEATURES,
        "--sensitive", "race", "--sensitive", "sex", "--format", "json", "-o", "e.json",
        "--plot", "bar.svg",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    content = json.loads((here / "e.json").read_text())
    assert content["method"] == "tree" and content["output"] == "probability"
    assert content["features"] == list(CREDIT_FEATURES)
    assert content["model"]["sha256"] and content["baseline_hash"]
    assert set(content["by_group"]) == {"race", "sex"}
    assert set(content["by_group"]["race"]["groups"]) == {"A", "B", "C", "D", "E"}
    assert (here / "bar.svg").read_text().lstrip().startswith("<?xml")


def test_explain_names_the_extra_column(files: dict[str, Path], here: Path) -> None:
    result = run("explain", "--model", files["gb.pkl"], "--data", files["credit.csv"])
    fails_with(result, "11 feature columns", "6 inputs", "late_payments")


def test_explain_names_a_missing_feature(files: dict[str, Path], here: Path) -> None:
    frame = pd.read_csv(files["credit.csv"]).drop(columns=["zip_score"])
    frame.to_csv(here / "short.csv", index=False)
    fails_with(run("explain", "--model", files["lr.joblib"], "--data", "short.csv"), "zip_score")


@pytest.fixture
def registered(files: dict[str, Path], here: Path) -> str:
    init_workspace(here)
    with Registry.open(here) as reg:
        reg.create_system("credit")
        mv = reg.register_model(files["lr.joblib"], system="credit", name="scorer")
    return mv.ref


def test_explain_record_checks_the_hash(
    files: dict[str, Path], here: Path, registered: str
) -> None:
    ok = run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"],
             "--record", registered)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    wrong = run("explain", "--model", files["gb.pkl"], "--data", files["credit.csv"],
                *NOT_FEATURES, "--record", registered)  # fmt: skip
    fails_with(wrong, "sha256", "scorer@1")
    with Registry.open(here) as reg:
        records = reg.evidence(subject=reg.model(registered))
    assert [e.kind for e in records] == ["explanation"]
    assert records[0].content["model"]["version"] == "credit/scorer@1"


def test_explain_records_proxy_evidence(
    files: dict[str, Path], here: Path, registered: str
) -> None:
    result = run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"],
                 "--sensitive", "race", "--proxies", "--format", "json",
                 "--record", registered)  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["proxies"]["attributes"] == ["race"]
    assert {f["column"] for f in shown["proxies"]["features"]} == set(CREDIT_FEATURES)
    with Registry.open(here) as reg:
        records = {e.kind: e.content for e in reg.evidence(subject=reg.model(registered))}
    assert set(records) == {"explanation", "proxies"}
    assert records["proxies"] == shown["proxies"] and "proxies" not in records["explanation"]
    assert records["proxies"]["model"]["version"] == "credit/scorer@1"
    table = run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"],
                "--sensitive", "race", "--proxies")  # fmt: skip
    assert table.exit_code == 0 and "Proxies of race" in table.output
    fails_with(run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"],
                   "--proxies"), "--sensitive")  # fmt: skip


def test_explain_says_how_features_were_matched(files: dict[str, Path], here: Path) -> None:
    unnamed = run("explain", "--model", files["gb.pkl"], "--data", files["credit.csv"],
                  *NOT_FEATURES, "--drop", "race", "--drop", "sex", "--format", "json")  # fmt: skip
    assert json.loads(unnamed.output)["features_matched_by"] == "position"
    named = run("explain", "--model", files["lr.joblib"], "--data", files["credit.csv"],
                "--format", "json")  # fmt: skip
    assert json.loads(named.output)["features_matched_by"] == "name"


# --- reasons ----------------------------------------------------------------------------------


def reasons(
    files: dict[str, Path], *more: object, model: str = "lr.joblib", data: str = "credit.csv"
) -> Any:
    return run(
        "reasons", "--model", files[model], "--data", files[data],
        "--dictionary", files["codes.json"], "--id", "applicant_id", "--as-of", AS_OF, *more,
    )  # fmt: skip


def test_reasons_for_denied_applicants(files: dict[str, Path], here: Path) -> None:
    result = reasons(files, "--max-reasons", 2, "--proxy", "zip_score", "--format", "json")
    assert result.exit_code == 0, result.output
    content = json.loads(result.output)
    codes = {f"R{i:02d}" for i in range(len(CREDIT_FEATURES))}
    notices = content["notices"]
    assert len(notices) == 300 and content["denied"] > 0
    for n in notices:
        if n["decision"] == "approved":
            assert n["score"] >= 0.5 and n["message"] == "approved, no adverse action"
            assert "reasons" not in n
            continue
        assert n["score"] < 0.5
        assert 1 <= len(n["reasons"]) <= 2
        assert {r["code"] for r in n["reasons"]} <= codes
        assert "zip_score" not in {r["concept"] for r in n["reasons"]}
        assert n["explainer"] == "shap.LinearExplainer" and n["baseline_hash"]
        assert set(n["attributions"]) == set(CREDIT_FEATURES)
        assert n["time"] == AS_OF and n["model"]["sha256"] == content["model"]["sha256"]
    assert any(n["withheld"] == ["zip_score"] for n in notices if n["decision"] == "denied")
    assert any(n["decision"] == "approved" for n in notices)


def test_reasons_from_an_approved_baseline(files: dict[str, Path], here: Path) -> None:
    result = reasons(files, "--baseline", "approved", "--format", "json")
    assert result.exit_code == 0, result.output
    content = json.loads(result.output)
    assert content["baseline"] == "approved"
    denied = [n for n in content["notices"] if n["decision"] == "denied"]
    assert denied and all(n["baseline"] == "approved" for n in denied)
    assert all(n["background_rows"] < 100 for n in denied)


def test_reasons_are_reproducible_with_as_of(files: dict[str, Path], here: Path) -> None:
    drops = [*NOT_FEATURES[:4], "--drop", "approved", "--drop", "race", "--drop", "sex"]
    first = reasons(files, *drops, "--format", "json", model="gb.pkl")
    assert first.exit_code == 0, first.output
    again = reasons(files, *drops, "--format", "json", model="gb.pkl")
    assert first.output == again.output
    assert json.loads(first.output)["notices"][0]["explainer"] == "shap.TreeExplainer"


def test_reasons_for_one_inline_applicant(files: dict[str, Path], here: Path) -> None:
    applicant = {"income": 20, "debt_ratio": 0.6, "credit_history_years": 1,
                 "late_payments": 3, "age": 30, "zip_score": -1}  # fmt: skip
    result = run(
        "reasons", "--model", files["lr.joblib"], "--dictionary", files["codes.json"],
        "--applicant", json.dumps(applicant), "--background", files["credit.csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "denied" in result.output and "late_payments text" in result.output


def test_a_dictionary_missing_a_feature_is_an_error(files: dict[str, Path], here: Path) -> None:
    result = run("reasons", "--model", files["lr.joblib"], "--data", files["credit.csv"],
                 "--dictionary", files["partial.json"])  # fmt: skip
    fails_with(result, "debt_ratio")


@pytest.mark.parametrize("basis", ["race", "sex"])
def test_a_prohibited_basis_as_input_is_an_error(
    files: dict[str, Path], here: Path, basis: str
) -> None:
    model = f"{basis}.joblib"
    fails_with(reasons(files, model=model, data="coded.csv"), basis, "prohibited")
    allowed = reasons(
        files, "--allow-input", basis, "--format", "json", model=model, data="coded.csv"
    )
    assert allowed.exit_code == 0, allowed.output
    notices = json.loads(allowed.output)["notices"]
    for n in notices:
        assert basis not in {r["concept"] for r in n.get("reasons", [])}
    assert any(basis in n.get("withheld", []) for n in notices)


def test_reasons_record_stores_one_evidence_record(
    files: dict[str, Path], here: Path, registered: str
) -> None:
    result = reasons(files, "--record", registered, "--format", "json")
    assert result.exit_code == 0, result.output
    with Registry.open(here) as reg:
        records = reg.evidence(subject=reg.model(registered))
    assert [e.kind for e in records] == ["reason_codes"]
    assert records[0].content == json.loads(result.output)
    assert records[0].content["model"]["version"] == "credit/scorer@1"
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_reasons_record_refuses_another_file(
    files: dict[str, Path], here: Path, registered: str
) -> None:
    drops = [*NOT_FEATURES[:4], "--drop", "approved", "--drop", "race", "--drop", "sex"]
    result = reasons(files, *drops, "--record", registered, model="gb.pkl")
    fails_with(result, "sha256", "scorer@1")
    with Registry.open(here) as reg:
        assert reg.evidence(subject=reg.model(registered)) == []


def test_reasons_name_a_feature_the_data_lacks(files: dict[str, Path], here: Path) -> None:
    frame = pd.read_csv(files["credit.csv"]).drop(columns=["zip_score"])
    frame.to_csv(here / "short.csv", index=False)
    result = run("reasons", "--model", files["lr.joblib"], "--data", "short.csv",
                 "--dictionary", files["codes.json"])  # fmt: skip
    fails_with(result, "zip_score")


def test_reasons_for_an_unnamed_model_check_the_column_count(
    files: dict[str, Path], here: Path
) -> None:
    result = reasons(files, model="gb.pkl")
    fails_with(result, "feature columns for the model's 6 inputs", "matched by position")
