"""Data-usage records: each reading path records who, when, which version, purpose and basis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from trustops.errors import InputError, UsageError
from trustops.governance import Registry
from trustops.governance.usage import PurposeError, record_use, retention_warnings, uses


@pytest.fixture
def credit(registry: Registry) -> Registry:
    registry.create_system("credit", owner="risk team")
    registry.register_dataset(
        pa.table({"x": [1, 2, 3]}), system="credit", name="people", purposes=["scoring"],
        lawful_basis="contract", personal_data=True, retention_days=30,
    )  # fmt: skip
    registry.register_dataset(pa.table({"x": [4]}), system="credit", name="weather")
    return registry


def test_training_and_evaluation_registration_record_a_use_each(credit: Registry) -> None:
    before = credit.audit.size()
    mv = credit.register_model(
        b"w", system="credit", name="scorer", trained_on=["people"], evaluated_on=["people@1"],
        purpose="scoring", code_commit=None,
    )  # fmt: skip
    found = uses(credit, system="credit")
    assert [(u.dataset, u.use, u.purpose, u.lawful_basis, u.outcome) for u in found] == [
        ("credit/people@1", "training", "scoring", "contract", "allowed"),
        ("credit/people@1", "evaluation", "scoring", "contract", "allowed"),
    ]
    assert {u.used_by for u in found} == {"model:credit/scorer@1"}
    entries = credit.audit.entries(start=before)
    assert [e.action for e in entries] == ["data.used", "data.used", "model.registered"]
    used = entries[0]
    assert used.actor == "alice" and used.subject == "dataset:credit/people@1"
    assert used.payload["purpose"] == "scoring" and used.payload["use"] == "training"
    assert used.payload["content_hash"] == credit.dataset("people@1", system="credit").content_hash
    assert [u.audit_seq for u in found] == [entries[0].seq, entries[1].seq]
    assert all(u.created_by == "alice" for u in found)
    assert mv.trained_on == ["people@1"]


def test_a_read_with_no_purpose_is_refused_and_nothing_is_written(credit: Registry) -> None:
    size, models = credit.audit.size(), credit.models()
    with pytest.raises(PurposeError, match="needs a declared purpose") as err:
        credit.register_model(b"w", system="credit", name="m", trained_on=["people"])
    assert "scoring" in (err.value.hint or "") and err.value.status == 403
    assert credit.audit.size() == size and credit.models() == models and uses(credit) == []


def test_an_undeclared_purpose_is_refused(credit: Registry) -> None:
    with pytest.raises(PurposeError, match="'marketing' is not a permitted purpose"):
        credit.register_model(
            b"w", system="credit", name="m", trained_on=["people"], purpose="marketing"
        )
    with pytest.raises(PurposeError):
        record_use(credit, "credit/people@1", use="assessment", purpose="marketing")
    assert uses(credit) == []


def test_the_workspace_default_purpose_and_the_warn_policy(
    open_registry: Callable[..., Registry], credit: Registry
) -> None:
    by_default = open_registry(purpose="scoring")
    by_default.register_model(b"w", system="credit", name="m", trained_on=["people"])
    assert [u.purpose for u in uses(by_default)] == ["scoring"]

    lenient = open_registry(purpose="marketing", purpose_mismatch="warn")
    use = record_use(lenient, "people@1", system="credit", use="profiling")
    assert (use.outcome, use.purpose) == ("warned", "marketing")
    assert any("not a permitted purpose" in w for w in lenient.warnings)
    entry = lenient.audit.entries(action="data.used")[-1]
    assert entry.payload["outcome"] == "warned" and "permitted" in (entry.reason or "")


def test_data_with_no_purposes_declared_is_read_without_one_and_still_recorded(
    credit: Registry,
) -> None:
    before = credit.audit.size()
    credit.register_model(b"w", system="credit", name="m", trained_on=["weather"])
    (use,) = uses(credit, dataset="credit/weather@1")
    assert (use.purpose, use.use, use.used_by) == (None, "training", "model:credit/m@1")
    # the model's own entry records the read: no data.used entry of its own
    (entry,) = credit.audit.entries(start=before)
    assert entry.action == "model.registered" and use.audit_seq == entry.seq
    # the same data read with a purpose gets its own entry
    record_use(credit, "credit/weather@1", use="monitoring", purpose="drift watch")
    assert credit.audit.entries()[-1].payload["purpose"] == "drift watch"


@pytest.mark.parametrize("use", ["assessment", "profiling", "monitoring", "explanation"])
def test_each_reading_path_through_record_use(credit: Registry, use: str) -> None:
    record = record_use(credit, "credit/people", use=use, purpose="scoring", used_by="ci job 7")
    assert (record.use, record.dataset, record.used_by) == (use, "credit/people@1", "ci job 7")
    assert uses(credit, purpose="scoring") == [record]


def test_bad_use_requests(credit: Registry) -> None:
    with pytest.raises(InputError, match="unknown data use"):
        record_use(credit, "credit/people", use="selling", purpose="scoring")
    with pytest.raises(InputError, match="which system"):
        record_use(credit, "people", use="assessment", purpose="scoring")
    with pytest.raises(InputError, match="non-empty"):
        record_use(credit, "credit/people", use="assessment", purpose="  ")
    with pytest.raises(InputError, match="not registered"):
        uses(credit, system="nope")


def test_purpose_mismatch_setting_is_checked(open_registry: Callable[..., Registry]) -> None:
    with pytest.raises(UsageError, match="purpose_mismatch"):
        open_registry(purpose_mismatch="ignore")


def test_retention_warnings(credit: Registry) -> None:
    registered = datetime.fromisoformat(
        credit.dataset("people", system="credit").created_at.replace("Z", "+00:00")
    )
    assert retention_warnings(credit, now=registered, within_days=10) == []
    (soon,) = retention_warnings(credit, now=registered + timedelta(days=25))
    assert soon.dataset == "credit/people@1" and not soon.expired and soon.days_left == 5
    (late,) = retention_warnings(credit, now=registered + timedelta(days=40))
    assert late.expired and "retention ended" in late.message()
    assert late.expires == (registered + timedelta(days=30)).date().isoformat()
    assert retention_warnings(credit, system="credit", now=datetime.now(UTC), within_days=7) == []


def test_a_monitor_reading_a_registered_reference_records_a_use(
    credit: Registry, open_registry: Callable[..., Registry]
) -> None:
    from trustops.monitoring.config import build_config
    from trustops.monitoring.runner import load_reference

    config = build_config(
        {"monitor": "daily", "model": "credit/scorer@1", "window": {"kind": "count", "size": 10},
         "columns": {"prediction": "prediction", "sensitive": ["race"], "features": ["x"]},
         "checks": [{"metric": "drift.share_drifted", "op": "<=", "threshold": 0.5}],
         "reference": "people@1"},
    )  # fmt: skip
    governed = config
    with pytest.raises(PurposeError):  # personal data, and no purpose in this workspace
        load_reference(credit, governed, "credit")
    assert uses(credit) == []
    monitoring = open_registry(purpose="scoring")
    assert load_reference(monitoring, governed, "credit").rows == 3
    (use,) = uses(monitoring)
    assert (use.use, use.purpose, use.dataset) == ("monitoring", "scoring", "credit/people@1")
    assert monitoring.audit.entries()[-1].action == "data.used"


def test_check_on_a_registered_file_records_an_assessment(
    credit: Registry, workspace: Path, tmp_path: Path
) -> None:
    import pyarrow.csv as pacsv
    from typer.testing import CliRunner

    from trustops.cli import app

    path = tmp_path / "scored.csv"
    pacsv.write_csv(
        pa.table({"y": [1, 0, 1, 0] * 10, "p": [1, 0, 0, 1] * 10, "g": ["a", "b"] * 20}), path
    )
    credit.register_dataset(
        path, system="credit", purposes=["bias audit"], personal_data=True, lawful_basis="duty"
    )
    args = ["--workspace", str(workspace), "check", "--policy", "eeoc-four-fifths",
            "--data", str(path), "--y-true", "y", "--y-pred", "p", "--sensitive", "g",
            "--system", "credit"]  # fmt: skip
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "needs a declared purpose" in refused.stderr
    assert uses(credit, dataset="credit/scored@1") == []
    done = CliRunner().invoke(app, [*args, "--purpose", "bias audit"])
    assert done.exit_code in (0, 1), done.output
    (use,) = uses(credit, dataset="credit/scored@1")
    assert (use.use, use.purpose) == ("assessment", "bias audit")
    assert use.used_by == "trustops check --policy eeoc-four-fifths"
    # a file that is not registered is assessed without a record
    other = tmp_path / "other.csv"
    other.write_text(path.read_text() + "1,1,a\n")
    args[args.index(str(path))] = str(other)
    assert CliRunner().invoke(app, args).exit_code in (0, 1)
    assert len(uses(credit)) == 1


def test_reading_data_past_its_retention_warns(credit: Registry) -> None:
    credit.register_dataset(
        pa.table({"x": [9]}), system="credit", name="old", purposes=["scoring"],
        personal_data=True, lawful_basis="contract", retention_days=0,
    )  # fmt: skip
    credit.warnings.clear()
    record_use(credit, "credit/old@1", use="assessment", purpose="scoring")
    assert any("credit/old@1: retention ended" in w for w in credit.warnings)
    assert "retention ended" in (credit.audit.entries()[-1].reason or "")


def test_profiling_a_registered_file_records_a_use(
    credit: Registry, workspace: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from trustops.cli import app

    path = tmp_path / "persons.parquet"
    pq.write_table(pa.table({"age": [31, 45, 52]}), path)
    credit.register_dataset(
        path, system="credit", purposes=["scoring"], personal_data=True, lawful_basis="contract"
    )
    base = ["--workspace", str(workspace), "profile", str(path), "--system", "credit"]
    refused = CliRunner().invoke(app, [*base, "--purpose", "marketing"])
    assert refused.exit_code == 2 and "not a permitted purpose" in refused.stderr
    done = CliRunner().invoke(app, [*base, "--purpose", "scoring", "--format", "json"])
    assert done.exit_code == 0, done.output
    (use,) = uses(credit, dataset="credit/persons@1")
    assert (use.use, use.purpose, use.used_by) == ("profiling", "scoring", "trustops profile")
    # without --system the file is profiled as any file, nothing recorded
    assert CliRunner().invoke(app, ["profile", str(path), "--format", "json"]).exit_code == 0
    assert len(uses(credit)) == 1
