"""Bad input and attacks over a real server: the order of refusals, traversal, tokens, uploads.

The server runs in this process (a uvicorn thread), so a Python audit hook
sees every file it opens: the traversal tests assert that no refused
request opened anything named like its target.
"""

from __future__ import annotations

import http.client
import io
import pickle
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.server.conftest import LiveServer, fresh_database, run_server
from trustops.governance.database import normalise_url

JSON = {"content-type": "application/json"}
CSV = b"age,income,approved\n30,100,1\n40,80,0\n50,120,1\n"

_opened: list[str] = []
_recording = threading.Event()


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if _recording.is_set() and event == "open" and args and isinstance(args[0], str | bytes):
        _opened.append(str(args[0]))


sys.addaudithook(_audit_hook)  # cannot be removed; it records only while a test asks


@pytest.fixture
def world(server: LiveServer) -> Iterator[dict[str, Any]]:
    """Systems alpha (with a model) and beta; an admin, a viewer and a scientist of alpha."""
    root = server.user("root", admin=True)
    admin = server.client(root)
    for system in ("alpha", "beta"):
        assert admin.post("/api/v1/systems", json={"name": system}).status_code == 201
    viewer = server.user("vic", "viewer", ["alpha"])
    scientist = server.user("sam", "data_scientist", ["alpha"])
    sam = server.client(scientist)
    model = sam.post(
        "/api/v1/systems/alpha/models", data={"name": "scorer"}, files={"file": ("m", b"w")}
    )
    assert model.status_code == 201, model.text
    yield {"root": root, "viewer": viewer, "scientist": scientist}


def _counts(server: LiveServer) -> dict[str, int]:
    engine = sa.create_engine(normalise_url(server.settings.database_url))
    tables = ("systems", "datasets", "dataset_versions", "models", "model_versions", "evidence",
              "users", "api_tokens", "approval_requests", "audit_entries")  # fmt: skip
    with engine.connect() as conn:
        counts = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }
    engine.dispose()
    return counts


def _new_entries(server: LiveServer, before: int) -> list[Any]:
    return server.registry().audit.entries(start=before)


# -- the order of checks ------------------------------------------------------


def test_unauthenticated_is_401_before_any_validation(server: LiveServer, world: Any) -> None:
    anonymous = server.client()
    before = _counts(server)
    cases = [
        anonymous.post("/api/v1/systems", content=b"{not json", headers=JSON),
        anonymous.post("/api/v1/systems", json={"name": "x", "unknown": 1}),
        anonymous.post("/api/v1/systems", content=b"x" * 200_000),
        anonymous.get("/api/v1/systems/..%5c..%5cetc%00passwd"),
        anonymous.get("/api/v1/approvals/not-a-number"),
        anonymous.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        anonymous.get("/api/v1/me", headers={"Authorization": "Bearer tro_forged"}),
    ]  # fmt: skip
    assert [r.status_code for r in cases] == [401] * len(cases)
    assert all(r.headers["www-authenticate"] == "Bearer" for r in cases)
    assert _counts(server) == before  # nobody to audit: nothing stored at all


def test_forbidden_is_403_before_the_body_is_read(server: LiveServer, world: Any) -> None:
    viewer = server.client(world["viewer"])
    before = _counts(server)
    malformed = viewer.post(
        "/api/v1/systems", content=b"{oops", headers={"content-type": "application/json"}
    )
    unknown = viewer.post("/api/v1/systems/alpha/models/scorer@1/evidence", json={"bogus": 1})
    assert (malformed.status_code, unknown.status_code) == (403, 403)
    after = _counts(server)
    assert after["audit_entries"] == before["audit_entries"] + 2
    assert {k: v for k, v in after.items() if k != "audit_entries"} == {
        k: v for k, v in before.items() if k != "audit_entries"
    }
    entries = _new_entries(server, before["audit_entries"])
    assert [(e.action, e.actor, e.payload["status"]) for e in entries] == [
        ("access.refused", "vic", 403),
        ("access.refused", "vic", 403),
    ]


def test_another_systems_objects_are_404_exactly_like_missing_ones(
    server: LiveServer, world: Any
) -> None:
    viewer = server.client(world["viewer"])
    for suffix in ("", "/models", "/models/scorer@1", "/history", "/decisions"):
        hidden = viewer.get(f"/api/v1/systems/beta{suffix}")
        missing = viewer.get(f"/api/v1/systems/nope{suffix}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
    listed = [s["name"] for s in viewer.get("/api/v1/systems").json()]
    assert listed == ["alpha"]


def test_bad_bodies_are_422_and_store_only_the_refusal(server: LiveServer, world: Any) -> None:
    admin = server.client(world["root"])
    before = _counts(server)
    malformed = admin.post(
        "/api/v1/systems", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    unknown = admin.post("/api/v1/systems", json={"name": "gamma", "sneaky": "ECHO-ME"})
    wrong_type = admin.post("/api/v1/systems", json={"name": ["gamma"]})
    bad_name = admin.post("/api/v1/systems", json={"name": "../gamma"})
    assert [r.status_code for r in (malformed, unknown, wrong_type, bad_name)] == [422] * 4
    assert unknown.json()["detail"][0]["type"] == "extra_forbidden"
    assert "ECHO-ME" not in unknown.text  # what was sent is not echoed
    after = _counts(server)
    assert after["systems"] == before["systems"]
    assert after["audit_entries"] == before["audit_entries"] + 4


def test_oversized_bodies_are_413_counted_as_they_stream(tmp_path: Path) -> None:
    with (
        fresh_database("sqlite", tmp_path) as url,
        run_server(tmp_path / "p", url, "sqlite", max_body_bytes=1000) as server,
    ):
        root = server.client(server.user("root", admin=True))
        declared = root.post("/api/v1/systems", json={"name": "x", "purpose": "p" * 2000})
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
            yield b'{"name": "x", "purpose": "'
            for _ in range(50):
                yield b"p" * 100
            yield b'"}'

        streamed = root.post(
            "/api/v1/systems", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        upload = root.post(
            "/api/v1/systems/x/datasets", data={"name": "d"}, files={"file": ("d.csv", CSV * 50)}
        )
        assert upload.status_code in (404, 413)  # no system x: the guard may answer first
        anonymous = server.client().post("/api/v1/systems", content=b"x" * 5000)
        assert anonymous.status_code == 401  # the body of an anonymous caller is never read
        assert root.get("/api/v1/systems").json() == []


# -- path traversal -------------------------------------------------------------

TARGET = "trustops-secret-target"
ATTACKS = [
    "..",
    f"../../{TARGET}",
    f"..%2f..%2f{TARGET}",
    f"%2e%2e%2f%2e%2e%2f{TARGET}",
    f"%252e%252e%252f{TARGET}",
    f"..\\..\\{TARGET}",
    f"{TARGET}#frag",
    f"{TARGET}?x=1",
    f"{TARGET}\x00.csv",
    f"/{TARGET}",
    f"\u2025/{TARGET}",
    f"{TARGET}@1/../../x",
]
VALID = {
    "system": "alpha",
    "ref": "scorer@1",
    "request_id": "1",
    "seq": "0",
    "user": "vic",
    "token_id": "tok_0000000000000000",
    "kind": "model-card",
    "pack": "eeoc-four-fifths",
}


def _slots(server: LiveServer) -> list[tuple[str, str, str]]:
    """(method, template, parameter) for every path parameter of every API route."""
    from fastapi.routing import iter_route_contexts

    from trustops.server.app import create_app

    found = []
    for context in iter_route_contexts(create_app(server.settings).routes):
        template = str(context.path)
        if not template.startswith("/api/"):
            continue
        for name in re.findall(r"{(\w+)}", template):
            for method in sorted(getattr(context.original_route, "methods", None) or ()):
                found.append((method, template, name))
    return found


def _fill(template: str, attacked: str, value: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return value if name == attacked else VALID.get(name, "x1")

    return re.sub(r"{(\w+)}", one, template)


def _raw_request(server: LiveServer, method: str, path: str, token: str) -> tuple[int, str]:
    """Send ``path`` byte for byte (httpx would resolve ``..`` segments before sending)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _encodings(value: str) -> list[str]:
    once = quote(value, safe="")
    return [once, quote(once, safe=""), quote(value, safe="/\\@")]


def test_traversal_in_every_path_parameter_is_refused_without_opening_files(
    server: LiveServer, world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / TARGET).write_text("secret")
    monkeypatch.chdir(tmp_path)  # a relative lookup would find the target here
    slots = _slots(server)
    assert len({(t, n) for _, t, n in slots}) >= 40
    statuses = set()
    _opened.clear()
    _recording.set()
    try:
        for method, template, name in slots:
            for attack in ATTACKS:
                for encoded in dict.fromkeys(_encodings(attack)):
                    path = _fill(template, name, encoded)
                    status, text = _raw_request(server, method, path, world["root"])
                    assert status in (400, 403, 404, 405, 422), (method, path, status)
                    assert TARGET not in text
                    statuses.add(status)
    finally:
        _recording.clear()
    assert not [p for p in _opened if TARGET in p]
    assert {404, 422} <= statuses


# -- tokens -------------------------------------------------------------------------


def test_a_token_in_the_query_string_is_refused(server: LiveServer, world: Any) -> None:
    token = world["viewer"]
    for params in ({"token": token}, {"access_token": token}, {"q": token}, {"api_key": "x"}):
        response = server.client().get("/api/v1/me", params=params)
        assert response.status_code == 401 and token not in response.text
    with_header = server.client(token).get("/api/v1/me", params={"token": token})
    assert with_header.status_code == 401  # it travelled in a URL: refused even so


def test_revoked_and_replayed_tokens_are_refused(server: LiveServer, world: Any) -> None:
    identity = server.identity()
    identity.create_user("temp")
    identity.grant("temp", "alpha", "viewer")
    issued = identity.issue_token("temp")
    client = server.client(issued.secret)
    assert client.get("/api/v1/me").status_code == 200
    admin = server.client(world["root"])
    assert admin.delete(f"/api/v1/tokens/{issued.id}").status_code == 204
    for _ in range(2):  # the same secret again, and again
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json() == {"detail": "invalid, expired or revoked credentials"}


def test_a_session_cookie_needs_the_csrf_header_to_change_anything(
    server: LiveServer, world: Any
) -> None:
    identity = server.identity()
    principal = identity.authenticate(world["scientist"])
    session = identity.create_session(principal)
    browser = server.client(cookies={"trustops_session": session.secret})
    assert browser.get("/api/v1/me").json()["user"] == "sam"
    body = {"kind": "note", "content": {"x": 1}}
    url = "/api/v1/systems/alpha/models/scorer@1/evidence"
    assert browser.post(url, json=body).status_code == 403
    assert browser.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    ok = browser.post(url, json=body, headers={"X-CSRF-Token": session.csrf})
    assert ok.status_code == 201, ok.text
    identity.end_session(session.secret)
    assert browser.get("/api/v1/me").status_code == 401


def test_tokens_never_appear_in_logs_responses_or_the_audit_log(
    server: LiveServer, world: Any
) -> None:
    secrets = [world["root"], world["viewer"], world["scientist"]]
    admin = server.client(world["root"])
    issued = admin.post("/api/v1/users/vic/tokens", json={"label": "second"}).json()
    secrets.append(issued["secret"])
    texts = []
    for token in secrets:
        client = server.client(token)
        for path in ("/api/v1/me", "/api/v1/tokens", "/api/v1/users", "/api/v1/systems/beta",
                     "/api/v1/audit/entries?limit=1000", f"/api/v1/me?token={token}"):  # fmt: skip
            texts.append(client.get(path).text)
        texts.append(server.client().get("/api/v1/me", headers={"Authorization": token}).text)
    texts += server.log_lines()
    with server.registry().db.read() as conn:
        texts += [
            bytes(leaf).decode()
            for (leaf,) in conn.execute(sa.text("SELECT leaf FROM audit_entries"))
        ]
    export = admin.get("/api/v1/audit/export")
    texts.append(export.text)
    joined = "\n".join(texts)
    for secret in secrets:
        assert secret not in joined
        assert secret[4:20] not in joined  # not even a piece of it


# -- uploads -----------------------------------------------------------------------


class _Sentinel:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def test_an_uploaded_pickle_is_stored_by_hash_and_never_loaded(
    server: LiveServer, world: Any, tmp_path: Path
) -> None:
    sentinel = tmp_path / "pickle-was-loaded"
    payload = pickle.dumps(_Sentinel(str(sentinel)))
    sam = server.client(world["scientist"])
    response = sam.post(
        "/api/v1/systems/alpha/models",
        data={"name": "evil", "framework": "pickle"},
        files={"file": ("../../evil.pkl", payload)},
    )
    assert response.status_code == 201, response.text
    for path in ("/api/v1/systems/alpha/models/evil@1/page",
                 "/api/v1/systems/alpha/models/evil@1/reports/model-card"):  # fmt: skip
        assert sam.get(path).status_code == 200
    assert not sentinel.exists()
    digest = response.json()["artifact_hash"]
    assert server.registry().artifacts.read(digest) == payload


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("parquet", b"PAR1 this is not parquet PAR1"),
        ("arrow", b"ARROW1\x00\x00garbage"),
        ("csv", b""),
        ("csv", b"\xff\xfe\x00bad"),
    ],
)
def test_a_data_file_that_does_not_parse_is_422(
    server: LiveServer, world: Any, fmt: str, content: bytes
) -> None:
    sam = server.client(world["scientist"])
    before = _counts(server)
    response = sam.post(
        "/api/v1/systems/alpha/datasets",
        data={"name": "broken", "format": fmt},
        files={"file": ("f", io.BytesIO(content))},
    )
    assert response.status_code == 422, response.text
    assert _counts(server)["dataset_versions"] == before["dataset_versions"]


def test_ids_beyond_the_columns_range_are_422_not_a_database_error(
    server: LiveServer, world: Any
) -> None:
    reviewer = server.client(server.user("rex", "reviewer", ["alpha"]))
    vote = {"approve": False, "comment": "no"}
    too_big = reviewer.post(f"/api/v1/approvals/{2**31}/decision", json=vote)
    assert too_big.status_code == 422  # found by schemathesis: PostgreSQL's INTEGER overflowed
    assert reviewer.post(f"/api/v1/approvals/{2**31 - 1}/decision", json=vote).status_code == 404
    assert reviewer.get(f"/api/v1/approvals/{2**31 - 1}").status_code == 404
    assert reviewer.get("/api/v1/audit/entries", params={"start": 2**62}).status_code == 200
