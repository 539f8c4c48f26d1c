"""The role x route matrix: every API route, every role, anonymous, revoked and expired tokens.

``EXAMPLES`` holds one request per API route; the inventory test fails when
a route has none (a new route must join the matrix). For each caller the
expected answer follows from the route's declared guard and the pure
permission table (:func:`trustops.core.access.allows`): 401 without valid
credentials, 403 for a role without the permission, 404 for a system the
caller does not belong to, and anything but those (and never a 5xx) when
the role may act.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts

from tests.server.conftest import LiveServer
from trustops.core.access import Role, allows
from trustops.server.security import route_access

CSV = b"age,income,approved\n30,100,1\n40,80,0\n50,120,1\n"
POLICY = "policy: p\nrules:\n  - {id: m, kind: field, field: model.artifact_hash}\n"


@dataclass(frozen=True)
class Example:
    method: str
    template: str
    path: str
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _examples(ids: dict[str, str]) -> list[Example]:
    a = "/api/v1/systems/alpha"
    rid = ids["request"]
    return [
        Example("GET", "/api/v1/me", "/api/v1/me"),
        Example("GET", "/api/v1/systems", "/api/v1/systems"),
        Example("POST", "/api/v1/systems", "/api/v1/systems", json={"name": "gamma"}),
        Example("GET", "/api/v1/systems/{system}", a),
        Example("GET", "/api/v1/systems/{system}/datasets", f"{a}/datasets"),
        Example(
            "POST",
            "/api/v1/systems/{system}/datasets",
            f"{a}/datasets",
            data={"name": "more"},
            files={"file": ("more.csv", CSV)},
        ),
        Example("GET", "/api/v1/systems/{system}/datasets/{ref}", f"{a}/datasets/train@1"),
        Example(
            "GET",
            "/api/v1/systems/{system}/datasets/{ref}/evidence",
            f"{a}/datasets/train/evidence",
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/datasets/{ref}/evidence",
            f"{a}/datasets/train/evidence",
            json={"kind": "quality", "content": {"ok": True}},
        ),
        Example("GET", "/api/v1/systems/{system}/models", f"{a}/models"),
        Example(
            "POST",
            "/api/v1/systems/{system}/models",
            f"{a}/models",
            data={"name": "other"},
            files={"file": ("m.bin", b"weights")},
        ),
        Example("GET", "/api/v1/systems/{system}/models/{ref}", f"{a}/models/scorer@1"),
        Example(
            "GET", "/api/v1/systems/{system}/models/{ref}/evidence", f"{a}/models/scorer/evidence"
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/evidence",
            f"{a}/models/scorer@1/evidence",
            json={"kind": "note", "content": {"text": "hi"}},
        ),
        Example(
            "GET", "/api/v1/systems/{system}/models/{ref}/lineage", f"{a}/models/scorer/lineage"
        ),
        Example("GET", "/api/v1/systems/{system}/models/{ref}/page", f"{a}/models/scorer@1/page"),
        Example("GET", "/api/v1/policies/packs", "/api/v1/policies/packs"),
        Example("GET", "/api/v1/policies/packs/{pack}", "/api/v1/policies/packs/eeoc-four-fifths"),
        Example(
            "POST",
            "/api/v1/policies/validate",
            "/api/v1/policies/validate",
            json={"policy": POLICY},
        ),
        Example("GET", "/api/v1/policies", "/api/v1/policies"),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/decisions",
            f"{a}/models/scorer@1/decisions",
            json={"policy": POLICY, "record": False},
        ),
        Example("GET", "/api/v1/systems/{system}/decisions", f"{a}/decisions"),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/stage",
            f"{a}/models/scorer@1/stage",
            json={"stage": "staging"},
        ),
        Example("POST", "/api/v1/systems/{system}/rollback", f"{a}/rollback", json={}),
        Example("GET", "/api/v1/systems/{system}/history", f"{a}/history"),
        Example("GET", "/api/v1/systems/{system}/gate", f"{a}/gate"),
        Example("PUT", "/api/v1/systems/{system}/gate", f"{a}/gate", json={"remove": True}),
        Example("GET", "/api/v1/systems/{system}/models/{ref}/gate", f"{a}/models/scorer@1/gate"),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/approvals",
            f"{a}/models/other@1/approvals",
            json={"comment": "please"},
        ),
        Example("GET", "/api/v1/approvals", "/api/v1/approvals"),
        Example("GET", "/api/v1/approvals/{request_id}", f"/api/v1/approvals/{rid}"),
        Example(
            "POST",
            "/api/v1/approvals/{request_id}/decision",
            f"/api/v1/approvals/{rid}/decision",
            json={"approve": True, "comment": "read it"},
        ),
        Example(
            "POST",
            "/api/v1/approvals/{request_id}/withdraw",
            f"/api/v1/approvals/{ids['withdrawable']}/withdraw",
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/overrides",
            f"{a}/models/scorer@1/overrides",
            json={"justification": "the failing rule does not apply to this use, see memo 12"},
        ),
        Example("GET", "/api/v1/audit/entries", "/api/v1/audit/entries", params={"limit": 5}),
        Example("GET", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints"),
        Example("POST", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints"),
        Example("GET", "/api/v1/audit/verify", "/api/v1/audit/verify"),
        Example(
            "GET", "/api/v1/audit/entries/{seq}/proof", f"/api/v1/audit/entries/{ids['seq']}/proof"
        ),
        Example("GET", "/api/v1/audit/export", "/api/v1/audit/export"),
        Example(
            "GET",
            "/api/v1/systems/{system}/models/{ref}/reports/{kind}",
            f"{a}/models/scorer@1/reports/model-card",
        ),
        Example(
            "GET",
            "/api/v1/systems/{system}/datasets/{ref}/reports/datasheet",
            f"{a}/datasets/train@1/reports/datasheet",
        ),
        Example("GET", "/api/v1/systems/{system}/reports/gdpr-art30", f"{a}/reports/gdpr-art30"),
        Example("GET", "/api/v1/systems/{system}/privacy/usage", f"{a}/privacy/usage"),
        Example("GET", "/api/v1/systems/{system}/privacy/record", f"{a}/privacy/record"),
        Example(
            "POST",
            "/api/v1/privacy/erasure",
            "/api/v1/privacy/erasure",
            json={"subject_ids": ["s-1"], "dry_run": True},
        ),
        Example("GET", "/api/v1/privacy/erasure", "/api/v1/privacy/erasure"),
        Example(
            "POST",
            "/api/v1/systems/{system}/reviews",
            f"{a}/reviews",
            json={"model": "scorer@1", "prediction_id": "p-2"},
        ),
        Example("GET", "/api/v1/systems/{system}/reviews", f"{a}/reviews"),
        Example(
            "GET", "/api/v1/systems/{system}/reviews/{request_id}", f"{a}/reviews/{ids['review']}"
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/reviews/{request_id}/assign",
            f"{a}/reviews/{ids['review']}/assign",
            json={"reviewer": "reviewer"},
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/reviews/{request_id}/decision",
            f"{a}/reviews/{ids['review']}/decision",
            json={"outcome": "upheld", "rationale": "the decision stands: checked the inputs"},
        ),
        Example("GET", "/api/v1/users", "/api/v1/users"),
        Example("POST", "/api/v1/users", "/api/v1/users", json={"name": "newcomer"}),
        Example(
            "POST", "/api/v1/users/{user}/tokens", "/api/v1/users/ghost/tokens", json={"label": "x"}
        ),
        Example("GET", "/api/v1/tokens", "/api/v1/tokens"),
        Example("DELETE", "/api/v1/tokens/{token_id}", f"/api/v1/tokens/{ids['ghost_token']}"),
        Example(
            "PUT",
            "/api/v1/systems/{system}/members/{user}",
            f"{a}/members/ghost",
            json={"role": "viewer"},
        ),
        Example("DELETE", "/api/v1/systems/{system}/members/{user}", f"{a}/members/ghost"),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/predictions",
            f"{a}/models/scorer@1/predictions",
            json=[
                {
                    "prediction_id": "p",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "prediction": 1,
                    "features": {},
                }
            ],
        ),
        Example(
            "POST",
            "/api/v1/systems/{system}/models/{ref}/labels",
            f"{a}/models/scorer@1/labels",
            json=[{"prediction_id": "p", "label": 1}],
        ),
    ]


TEMPLATES = {
    (e.method, e.template)
    for e in _examples(
        {"request": "1", "ghost_token": "t", "seq": "0", "withdrawable": "2", "review": "1"}
    )
}
MEMBERS = {
    "viewer": Role.VIEWER,
    "scientist": Role.DATA_SCIENTIST,
    "reviewer": Role.REVIEWER,
    "officer": Role.COMPLIANCE_OFFICER,
}
CALLERS = ["anonymous", "revoked", "expired", "admin", "outsider", *MEMBERS]


@dataclass
class World:
    server: LiveServer
    tokens: dict[str, str | None]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(module_server: LiveServer) -> Iterator[World]:
    """Systems alpha and beta, a dataset, models, a pending request, and a caller per role."""
    server = module_server
    root = server.user("root", admin=True)
    admin = server.client(root)
    for system in ("alpha", "beta"):
        assert admin.post("/api/v1/systems", json={"name": system}).status_code == 201
    tokens: dict[str, str | None] = {"anonymous": None, "admin": root}
    for name, role in MEMBERS.items():
        tokens[name] = server.user(name, role.value, ["alpha"])
    tokens["outsider"] = server.user("outsider", "compliance_officer", ["beta"])
    identity = server.identity()
    for name in ("revoked", "expired", "ghost"):
        identity.create_user(name)
        identity.grant(name, "alpha", "compliance_officer")
    revoked = identity.issue_token("revoked")
    identity.revoke_token(revoked.id)
    tokens["revoked"] = revoked.secret
    expired = identity.issue_token("expired")
    engine = sa.create_engine(_engine_url(server))
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE api_tokens SET expires_at = :t WHERE id = :i"),
            {"t": "2000-01-01T00:00:00.000000Z", "i": expired.id},
        )
    engine.dispose()
    tokens["expired"] = expired.secret
    ghost_token = identity.issue_token("ghost").id
    scientist = server.client(tokens["scientist"])
    upload = scientist.post(
        "/api/v1/systems/alpha/datasets", data={"name": "train"}, files={"file": ("t.csv", CSV)}
    )
    assert upload.status_code == 201, upload.text
    for name in ("scorer", "other", "third"):
        model = scientist.post(
            "/api/v1/systems/alpha/models",
            data={"name": name, "trained_on": ["train@1"]},
            files={"file": ("m.bin", name.encode())},
        )
        assert model.status_code == 201, model.text
    request = scientist.post("/api/v1/systems/alpha/models/scorer@1/approvals", json={})
    assert request.status_code == 201, request.text
    withdrawable = scientist.post("/api/v1/systems/alpha/models/third@1/approvals", json={})
    assert withdrawable.status_code == 201, withdrawable.text
    review = scientist.post(
        "/api/v1/systems/alpha/reviews", json={"model": "scorer@1", "prediction_id": "p-1"}
    )
    assert review.status_code == 200, review.text
    created = server.registry().audit.entries(action="system.created", subject="system:alpha")
    ids = {
        "request": str(request.json()["id"]),
        "withdrawable": str(withdrawable.json()["id"]),
        "ghost_token": ghost_token,
        "review": str(review.json()["id"]),
    }
    yield World(server, tokens, {**ids, "seq": str(created[0].seq)})


def _engine_url(server: LiveServer) -> str:
    from trustops.governance.database import normalise_url

    return normalise_url(server.settings.database_url)


def _api_routes(server: LiveServer) -> dict[tuple[str, str], Any]:
    from trustops.server.app import create_app

    app = create_app(server.settings)
    found = {}
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if not path.startswith("/api/"):
            continue
        for method in getattr(context.original_route, "methods", None) or ():
            found[(method, path)] = route_access(context.original_route)
    return found


def test_every_api_route_is_in_the_matrix(world: World) -> None:
    served = set(_api_routes(world.server))
    assert served - TEMPLATES == set(), "routes without an example in EXAMPLES"
    assert TEMPLATES - served == set(), "examples of routes that are not served"


def _expected(caller: str, example: Example, access: Any) -> set[int] | None:
    """The statuses allowed for ``caller``; None means: any status but 401, 403, 404 and 5xx."""
    if caller in ("anonymous", "revoked", "expired"):
        return {401}
    permission = access.permission
    if permission is None:
        return None
    scoped = "{system}" in example.template
    if caller == "admin":
        allowed = allows(Role.ADMIN, permission)
        if example.template == "/api/v1/approvals/{request_id}/withdraw":
            return {403}  # the administrator did not ask
        if allowed and example.template == "/api/v1/systems/{system}/members/{user}":
            return None
        return None if allowed else {403}
    if caller == "outsider":
        if not allows(Role.COMPLIANCE_OFFICER, permission):
            return {403}
        in_alpha = scoped or "{request_id}" in example.template
        if in_alpha:
            return {404}
        if example.template == "/api/v1/audit/export":
            return {403}  # the export holds alpha's entries too
        if example.template == "/api/v1/audit/entries/{seq}/proof":
            return {404}  # the entry is about alpha
        return None
    if example.template == "/api/v1/approvals/{request_id}/withdraw":
        return None if caller == "scientist" else {403}  # only the submitter withdraws
    role = MEMBERS[caller]
    if not allows(role, permission):
        return {403}
    if example.template == "/api/v1/audit/export":
        return {403}  # members of alpha only: beta's entries are not theirs to read
    return None


@pytest.mark.parametrize("caller", CALLERS)
def test_role_matrix(world: World, caller: str) -> None:
    routes = _api_routes(world.server)
    client = world.server.client(world.tokens[caller])
    failures = []
    for example in _examples(world.ids):
        access = routes[(example.method, example.template)]
        files = example.files
        if files is not None:
            files = {k: (n, io.BytesIO(b)) for k, (n, b) in files.items()}
        response = client.request(
            example.method,
            example.path,
            json=example.json,
            data=example.data,
            files=files,
            params=example.params,
        )
        expected = _expected(caller, example, access)
        status = response.status_code
        ok = status < 500 and (
            status in expected if expected is not None else status not in (401, 403, 404)
        )
        if not ok:
            failures.append(f"{example.method} {example.path}: {status} {response.text[:200]}")
    assert failures == [], f"{caller}:\n" + "\n".join(failures)
