"""Schemathesis against the published OpenAPI document, for every role and for anonymous callers.

For each operation, Hypothesis generates a few requests from the schema
(capped: ``EXAMPLES`` per operation) and sends them to the real server with
the role's token. Every answer must be no 5xx, a documented status, of a
documented content type, and conform to its documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import LiveServer

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ["anonymous", "viewer", "data_scientist", "reviewer", "compliance_officer", "admin"]


@pytest.fixture(scope="module")
def tokens(module_server: LiveServer) -> Iterator[dict[str, str | None]]:
    server = module_server
    root = server.user("root", admin=True)
    admin = server.client(root)
    assert admin.post("/api/v1/systems", json={"name": "alpha"}).status_code == 201
    found: dict[str, str | None] = {"anonymous": None, "admin": root}
    for role in ROLES[1:-1]:
        found[role] = server.user(f"u-{role}", role, ["alpha"])
    scientist = server.client(found["data_scientist"])
    scientist.post(
        "/api/v1/systems/alpha/datasets",
        data={"name": "train"},
        files={"file": ("t.csv", b"a,b\n1,2\n3,4\n")},
    )
    scientist.post(
        "/api/v1/systems/alpha/models",
        data={"name": "scorer", "trained_on": ["train"]},
        files={"file": ("m", b"weights")},
    )
    scientist.post("/api/v1/systems/alpha/models/scorer@1/approvals", json={})
    identity = server.identity()
    identity.create_user("ghost")
    VALID["token_id"] = identity.issue_token("ghost").id
    yield found


# Path parameters naming objects that exist, so that half the generated requests reach past
# the lookups into the handlers (random names mostly find nothing: 404).
VALID: dict[str, str] = {
    "system": "alpha",
    "ref": "scorer@1",
    "request_id": "1",
    "seq": "0",
    "user": "ghost",
    "kind": "model-card",
    "pack": "eeoc-four-fifths",
}


def _existing(case: Any) -> Any:
    if case.path_parameters:
        case.path_parameters = {
            name: VALID.get(name, value) for name, value in case.path_parameters.items()
        }
    return case


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_for_every_role(
    module_server: LiveServer, tokens: dict[str, str | None], role: str
) -> None:
    token = tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    schema = schemathesis.openapi.from_url(f"{module_server.url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(operation.as_strategy(), operation.as_strategy().map(_existing)))
        def run(case: Any) -> None:
            response = case.call(base_url=module_server.url, headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:600]}")
    assert failures == [], "\n\n".join(failures)
