"""Users, tokens, memberships and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from trustops.core.access import Permission, Role
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.governance import schema as t
from trustops.governance.identity import (
    AccessDenied,
    AuthenticationError,
    Identity,
    Principal,
    check_csrf,
    csrf_token,
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(registry: Registry, clock: Clock) -> Identity:
    registry.create_system("credit")
    registry.create_system("hr")
    return Identity(registry, clock=clock)


def _all_text(registry: Registry, tmp_path: Path) -> str:
    """Everything the store holds in text: the audit export and every table row."""
    path = tmp_path / "audit.jsonl"
    registry.audit.export(path)
    parts = [path.read_text()]
    with registry.db.read() as conn:
        for table in t.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    return "\n".join(parts)


def test_a_fresh_store_has_no_user_and_no_token(identity: Identity) -> None:
    assert identity.users() == []
    assert identity.tokens() == []


def test_token_is_256_bit_random_and_stored_only_as_its_hash(
    identity: Identity, registry: Registry, tmp_path: Path
) -> None:
    identity.create_user("ada", admin=True)
    issued = identity.issue_token("ada", label="laptop")
    body = issued.secret.removeprefix("tro_")
    assert issued.secret.startswith("tro_") and len(body) == 43  # 32 bytes, base64url
    assert issued.secret not in repr(issued)
    with registry.db.read() as conn:
        stored = conn.execute(sa.select(t.api_tokens.c.hash)).scalar_one()
    assert stored == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert body not in _all_text(registry, tmp_path)
    assert all(body not in repr(info) for info in identity.tokens())
    second = identity.issue_token("ada")
    assert second.secret != issued.secret and second.id != issued.id


def test_authenticate_gives_the_principal_with_roles(identity: Identity) -> None:
    identity.create_user("rita")
    identity.grant("rita", "credit", "reviewer")
    issued = identity.issue_token("rita")
    who = identity.authenticate(issued.secret)
    assert who == Principal("rita", False, {"credit": Role.REVIEWER}, issued.id)
    assert who.can(Permission.APPROVAL_DECIDE, "credit")
    assert not who.can(Permission.APPROVAL_DECIDE, "hr")
    assert not who.can(Permission.USER_ADMIN)
    assert who.visible("credit") and not who.visible("hr")
    with pytest.raises(AccessDenied, match="rita may not system:create"):
        who.require(Permission.SYSTEM_CREATE)


def test_authentication_compares_in_constant_time(
    identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity.create_user("ada")
    issued = identity.issue_token("ada")
    calls = []
    real = hmac.compare_digest

    def spy(a: object, b: object) -> bool:
        calls.append((a, b))
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr("trustops.governance.identity.hmac.compare_digest", spy)
    identity.authenticate(issued.secret)
    assert (
        calls and calls[0][0] == calls[0][1] == hashlib.sha256(issued.secret.encode()).hexdigest()
    )


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "tro_",
        "tro_" + "a" * 43,
        "trs_" + "a" * 43,
        "Bearer x",
        "tro_" + "a" * 42 + "!",
        None,
        7,
    ],
)
def test_unknown_or_malformed_secrets_are_refused_without_echo(
    identity: Identity, secret: object
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        identity.authenticate(secret)  # type: ignore[arg-type]
    assert caught.value.status == 401
    if isinstance(secret, str) and secret:
        assert secret not in str(caught.value) and secret not in caught.value.one_line()


def test_revoked_token_is_refused_with_the_same_message(
    identity: Identity, registry: Registry, tmp_path: Path
) -> None:
    identity.create_user("ada")
    issued = identity.issue_token("ada")
    unknown = identity.issue_token("ada")
    identity.revoke_token(unknown.id)
    identity.revoke_token(issued.id)
    with pytest.raises(AuthenticationError) as revoked:
        identity.authenticate(issued.secret)
    with pytest.raises(AuthenticationError) as never:
        identity.authenticate("tro_" + "Z" * 43)
    assert str(revoked.value) == str(never.value)
    with pytest.raises(ConflictError, match="already revoked"):
        identity.revoke_token(issued.id)
    with pytest.raises(NotFoundError):
        identity.revoke_token("tok_nope")
    info = {i.id: i for i in identity.tokens("ada")}[issued.id]
    assert info.revoked_at is not None and info.revoked_by == "alice"
    assert issued.secret.removeprefix("tro_") not in _all_text(registry, tmp_path)


def test_a_token_is_checked_with_one_query_that_sees_every_change_at_once(
    identity: Identity, registry: Registry
) -> None:
    identity.create_user("ada")
    issued = identity.issue_token("ada")
    assert identity.authenticate(issued.secret).roles == {}  # no membership: still signed in
    identity.grant("ada", "credit", Role.DATA_SCIENTIST)
    identity.grant("ada", "hr", Role.VIEWER)
    queries: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement.strip() != "SELECT 1":
            queries.append(statement)

    sa.event.listen(registry.db.engine, "before_cursor_execute", seen)
    try:
        who = identity.authenticate(issued.secret)
    finally:
        sa.event.remove(registry.db.engine, "before_cursor_execute", seen)
    assert len(queries) == 1
    assert who.roles == {"credit": Role.DATA_SCIENTIST, "hr": Role.VIEWER}
    assert who.user == "ada" and not who.admin and who.credential == issued.id
    identity.revoke("ada", "hr")  # nothing cached: the next request sees it
    assert identity.authenticate(issued.secret).roles == {"credit": Role.DATA_SCIENTIST}
    identity.revoke_token(issued.id)
    with pytest.raises(AuthenticationError):
        identity.authenticate(issued.secret)


def test_expired_token_is_refused(identity: Identity, clock: Clock) -> None:
    identity.create_user("ada")
    issued = identity.issue_token("ada", expires_at=clock.now + timedelta(days=1))
    assert identity.authenticate(issued.secret).user == "ada"
    clock.now += timedelta(days=1)
    with pytest.raises(AuthenticationError):
        identity.authenticate(issued.secret)
    with pytest.raises(Exception, match="in the past"):
        identity.issue_token("ada", expires_at=clock.now - timedelta(seconds=1))


def test_memberships_are_per_system_and_audited(identity: Identity, registry: Registry) -> None:
    identity.create_user("dan")
    identity.grant("dan", "credit", Role.DATA_SCIENTIST)
    identity.grant("dan", "credit", Role.DATA_SCIENTIST)  # unchanged: nothing recorded
    identity.grant("dan", "hr", Role.VIEWER)
    identity.grant("dan", "hr", Role.REVIEWER)
    assert identity.users()[0].roles == {"credit": "data_scientist", "hr": "reviewer"}
    identity.revoke("dan", "hr")
    assert identity.users()[0].roles == {"credit": "data_scientist"}
    with pytest.raises(NotFoundError):
        identity.revoke("dan", "hr")
    with pytest.raises(NotFoundError, match="system 'nope'"):
        identity.grant("dan", "nope", Role.VIEWER)
    with pytest.raises(NotFoundError, match="user 'eve'"):
        identity.grant("eve", "credit", Role.VIEWER)
    with pytest.raises(Exception, match="admin is not a role within a system"):
        identity.grant("dan", "credit", Role.ADMIN)
    with pytest.raises(Exception, match="unknown role"):
        identity.grant("dan", "credit", "boss")
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("membership.granted") == 3
    assert actions.count("membership.revoked") == 1
    assert registry.audit.verify().ok


def test_users_names_are_unique_and_checked(identity: Identity) -> None:
    identity.create_user("ada")
    with pytest.raises(ConflictError):
        identity.create_user("ada")
    for bad in ("", "../x", "a b", "x" * 201):
        with pytest.raises(Exception, match="invalid user name"):
            identity.create_user(bad)


def test_admin_is_global_but_not_a_reviewer(identity: Identity) -> None:
    identity.create_user("root", admin=True)
    who = identity.authenticate(identity.issue_token("root").secret)
    assert who.can(Permission.USER_ADMIN) and who.can(Permission.SYSTEM_CREATE)
    assert who.visible("credit") and who.can(Permission.SYSTEM_READ, "hr")
    assert not who.can(Permission.APPROVAL_DECIDE, "credit")
    assert not who.can(Permission.POLICY_OVERRIDE, "credit")


def test_sessions_expire_end_on_logout_and_follow_their_token(
    identity: Identity, clock: Clock, registry: Registry, tmp_path: Path
) -> None:
    identity.create_user("rita")
    identity.grant("rita", "credit", Role.REVIEWER)
    token = identity.issue_token("rita")
    who = identity.authenticate(token.secret)
    session = identity.create_session(who, ttl=timedelta(hours=1))
    assert session.secret not in repr(session) and session.csrf not in repr(session)
    assert identity.authenticate_session(session.secret).user == "rita"
    assert identity.authenticate_session(session.secret).credential == session.id
    assert identity.session_csrf(session.secret) == session.csrf == csrf_token(session.secret)
    assert check_csrf(session.secret, session.csrf)
    other = identity.create_session(who)
    assert not check_csrf(session.secret, other.csrf)
    with pytest.raises(AuthenticationError):  # a session secret is not an API token
        identity.authenticate(session.secret)
    with pytest.raises(AuthenticationError):  # nor the reverse
        identity.authenticate_session(token.secret)

    identity.end_session(session.secret)
    with pytest.raises(AuthenticationError):
        identity.authenticate_session(session.secret)
    with pytest.raises(AuthenticationError):
        identity.end_session(session.secret)

    clock.now += timedelta(hours=9)
    with pytest.raises(AuthenticationError):  # past its 8 hours
        identity.authenticate_session(other.secret)

    third = identity.create_session(who)
    identity.revoke_token(token.id)
    with pytest.raises(AuthenticationError):
        identity.authenticate_session(third.secret)

    text = _all_text(registry, tmp_path)
    for secret in (session.secret, other.secret, third.secret, token.secret):
        assert secret.split("_", 1)[1] not in text
    assert session.csrf not in text
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("session.started") == 3 and actions.count("session.ended") == 1


def test_refusals_are_audited_with_the_actor(identity: Identity, registry: Registry) -> None:
    identity.create_user("vic")
    identity.grant("vic", "credit", Role.VIEWER)
    who = identity.authenticate(identity.issue_token("vic").secret)
    identity.record_refusal(who, "model:promote", "model:credit/scorer@1", 403)
    entry = registry.audit.entries()[-1]
    assert (entry.actor, entry.action, entry.subject) == (
        "vic",
        "access.refused",
        "model:credit/scorer@1",
    )
    assert entry.payload == {"action": "model:promote", "status": 403, "credential": who.credential}


def test_every_identity_change_is_audited_without_secrets(
    identity: Identity, registry: Registry, tmp_path: Path
) -> None:
    identity.create_user("ada", admin=True)
    issued = identity.issue_token("ada", label="ci")
    identity.revoke_token(issued.id)
    entries = registry.audit.entries()
    assert [e.action for e in entries[-3:]] == ["user.created", "token.issued", "token.revoked"]
    assert all(e.actor == "alice" for e in entries[-3:])
    assert entries[-2].payload["token"] == issued.id
    dumped = json.dumps([e.to_dict() for e in entries])
    assert issued.secret not in dumped
    assert registry.audit.verify().ok


def test_identity_reads_and_writes_survive_reopening(
    open_registry: Callable[..., Registry],
) -> None:
    first = open_registry()
    first.create_system("credit")
    ids = Identity(first)
    ids.create_user("ada")
    ids.grant("ada", "credit", Role.COMPLIANCE_OFFICER)
    issued = ids.issue_token("ada")
    again = Identity(open_registry(actor="bob"))
    assert again.authenticate(issued.secret).role("credit") is Role.COMPLIANCE_OFFICER
