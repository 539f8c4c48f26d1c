"""The registry: systems, datasets, models, evidence, stages, rollback, lineage.

Every test runs on SQLite (a real file) and on PostgreSQL (a fresh schema)
through the ``registry`` / ``open_registry`` fixtures of ``conftest.py``.
After every refused action the store must be exactly as it was: the same
rows in every table, the same audit log size, and a log that verifies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.audit import canonical_json
from trustops.core.lifecycle import STAGES, TRANSITIONS, IllegalTransitionError
from trustops.core.profiles import from_bytes
from trustops.errors import InputError, UsageError
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.governance import schema as t
from trustops.governance.artifacts import CorruptArtifactError
from trustops.governance.registry import content_hash_of

# -- helpers ---------------------------------------------------------------------------


def _rows(registry: Registry) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with registry.db.read() as conn:
        return {
            name: [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))]
            for name, table in t.metadata.tables.items()
        }


def _counts(registry: Registry) -> dict[str, int]:
    with registry.db.read() as conn:
        counts = {
            name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for name, table in t.metadata.tables.items()
        }
    counts["audit log size"] = registry.audit.size()
    return counts


def _objects(registry: Registry) -> list[str]:
    root = registry.artifacts.root
    assert root is not None
    return sorted(p.name for p in (root / "objects").rglob("*") if p.is_file())


@contextlib.contextmanager
def refused(
    registry: Registry, error: type[BaseException], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The action in the block raises ``error`` and changes nothing in the store."""
    counts, rows, objects = _counts(registry), _rows(registry), _objects(registry)
    with pytest.raises(error, match=match) as caught:
        yield caught
    assert _counts(registry) == counts
    assert _rows(registry) == rows
    assert _objects(registry) == objects
    result = registry.audit.verify()
    assert result.ok, result


def _actions(registry: Registry) -> list[str]:
    return [e.action for e in registry.audit.entries()]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def credit(registry: Registry) -> Registry:
    """A registry with one system, "credit"."""
    registry.create_system("credit", owner="risk team", risk="high", use_case="credit")
    return registry


def _model(registry: Registry, name: str = "scorer", data: bytes | None = None, **kw: Any) -> Any:
    """Register a model version with distinct bytes (no git lookup)."""
    kw.setdefault("system", "credit")
    kw.setdefault("code_commit", None)
    data = data if data is not None else os.urandom(16)
    return registry.register_model(data, name=name, **kw)


# -- systems -----------------------------------------------------------------------------


def test_create_system(registry: Registry) -> None:
    system = registry.create_system(
        "credit",
        owner="risk team",
        purpose="score loan applications",
        use_case="credit",
        risk="high",
        jurisdictions=["EU", "UK", "EU"],
    )
    assert (system.name, system.owner, system.risk, system.use_case) == (
        "credit",
        "risk team",
        "high",
        "credit",
    )
    assert system.jurisdictions == ["EU", "UK"]
    assert system.single_production is True
    assert system.created_by == "alice"
    assert registry.system("credit") == system
    assert [s.name for s in registry.systems()] == ["credit"]
    entries = registry.audit.entries()
    assert [(e.seq, e.action, e.subject, e.actor) for e in entries] == [
        (0, "system.created", "system:credit", "alice")
    ]
    assert entries[0].payload == system.to_dict()
    assert registry.audit.verify().ok
    for name in ("zeta", "alpha", "mid"):
        registry.create_system(name)
    assert [s.name for s in registry.systems()] == ["alpha", "credit", "mid", "zeta"]
    assert registry.system("mid").risk is None
    assert registry.system("mid").jurisdictions == []


def test_duplicate_system_is_a_conflict(credit: Registry) -> None:
    with refused(credit, ConflictError, "already exists") as caught:
        credit.create_system("credit", owner="someone else")
    assert caught.value.status == 409
    assert credit.system("credit").owner == "risk team"


def test_unknown_risk_category_is_refused(registry: Registry) -> None:
    for risk in ("extreme", "High", "", "unacceptable"):
        with refused(registry, InputError, "risk category") as caught:
            registry.create_system("credit", risk=risk)
        assert caught.value.hint is not None and "prohibited" in caught.value.hint
    assert [registry.create_system(r, risk=r).risk for r in ("prohibited", "high")] == [
        "prohibited",
        "high",
    ]


_BAD_NAMES = [
    "",
    "-credit",
    ".hidden",
    "a/b",
    "a b",
    "../etc",
    "x" * 201,
    "crédit",
    "name\n",
    "a@1",
]


def test_bad_system_names_are_refused(registry: Registry) -> None:
    for name in [*_BAD_NAMES, None]:
        with refused(registry, InputError, "invalid system name"):
            registry.create_system(name)  # type: ignore[arg-type]
    name = "x" * 200
    assert registry.create_system(name).name == name


def test_unknown_system_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="not registered"):
        registry.system("nope")
    with refused(registry, NotFoundError, "not registered"):
        registry.register_dataset(pa.table({"x": [1]}), system="nope", name="d")
    with refused(registry, NotFoundError, "not registered"):
        registry.register_model(b"w", system="nope", name="m", code_commit=None)


# -- datasets ----------------------------------------------------------------------------


def test_file_dataset_is_hashed_by_its_bytes(credit: Registry, tmp_path: Path) -> None:
    path = _csv(tmp_path / "train.csv", "a,b,s\n1,0.5,x\n2,,y\n3,2.5,\n")
    dv = credit.register_dataset(path, system="credit", purposes=["scoring", "scoring", "audit"])
    assert (dv.ref, dv.name, dv.version, dv.system) == ("train@1", "train", 1, "credit")
    assert dv.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dv.hash_method == "file"
    assert dv.source == str(path.resolve())
    assert dv.permitted_purposes == ["audit", "scoring"]
    assert dv.created_by == "alice"
    assert [e.action for e in credit.audit.entries()][-1] == "dataset.registered"

    before = _counts(credit)
    again = credit.register_dataset(path, system="credit")
    assert again == dv
    assert _counts(credit) == before  # nothing new recorded

    copy = _csv(tmp_path / "elsewhere.csv", path.read_text())
    same_bytes = credit.register_dataset(copy, system="credit", name="train")
    assert same_bytes == dv  # the bytes decide, not the path
    assert _counts(credit) == before


def test_dataset_schema_rows_and_profile_are_stored(credit: Registry, tmp_path: Path) -> None:
    path = _csv(tmp_path / "train.csv", "a,b,s\n1,0.5,x\n2,,y\n3,2.5,\n")
    dv = credit.register_dataset(path, system="credit")
    assert dv.schema == [
        {"name": "a", "type": "int64"},
        {"name": "b", "type": "double"},
        {"name": "s", "type": "string"},
    ]
    assert dv.row_count == 3
    assert dv.profile_hash is not None
    profile = from_bytes(credit.artifacts.read(dv.profile_hash))
    assert profile.rows == 3
    assert credit.dataset("train@1", system="credit") == dv


def test_dataset_without_profile_still_counts_rows(credit: Registry) -> None:
    dv = credit.register_dataset(
        pa.table({"x": list(range(7))}), system="credit", name="small", profile=False
    )
    assert (dv.row_count, dv.profile_hash) == (7, None)
    assert _objects(credit) == []


def test_dataset_governance_fields(credit: Registry) -> None:
    dv = credit.register_dataset(
        pa.table({"x": [1]}),
        system="credit",
        name="people",
        source="crm export",
        lawful_basis="contract",
        personal_data=True,
        retention_days=365,
    )
    stored = credit.dataset("people", system="credit")
    assert stored == dv
    assert (stored.source, stored.lawful_basis, stored.personal_data, stored.retention_days) == (
        "crm export",
        "contract",
        True,
        365,
    )
    with refused(credit, InputError, "retention_days"):
        credit.register_dataset(
            pa.table({"x": [2]}), system="credit", name="people", retention_days=-1
        )


def _frames() -> dict[str, Any]:
    values: dict[str, list[Any]] = {
        "id": [1, 2, 3, 4],
        "score": [0.5, None, 2.25, -1.0],
        "city": ["Paris", None, "Lyon", "Paris"],
        "flag": [True, False, True, True],
    }
    arrow = pa.table(values)
    bigger = pa.table({k: [v[0], *v, v[-1]] for k, v in values.items()}).slice(1, 4)
    return {
        "pandas": pd.DataFrame(values),
        "pandas categorical": pd.DataFrame(values).astype({"city": "category"}),
        "polars": pl.DataFrame(values),
        "polars categorical": pl.DataFrame(values).with_columns(
            pl.col("city").cast(pl.Categorical)
        ),
        "arrow": arrow,
        "arrow chunked": pa.concat_tables([arrow.slice(0, 1), arrow.slice(1)]),
        "arrow slice": bigger,
        "arrow dictionary": arrow.set_column(2, "city", arrow.column("city").dictionary_encode()),
    }


def test_same_values_give_the_same_hash_from_every_frame_library() -> None:
    hashes = {kind: content_hash_of(frame)[0] for kind, frame in _frames().items()}
    assert len(set(hashes.values())) == 1, hashes
    assert all(content_hash_of(f)[1] == "arrow" for f in _frames().values())
    different = pa.table({"id": [1, 2, 3, 4], "score": [0.5, None, 2.25, -1.5]})
    assert content_hash_of(different)[0] not in hashes.values()
    # a null is not the value that happened to sit under it
    assert (
        content_hash_of(pa.table({"x": [1.0, None]}))[0]
        != content_hash_of(pa.table({"x": [1.0, 0.0]}))[0]
    )


_JUNK = {"f": 1.5, "s": "junk", "i": 7, "b": True}
_POLARS = {"f": pl.Float64, "s": pl.String, "i": pl.Int64, "b": pl.Boolean}
_PANDAS = {"f": "Float64", "s": "string[pyarrow]", "i": "Int64", "b": "boolean"}
_SCHEMA = pa.schema([("f", pa.float64()), ("s", pa.string()), ("i", pa.int64()), ("b", pa.bool_())])


@st.composite
def _columns(draw: Any) -> dict[str, list[Any]]:
    n = draw(st.integers(1, 12))

    def column(values: Any) -> list[Any]:
        return list(draw(st.lists(st.none() | values, min_size=n, max_size=n)))

    return {
        "f": column(st.floats(allow_nan=False)),
        "s": column(st.text(max_size=4)),
        "i": column(st.integers(-(2**63), 2**63 - 1)),
        "b": column(st.booleans()),
    }


@given(values=_columns(), pad=st.integers(0, 9), cut=st.integers(0, 12))
def test_content_hash_depends_only_on_the_values(
    values: dict[str, list[Any]], pad: int, cut: int
) -> None:
    arrow = pa.table(values, schema=_SCHEMA)
    n = arrow.num_rows
    expected = content_hash_of(arrow)[0]
    # the same values as a slice of a larger table with other values around them
    padded = pa.table({k: [_JUNK[k]] * pad + v + [_JUNK[k]] * pad for k, v in values.items()})
    assert content_hash_of(padded.cast(_SCHEMA).slice(pad, n))[0] == expected
    # in two chunks, and through Polars
    cut = min(cut, n)
    assert content_hash_of(pa.concat_tables([arrow.slice(0, cut), arrow.slice(cut)]))[0] == expected
    assert content_hash_of(pl.from_arrow(arrow))[0] == expected
    # built by Polars and by pandas (nullable dtypes) themselves
    native = pl.DataFrame(values, schema=_POLARS, strict=False)
    assert content_hash_of(native)[0] == expected
    frame = pd.DataFrame({k: pd.Series(v, dtype=_PANDAS[k]) for k, v in values.items()})
    assert content_hash_of(frame)[0] == expected
    # a null and a value differ
    changed = dict(values)
    changed["b"] = [None if v is not None else False for v in values["b"]]
    assert content_hash_of(pa.table(changed, schema=_SCHEMA))[0] != expected


def test_in_memory_frames_with_the_same_values_are_one_version(credit: Registry) -> None:
    frames = _frames()
    first = credit.register_dataset(frames.pop("arrow"), system="credit", name="applicants")
    assert (first.ref, first.hash_method, first.row_count) == ("applicants@1", "arrow", 4)
    before = _counts(credit)
    for kind, frame in frames.items():
        assert credit.register_dataset(frame, system="credit", name="applicants") == first, kind
    assert _counts(credit) == before


def test_dataset_versions_are_numbered(credit: Registry, tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    v1 = credit.register_dataset(_csv(path, "a\n1\n"), system="credit")
    v2 = credit.register_dataset(_csv(path, "a\n1\n2\n"), system="credit")
    v3 = credit.register_dataset(_csv(path, "a\n1\n2\n3\n"), system="credit")
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert [v.row_count for v in (v1, v2, v3)] == [1, 2, 3]
    back = credit.register_dataset(_csv(path, "a\n1\n"), system="credit")
    assert back == v1  # old content is the old version, not a fourth
    assert credit.dataset("train", system="credit") == v3  # NAME is the latest
    assert credit.dataset("train@2", system="credit") == v2
    other = credit.register_dataset(_csv(path, "a\n1\n"), system="credit", name="holdout")
    assert other.ref == "holdout@1"  # numbering is per dataset
    assert [d.ref for d in credit.datasets(system="credit")] == [
        "holdout@1",
        "train@1",
        "train@2",
        "train@3",
    ]


def test_same_dataset_name_in_two_systems(credit: Registry) -> None:
    credit.create_system("fraud")
    a = credit.register_dataset(pa.table({"x": [1]}), system="credit", name="train")
    b = credit.register_dataset(pa.table({"x": [1]}), system="fraud", name="train")
    assert a.id != b.id and (a.ref, b.ref) == ("train@1", "train@1")
    assert (a.system, b.system) == ("credit", "fraud")
    assert [d.system for d in credit.datasets()] == ["credit", "fraud"]


def test_derived_from_records_lineage(credit: Registry) -> None:
    raw = credit.register_dataset(pa.table({"x": [1, 2, None]}), system="credit", name="raw")
    extra = credit.register_dataset(pa.table({"y": [5]}), system="credit", name="extra")
    clean = credit.register_dataset(
        pa.table({"x": [1, 2]}), system="credit", name="clean", derived_from=["raw@1", "extra"]
    )
    assert clean.parents == ["extra@1", "raw@1"]
    assert raw.parents == [] and extra.parents == []
    assert credit.dataset("clean@1", system="credit").parents == ["extra@1", "raw@1"]
    audit = credit.audit.entries(action="dataset.registered")[-1]
    assert audit.payload["parents"] == ["extra@1", "raw@1"]
    # one reference or purpose as a plain string, as for trained_on and jurisdictions
    single = credit.register_dataset(
        pa.table({"x": [2]}), system="credit", name="clean", derived_from="raw@1", purposes="audit"
    )
    assert (single.parents, single.permitted_purposes) == (["raw@1"], ["audit"])


def test_derived_from_an_unknown_dataset_writes_nothing(credit: Registry) -> None:
    credit.register_dataset(pa.table({"x": [1]}), system="credit", name="raw")
    for ref, error in (("raw@2", NotFoundError), ("nothing", NotFoundError), ("raw@x", InputError)):
        with refused(credit, error):
            credit.register_dataset(
                pa.table({"x": [2]}), system="credit", name="clean", derived_from=[ref]
            )


def test_bad_dataset_inputs(credit: Registry, tmp_path: Path) -> None:
    with refused(credit, InputError, "is not a file"):
        credit.register_dataset(tmp_path / "missing.csv", system="credit")
    with refused(credit, InputError, "invalid dataset name"):
        credit.register_dataset(pa.table({"x": [1]}), system="credit", name="../up")
    with refused(credit, UsageError, "name="):
        credit.register_dataset(pa.table({"x": [1]}), system="credit")


# -- models -----------------------------------------------------------------------------


@pytest.fixture
def data(credit: Registry, tmp_path: Path) -> Path:
    """Datasets train@1, train@2 (train.csv) and test@1 in "credit"; returns train.csv."""
    path = tmp_path / "train.csv"
    credit.register_dataset(_csv(path, "a,y\n1,0\n"), system="credit")
    credit.register_dataset(_csv(path, "a,y\n1,0\n2,1\n"), system="credit")
    credit.register_dataset(pa.table({"a": [3], "y": [1]}), system="credit", name="test")
    return path


def test_model_from_a_file(credit: Registry, data: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "scorer.pkl"
    artifact.write_bytes(b"\x80\x04 not really a pickle")
    mv = credit.register_model(
        artifact,
        system="credit",
        trained_on=["train@1"],
        evaluated_on="test@1",
        framework="sklearn",
        parameters={"depth": 3},
        metrics={"auc": 0.81},
        code_commit=None,
    )
    assert (mv.ref, mv.name, mv.version, mv.stage) == ("scorer@1", "scorer", 1, "development")
    assert mv.artifact_hash == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert mv.artifact_size == len(artifact.read_bytes())
    assert credit.artifacts.read(mv.artifact_hash) == artifact.read_bytes()
    assert (mv.trained_on, mv.evaluated_on) == (["train@1"], ["test@1"])
    assert (mv.framework, mv.parameters, mv.metrics) == ("sklearn", {"depth": 3}, {"auc": 0.81})
    assert (mv.code_commit, mv.parent, mv.created_by) == (None, None, "alice")
    assert credit.model("scorer@1") == mv
    entry = credit.audit.entries()[-1]
    assert (entry.action, entry.subject) == ("model.registered", "model:credit/scorer@1")
    assert entry.payload == mv.to_dict()


def test_dataset_references(credit: Registry, data: Path) -> None:
    latest = _model(credit, trained_on=["train"])
    assert latest.trained_on == ["train@2"]  # NAME is the latest version
    pinned = _model(credit, trained_on=["train@1"], evaluated_on=["test"])
    assert (pinned.trained_on, pinned.evaluated_on) == (["train@1"], ["test@1"])
    by_path = _model(credit, trained_on=[str(data)])
    assert by_path.trained_on == ["train@2"]  # the registered file's current bytes
    both = _model(credit, trained_on=["train@1", "train@2", "train@1"])
    assert both.trained_on == ["train@1", "train@2"]


def test_unknown_dataset_reference_writes_nothing(credit: Registry, data: Path) -> None:
    _model(credit)
    refs: list[tuple[list[str], list[str]]] = [
        (["train@9"], []),
        (["nope"], []),
        ([], ["test@2"]),
        (["train@1", "ghost@1"], []),
    ]
    for trained_on, evaluated_on in refs:
        with refused(credit, NotFoundError, "not registered"):
            credit.register_model(
                b"never stored",
                system="credit",
                name="scorer",
                trained_on=trained_on,
                evaluated_on=evaluated_on,
                code_commit=None,
            )
    assert [m.ref for m in credit.models()] == ["scorer@1"]
    assert not credit.artifacts.exists(hashlib.sha256(b"never stored").hexdigest())


def test_unregistered_file_as_reference_writes_nothing(
    credit: Registry, data: Path, tmp_path: Path
) -> None:
    stranger = _csv(tmp_path / "stranger.csv", "a\n42\n")
    with refused(credit, NotFoundError, "not a registered dataset version"):
        _model(credit, trained_on=[str(stranger)])


def test_dataset_of_another_system_is_not_found(credit: Registry, data: Path) -> None:
    credit.create_system("fraud")
    with refused(credit, NotFoundError):
        _model(credit, system="fraud", trained_on=["train@1"])


def test_model_versions_and_parent(credit: Registry) -> None:
    v1 = _model(credit)
    v2 = _model(credit, parent="scorer@1")
    v3 = _model(credit, parent="scorer")  # NAME is the latest: scorer@2
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert (v1.parent, v2.parent, v3.parent) == (None, "scorer@1", "scorer@2")
    assert credit.model("scorer") == v3
    with refused(credit, NotFoundError):
        _model(credit, parent="scorer@7")
    with refused(credit, InputError, "must be a number"):
        credit.model("scorer@latest")


def test_parent_from_another_system_is_refused(credit: Registry) -> None:
    """A version's parent is named NAME@V and followed within its system (lineage)."""
    credit.create_system("fraud")
    _model(credit, system="fraud", name="base")
    with refused(credit, InputError, "same system|system 'fraud'"):
        _model(credit, name="tuned", parent="fraud/base@1")
    _model(credit, name="base")  # a same-named model in "credit" must not be taken instead
    child = _model(credit, name="tuned", parent="credit/base@1")
    assert child.parent == "base@1"
    assert [(a.system, a.ref) for a in credit.lineage("tuned@1").ancestors] == [
        ("credit", "base@1")
    ]


def test_same_model_name_in_two_systems_needs_the_system(credit: Registry) -> None:
    credit.create_system("fraud")
    a = _model(credit)
    b = _model(credit, system="fraud")
    with pytest.raises(UsageError, match="several systems"):
        credit.model("scorer@1")
    assert credit.model("credit/scorer@1") == a
    assert credit.model("fraud/scorer") == b


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip()


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No git configuration or repository above tmp_path leaks into these tests."""
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return tmp_path


def test_git_commit_is_captured_in_a_work_tree(
    credit: Registry, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = git_env / "repo"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "--quiet")
    (repo / "train.py").write_text("print('train')\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "--quiet", "-m", "first")
    head = _git(repo, "rev-parse", "HEAD")
    assert len(head) == 40
    monkeypatch.chdir(repo / "src")  # anywhere inside the work tree
    mv = credit.register_model(b"w1", system="credit", name="scorer")
    assert mv.code_commit == head
    explicit = credit.register_model(b"w2", system="credit", name="scorer", code_commit="abc123")
    assert explicit.code_commit == "abc123"
    none = credit.register_model(b"w3", system="credit", name="scorer", code_commit=None)
    assert none.code_commit is None


def test_no_git_commit_outside_a_work_tree_or_before_the_first_commit(
    credit: Registry, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = git_env / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert credit.register_model(b"w", system="credit", name="scorer").code_commit is None
    repo = git_env / "fresh"
    repo.mkdir()
    _git(repo, "init", "--quiet")
    monkeypatch.chdir(repo)
    assert credit.register_model(b"w", system="credit", name="scorer").code_commit is None


def test_model_from_bytes_and_bad_model_inputs(credit: Registry, tmp_path: Path) -> None:
    with refused(credit, InputError, "not a file"):
        credit.register_model(tmp_path / "missing.pkl", system="credit", code_commit=None)
    with refused(credit, InputError, "invalid model name"):
        credit.register_model(b"w", system="credit", name="a/b", code_commit=None)
    with refused(credit, InputError, "not JSON-serialisable"):
        credit.register_model(
            b"w", system="credit", name="m", parameters={"f": object()}, code_commit=None
        )
    mv = credit.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    assert mv.artifact_hash == hashlib.sha256(b"weights").hexdigest()
    assert credit.artifacts.read(mv.artifact_hash) == b"weights"
    with refused(credit, UsageError, "name="):
        credit.register_model(b"weights", system="credit", code_commit=None)


# -- evidence ----------------------------------------------------------------------------


class _Report:
    def to_dict(self) -> dict[str, Any]:
        return {"metric": "psi", "columns": {"age": 0.02}, "drifted": False}


def test_evidence_from_a_dict_and_from_an_object(credit: Registry, data: Path) -> None:
    mv = _model(credit)
    fairness = credit.record_evidence("fairness", mv, {"ratio": 0.83, "groups": ["a", "b"]})
    assert fairness.subject == "model:credit/scorer@1"
    assert fairness.content == {"ratio": 0.83, "groups": ["a", "b"]}
    assert fairness.content_hash == hashlib.sha256(canonical_json(fairness.content)).hexdigest()
    assert fairness.created_by == "alice"
    drift = credit.record_evidence("drift", "dataset:train@1", _Report(), system="credit")
    assert drift.subject == "dataset:credit/train@1"
    assert drift.content == _Report().to_dict()
    entry = credit.audit.entries()[-1]
    assert (entry.action, entry.subject) == ("evidence.recorded", "dataset:credit/train@1")
    assert entry.payload == {"id": drift.id, "kind": "drift", "content_hash": drift.content_hash}


def test_evidence_is_listed_by_subject_and_kind(credit: Registry, data: Path) -> None:
    m1, m2 = _model(credit), _model(credit)
    train = credit.dataset("train@1", system="credit")
    a = credit.record_evidence("fairness", m1, {"n": 1})
    b = credit.record_evidence("drift", m1, {"n": 2})
    c = credit.record_evidence("fairness", m2, {"n": 3})
    d = credit.record_evidence("quality", train, {"n": 4})
    e = credit.record_evidence("fairness", "model:scorer@1", {"n": 5})
    assert credit.evidence() == [a, b, c, d, e]
    assert credit.evidence(subject=m1) == [a, b, e]
    assert credit.evidence(subject="scorer@2") == [c]
    assert credit.evidence(kind="fairness") == [a, c, e]
    assert credit.evidence(subject=m1, kind="fairness") == [a, e]
    assert credit.evidence(subject="dataset:credit/train@1") == [d]
    assert credit.evidence(subject="dataset:train@1", system="credit") == [d]
    assert credit.evidence(kind="none") == []


def test_refused_evidence_writes_nothing(credit: Registry, data: Path) -> None:
    _model(credit)
    with refused(credit, NotFoundError):
        credit.record_evidence("fairness", "scorer@2", {"x": 1})
    with refused(credit, NotFoundError):
        credit.record_evidence("fairness", "dataset:train@9", {"x": 1}, system="credit")
    with refused(credit, UsageError, "needs its system"):
        credit.record_evidence("fairness", "dataset:train@1", {"x": 1})
    with refused(credit, InputError, "invalid evidence kind"):
        credit.record_evidence("Fairness Report", "scorer@1", {"x": 1})
    with refused(credit, InputError, "JSON object"):
        credit.record_evidence("fairness", "scorer@1", [1, 2])
    with refused(credit, InputError, "not JSON-serialisable"):
        credit.record_evidence("fairness", "scorer@1", {"x": object()})


def test_evidence_is_immutable(credit: Registry) -> None:
    mv = _model(credit)
    record = credit.record_evidence("fairness", mv, {"ratio": 0.83})
    before = _rows(credit)
    e = t.evidence.c
    for statement in (
        t.evidence.update().where(e.id == record.id).values(content='{"ratio":1.0}'),
        t.evidence.update().values(kind="forged"),
        t.evidence.delete().where(e.id == record.id),
        t.evidence.delete(),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), credit.db.engine.begin() as c:
            c.execute(statement)
    assert _rows(credit) == before
    assert credit.evidence(subject=mv) == [record]
    assert credit.audit.verify().ok


# -- stages ------------------------------------------------------------------------------


def _stage(registry: Registry, ref: str) -> str:
    return str(registry.model(ref).stage)


def _to(registry: Registry, ref: str, stage: str) -> None:
    """Drive a development version to ``stage`` by legal steps."""
    path = {
        "development": [],
        "staging": ["staging"],
        "production": ["staging", "production"],
        "archived": ["archived"],
    }[stage]
    for step in path:
        registry.promote(ref, step)
    assert _stage(registry, ref) == stage


def test_every_transition_through_promote(credit: Registry) -> None:
    credit.create_system("lab", single_production=False)
    checked = 0
    for source in STAGES:
        for target in STAGES:
            ref = _model(credit, name="m", system="lab").ref
            _to(credit, ref, source)
            action = TRANSITIONS.get((source, target))
            if action is None or action == "rollback":
                with refused(credit, IllegalTransitionError) as caught:
                    credit.promote(ref, target)
                message = str(caught.value)
                assert f"from {source} to {target}" in message
                assert (caught.value.source, caught.value.target) == (source, target)
                assert caught.value.hint is not None
            else:
                size = credit.audit.size()
                plan = credit.promote(ref, target, reason=f"{source}->{target}")
                assert [(p.version, p.source, p.target, p.action) for p in plan] == [
                    (ref, source, target, action)
                ]
                assert _stage(credit, ref) == target
                assert credit.audit.size() == size + 1
                entry = credit.audit.entries()[-1]
                assert (
                    entry.action
                    == {
                        "stage": "model.staged",
                        "promote": "model.promoted",
                        "demote": "model.demoted",
                        "archive": "model.archived",
                    }[action]
                )
                assert entry.reason == f"{source}->{target}"
                assert entry.payload["transitions"] == [p.to_dict() for p in plan]
                last = credit.history("lab")[-1]
                assert (last["version"], last["from"], last["to"]) == (ref, source, target)
                assert last["audit_seq"] == entry.seq
                # a checkpoint of the log as it is now was signed in the same transaction
                assert credit.audit.checkpoints()[-1].split("\n")[1] == str(credit.audit.size())
            checked += 1
    assert checked == len(STAGES) ** 2
    assert credit.audit.verify().ok


def test_promote_of_a_missing_version_or_to_an_unknown_stage(credit: Registry) -> None:
    _model(credit)
    with refused(credit, NotFoundError):
        credit.promote("scorer@2", "staging")
    with refused(credit, NotFoundError):
        credit.promote("other", "staging")
    with refused(credit, InputError, "unknown stage"):
        credit.promote("scorer@1", "prod")


def test_one_production_version_per_system(credit: Registry) -> None:
    credit.create_system("fraud")
    for ref in ("scorer@1", "scorer@2"):
        _model(credit)
        _to(credit, ref, "production")
    challenger = _model(credit, name="challenger").ref
    fraud = _model(credit, system="fraud", name="detector").ref
    _to(credit, fraud, "production")
    assert _stage(credit, "scorer@1") == "archived"
    assert _stage(credit, "scorer@2") == "production"
    credit.promote(challenger, "staging")
    plan = credit.promote(challenger, "production")
    assert [(p.version, p.source, p.target, p.action) for p in plan] == [
        ("scorer@2", "production", "archived", "supersede"),
        ("challenger@1", "staging", "production", "promote"),
    ]
    stages = {m.ref: m.stage for m in credit.models(system="credit")}
    assert stages == {
        "challenger@1": "production",
        "scorer@1": "archived",
        "scorer@2": "archived",
    }
    assert _stage(credit, "fraud/detector@1") == "production"  # another system is untouched


def test_system_allowing_several_production_versions(credit: Registry) -> None:
    credit.create_system("ab-test", single_production=False)
    for ref in ("scorer@1", "scorer@2"):
        _model(credit, system="ab-test")
        _to(credit, f"ab-test/{ref}", "production")
    stages = {m.ref: m.stage for m in credit.models(system="ab-test")}
    assert stages == {"scorer@1": "production", "scorer@2": "production"}
    with refused(credit, InputError, "exactly one version in production"):
        credit.rollback("ab-test")


def test_rollback_restores_the_previous_production_version(credit: Registry) -> None:
    for _ in range(3):
        _model(credit)
    for ref in ("scorer@1", "scorer@2", "scorer@3"):
        _to(credit, ref, "production")
    plan = credit.rollback("credit", reason="bad scores")
    assert [(p.version, p.source, p.target, p.action) for p in plan] == [
        ("scorer@3", "production", "archived", "rollback"),
        ("scorer@2", "archived", "production", "rollback"),
    ]
    assert [_stage(credit, f"scorer@{v}") for v in (1, 2, 3)] == [
        "archived",
        "production",
        "archived",
    ]
    entry = credit.audit.entries()[-1]
    assert (entry.action, entry.reason) == ("model.rolled_back", "bad scores")

    plan = credit.rollback("credit")  # one further back
    assert [(p.version, p.target) for p in plan] == [
        ("scorer@2", "archived"),
        ("scorer@1", "production"),
    ]
    assert [_stage(credit, f"scorer@{v}") for v in (1, 2, 3)] == [
        "production",
        "archived",
        "archived",
    ]
    with refused(credit, InputError, "no earlier production version"):
        credit.rollback("credit")
    history = [(h["version"], h["to"], h["action"]) for h in credit.history("credit")]
    assert history[-4:] == [
        ("scorer@3", "archived", "rollback"),
        ("scorer@2", "production", "rollback"),
        ("scorer@2", "archived", "rollback"),
        ("scorer@1", "production", "rollback"),
    ]
    assert credit.audit.verify().ok


def test_promoting_again_after_a_rollback(credit: Registry) -> None:
    for _ in range(3):
        _model(credit)
    _to(credit, "scorer@1", "production")
    _to(credit, "scorer@2", "production")
    credit.rollback("credit")  # scorer@1 back in production
    _to(credit, "scorer@3", "production")
    credit.rollback("credit")
    assert _stage(credit, "scorer@1") == "production"
    assert _stage(credit, "scorer@3") == "archived"


def test_rollback_with_no_earlier_version(credit: Registry) -> None:
    _model(credit)
    with refused(credit, InputError, "found 0"):
        credit.rollback("credit")  # nothing in production
    _to(credit, "scorer@1", "production")
    with refused(credit, InputError, "no earlier production version"):
        credit.rollback("credit")
    with refused(credit, NotFoundError):
        credit.rollback("nope")


def _corrupt(registry: Registry, digest: str) -> None:
    path = registry.artifacts.path_for(digest)
    os.chmod(path, 0o644)  # stored files are read-only
    path.write_bytes(b"tampered weights")


def test_corrupted_artifact_is_never_promoted(credit: Registry) -> None:
    mv = _model(credit)
    credit.promote(mv.ref, "staging")
    _corrupt(credit, mv.artifact_hash)
    with refused(credit, CorruptArtifactError, "corrupt"):
        credit.promote(mv.ref, "production")
    assert _stage(credit, mv.ref) == "staging"
    with refused(credit, CorruptArtifactError):
        credit.promote(mv.ref, "archived")  # every promotion re-hashes


def test_rollback_to_a_corrupted_artifact_is_refused(credit: Registry) -> None:
    v1, _ = _model(credit), _model(credit)
    _to(credit, "scorer@1", "production")
    _to(credit, "scorer@2", "production")
    _corrupt(credit, v1.artifact_hash)
    with refused(credit, CorruptArtifactError):
        credit.rollback("credit")
    assert _stage(credit, "scorer@2") == "production"


# -- lineage -----------------------------------------------------------------------------


@pytest.fixture
def family(credit: Registry) -> Registry:
    """raw -> clean (derived); extra; test.  m@1 trained on clean, evaluated on test;
    m@2 child of m@1 trained on extra; m@3 child of m@2 with no data; other@1 on extra."""
    for name, values in (("raw", [1, 2, None]), ("extra", [7]), ("test", [3])):
        credit.register_dataset(pa.table({"x": values}), system="credit", name=name)
    credit.register_dataset(
        pa.table({"x": [1, 2]}), system="credit", name="clean", derived_from=["raw@1"]
    )
    _model(credit, name="m", trained_on=["clean@1"], evaluated_on=["test@1"])
    _model(credit, name="m", parent="m@1", trained_on=["extra@1"])
    _model(credit, name="m", parent="m@2")
    _model(credit, name="other", trained_on=["extra@1"])
    return credit


def _refs(items: list[Any]) -> list[str]:
    return sorted(i.ref for i in items)


def test_lineage_is_transitive(family: Registry) -> None:
    first = family.lineage("m@1")
    assert first.model.ref == "m@1"
    assert _refs(first.datasets) == ["clean@1", "raw@1"]  # through the derived dataset
    assert _refs(first.evaluated_on) == ["test@1"]
    assert first.ancestors == []

    third = family.lineage("m@3")
    assert [a.ref for a in third.ancestors] == ["m@2", "m@1"]  # parent, grandparent
    assert _refs(third.datasets) == ["clean@1", "extra@1", "raw@1"]  # through the ancestors
    assert third.evaluated_on == []
    d = third.to_dict()
    assert d["model"]["ref"] == "m@3" and [a["ref"] for a in d["ancestors"]] == ["m@2", "m@1"]

    assert _refs(family.lineage("other@1").datasets) == ["extra@1"]


def test_used_by(family: Registry) -> None:
    def used(ref: str) -> list[str]:
        return [m.ref for m in family.used_by(ref, system="credit")]

    assert used("raw@1") == ["m@1", "m@2", "m@3"]  # through clean, then the descendants
    assert used("clean@1") == ["m@1", "m@2", "m@3"]
    assert used("extra@1") == ["m@2", "m@3", "other@1"]
    # m@2 descends from m@1, which was only *evaluated* on test@1: m@2 did not use it
    assert used("test@1") == ["m@1"]
    assert "test@1" not in _refs(family.lineage("m@2").datasets)
    with pytest.raises(NotFoundError):
        family.used_by("raw@2", system="credit")
    # used_by is the inverse of lineage (training data, transitively) plus evaluation
    models = family.models(system="credit")
    for dv in family.datasets(system="credit"):
        trained = {m.ref for m in models if dv.ref in _refs(family.lineage(m.ref).datasets)}
        evaluated = {m.ref for m in models if dv.ref in m.evaluated_on}
        assert set(used(dv.ref)) == trained | evaluated, dv.ref


def test_used_by_reaches_descendants_of_a_model_that_also_evaluated_on_it(
    credit: Registry,
) -> None:
    credit.register_dataset(pa.table({"x": [1]}), system="credit", name="d")
    _model(credit, name="m", trained_on=["d@1"])
    _model(credit, name="m", parent="m@1", evaluated_on=["d@1"])
    _model(credit, name="m", parent="m@2")
    assert [m.ref for m in credit.used_by("d", system="credit")] == ["m@1", "m@2", "m@3"]
    assert _refs(credit.lineage("m@3").datasets) == ["d@1"]
