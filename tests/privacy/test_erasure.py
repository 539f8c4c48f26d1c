"""Erasure impact (Art. 17) on a lineage with several dataset and model versions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from trustops.core.policy import build_policy
from trustops.errors import InputError
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.governance.subjects import SubjectKeyError, create_subject_key, subject_hash
from trustops.privacy.erasure import (
    erasure_impact,
    erasure_requests,
    request_erasure,
    retraining_required,
)

KEY = "a test subject key that is long enough to use"


@pytest.fixture
def lineage(open_registry: Callable[..., Registry]) -> Registry:
    """Two systems; raw@1 and raw@2 indexed; clean@1 derived from raw@1; models:

    scorer@1 trained on clean@1, scorer@2 its child trained on raw@2, scorer@3 trained on
    raw@2 only; checker@1 only evaluated on raw@1; other/m@1 in another system on its own data.
    """
    reg = open_registry(subject_key=KEY)
    reg.create_system("credit")
    reg.create_system("other")
    reg.register_dataset(
        pa.table({"applicant_id": [1, 2, 3, 4], "x": [0, 1, 0, 1]}), system="credit",
        name="raw", subject_column="applicant_id",
    )  # fmt: skip
    reg.register_dataset(
        pa.table({"applicant_id": ["5", "6", None], "x": [1, 1, 0]}), system="credit",
        name="raw", subject_column="applicant_id",
    )  # fmt: skip
    reg.register_dataset(
        pa.table({"x": [0, 1]}), system="credit", name="clean", derived_from=["raw@1"]
    )
    reg.register_dataset(pa.table({"id": [2, 9]}), system="other", name="own", subject_column="id")
    reg.register_model(b"1", system="credit", name="scorer", trained_on=["clean@1"])
    reg.register_model(
        b"2", system="credit", name="scorer", trained_on=["raw@2"], parent="scorer@1"
    )
    reg.register_model(b"3", system="credit", name="scorer", trained_on=["raw@2"])
    reg.register_model(b"c", system="credit", name="checker", evaluated_on=["raw@1"])
    reg.register_model(b"o", system="other", name="m", trained_on=["own"])
    return reg


def test_the_index_holds_keyed_hashes_only(lineage: Registry) -> None:
    with lineage.db.read() as conn:
        indexes = conn.execute(t.subject_indexes.select()).all()
        hashes = set(conn.execute(t.subject_hashes.select()).all())
    assert sorted((i.column, i.subjects) for i in indexes) == [
        ("applicant_id", 2),
        ("applicant_id", 4),
        ("id", 2),
    ]  # fmt: skip  (the null id is not a subject)
    assert len({i.key_id for i in indexes}) == 1
    assert all(len(h.subject_hash) == 64 for h in hashes)
    raw1 = lineage.dataset("raw@1", system="credit").id
    assert (subject_hash(KEY.encode(), "3"), raw1) in hashes
    registered = lineage.audit.entries(action="dataset.registered")[0]
    assert registered.payload["subject_index"]["subjects"] == 4


def test_erasure_finds_data_and_models_through_lineage(lineage: Registry, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# case 17\n3\n\n 5 \n2\n77\n")
    preview = erasure_impact(lineage, ids)
    assert preview.id is None and lineage.audit.entries(action="erasure.requested") == []
    done = request_erasure(lineage, ids, reference="case-17")
    assert (done.subjects, done.found) == (4, 3)
    assert done.datasets == {"credit/raw@1": 2, "credit/raw@2": 1, "other/own@1": 1}
    assert done.derived == ["credit/clean@1"]
    # checker@1 was only evaluated on raw@1: nothing to retrain
    assert done.models == ["credit/scorer@1", "credit/scorer@2", "credit/scorer@3", "other/m@1"]
    assert (preview.datasets, preview.models) == (done.datasets, done.models)
    for ref in ("credit/scorer@1", "credit/scorer@2", "credit/scorer@3", "other/m@1"):
        assert retraining_required(lineage, ref)
    assert not retraining_required(lineage, "checker@1")
    assert erasure_requests(lineage)[0].models == done.models


def test_the_audit_log_records_the_steps_and_no_raw_id(lineage: Registry) -> None:
    before = lineage.audit.size()
    done = request_erasure(lineage, ["2", "4"], reference="case-18")
    entries = lineage.audit.entries(start=before)
    requested = entries[0]
    assert requested.action == "erasure.requested"
    assert requested.subject == f"erasure:{done.id}"
    assert requested.payload["subjects"] == 2 and requested.payload["found"] == 2
    assert requested.payload["subject_hashes"] == sorted(
        subject_hash(KEY.encode(), i) for i in ("2", "4")
    )
    steps = [(e.subject, e.payload["step"]) for e in entries[1:]]
    assert ("dataset:credit/raw@1", "erase_from_source") in steps
    assert ("dataset:credit/clean@1", "review_derived") in steps
    assert ("model:credit/scorer@1", "retraining_required") in steps
    text = json.dumps([e.payload for e in entries])
    assert '"2"' not in text and '"4"' not in text  # hashes and record ids only
    assert lineage.audit.verify().ok


def test_a_policy_blocks_promotion_of_a_marked_model(lineage: Registry) -> None:
    policy = build_policy(
        {"policy": "erasure", "rules": [{"id": "no-erased-subjects", "evidence": "erasure",
         "metric": "retraining_required", "op": "==", "threshold": False}]}
    )  # fmt: skip
    assert lineage.evaluate_policy(policy, "scorer@3", record=False).outcome == "pass"
    request_erasure(lineage, ["6"])
    assert lineage.evaluate_policy(policy, "scorer@3", record=False).outcome == "fail"
    assert lineage.evaluate_policy(policy, "checker@1", record=False).outcome == "pass"
    # a version trained later on the same data still holds the person: still blocked
    late = lineage.register_model(b"4", system="credit", name="late", trained_on=["raw@2"])
    assert not retraining_required(lineage, late.ref)
    assert lineage.evaluate_policy(policy, late.ref, record=False).outcome == "fail"
    # retrained on data without them: passes
    lineage.register_dataset(pa.table({"applicant_id": [5], "x": [1]}), system="credit",
                             name="raw", subject_column="applicant_id")  # fmt: skip
    fresh = lineage.register_model(b"5", system="credit", name="late", trained_on=["raw@3"])
    assert lineage.evaluate_policy(policy, fresh.ref, record=False).outcome == "pass"


def test_gdpr_pack_blocks_a_marked_model(lineage: Registry) -> None:
    from trustops.policy import load_policy

    gdpr = load_policy("gdpr")
    rule = "art17-retraining-after-erasure"
    before = lineage.evaluate_policy(gdpr, "scorer@3", record=False)
    assert {r.id: r.effect for r in before.rules}[rule] == "pass"
    request_erasure(lineage, ["5"])
    after = lineage.evaluate_policy(gdpr, "scorer@3", record=False)
    assert {r.id: r.effect for r in after.rules}[rule] == "fail"


def test_malformed_ids_name_the_line_and_record_nothing(lineage: Registry, tmp_path: Path) -> None:
    size = lineage.audit.size()
    bad = tmp_path / "ids.txt"
    bad.write_text("1\n2\nsecret person name\n")
    with pytest.raises(InputError, match=r"ids.txt, line 3: not a subject id") as err:
        request_erasure(lineage, bad)
    assert "secret" not in str(err.value)  # the line's content is not echoed
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(InputError, match="holds no ids"):
        request_erasure(lineage, tmp_path / "empty.txt")
    with pytest.raises(InputError, match="does not exist"):
        request_erasure(lineage, tmp_path / "missing.txt")
    with pytest.raises(InputError, match="case number"):
        request_erasure(lineage, ["1"], reference="Jane Doe")
    assert lineage.audit.size() == size and erasure_requests(lineage) == []


def test_missing_or_wrong_key_is_a_clear_error(
    open_registry: Callable[..., Registry], lineage: Registry, tmp_path: Path
) -> None:
    size = lineage.audit.size()
    with pytest.raises(SubjectKeyError, match="no subject key is configured"):
        request_erasure(open_registry(), ["1"])
    with pytest.raises(SubjectKeyError, match="is not the key that indexed 3 dataset"):
        request_erasure(open_registry(subject_key="another key, long enough to be a key"), ["1"])
    with pytest.raises(SubjectKeyError, match="too short"):
        request_erasure(open_registry(subject_key="short"), ["1"])
    key = create_subject_key(tmp_path / "subject.key")
    os.chmod(key, 0o644)
    with pytest.raises(SubjectKeyError, match="readable by others"):
        request_erasure(open_registry(subject_key=str(key)), ["1"])
    with pytest.raises(SubjectKeyError, match="does not exist"):
        request_erasure(open_registry(subject_key=str(tmp_path / "none.key")), ["1"])
    assert lineage.audit.size() == size


def test_registering_with_a_subject_column_needs_the_key(
    open_registry: Callable[..., Registry],
) -> None:
    reg = open_registry()
    reg.create_system("s")
    with pytest.raises(SubjectKeyError):
        reg.register_dataset(pa.table({"id": [1]}), system="s", name="d", subject_column="id")
    with pytest.raises(InputError, match="column 'nope' not found"):
        open_registry(subject_key=KEY).register_dataset(
            pa.table({"id": [1]}), system="s", name="d", subject_column="nope"
        )
    assert reg.datasets() == []
