"""Who acts: users, API tokens, per-system roles and dashboard sessions, every change audited.

A token's secret is ``tro_`` and 43 characters of ``secrets.token_urlsafe(32)``
(256 random bits). It is shown once, when issued; the store keeps only its
SHA-256, looks a presented secret up by that hash and compares the two in
constant time (:func:`hmac.compare_digest`). A token can expire and be
revoked; an unknown, revoked or expired secret gets the same
:class:`AuthenticationError`, which never repeats the secret. A fresh store
has no user at all: the first administrator is made with
``trustops admin create NAME --role admin``, which prints its token once.

Roles are held per AI system (:mod:`trustops.core.access`); a
:class:`Principal` is an authenticated user with those roles, and is what the
server, the CLI's approval commands and :mod:`trustops.governance.approvals`
check permissions on.

A dashboard session is the same idea with an ``trs_`` secret and an expiry
(8 hours unless told), ended on logout and refused once its user's token is
revoked. Its CSRF token is derived from the session secret by HMAC, so it is
the same on every page of the session and useless without the session.

The audit log records every change (``user.created``, ``token.issued``,
``token.revoked``, ``membership.granted``, ``membership.revoked``,
``session.started``, ``session.ended``, ``access.refused``) with ids, never
secrets.

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="root").project)
    >>> _ = reg.create_system("credit")
    >>> ids = Identity(reg)
    >>> _ = ids.create_user("rita")
    >>> ids.grant("rita", "credit", Role.REVIEWER)
    >>> issued = ids.issue_token("rita")
    >>> issued.secret.startswith("tro_"), len(issued.secret)
    (True, 47)
    >>> who = ids.authenticate(issued.secret)
    >>> who.user, who.role("credit"), who.can(Permission.APPROVAL_DECIDE, "credit")
    ('rita', <Role.REVIEWER: 'reviewer'>, True)
    >>> who.visible("hr")
    False
    >>> ids.revoke_token(issued.id)
    >>> ids.authenticate(issued.secret)
    Traceback (most recent call last):
    ...
    trustops.governance.identity.AuthenticationError: invalid, expired or revoked credentials
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trustops.core.access import Permission, Role, allows
from trustops.errors import InputError, TrustOpsError
from trustops.governance import schema as t
from trustops.governance.registry import Change, ConflictError, NotFoundError, Registry

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "Identity",
    "IssuedSession",
    "IssuedToken",
    "Principal",
    "TokenInfo",
    "User",
    "check_csrf",
    "csrf_token",
]

TOKEN_PREFIX = "tro_"
SESSION_PREFIX = "trs_"
_SECRET = re.compile(r"(tro|trs)_[A-Za-z0-9_-]{43}")
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,199}")
_CSRF_CONTEXT = b"trustops csrf v1"
_AUTH_FAILED = "invalid, expired or revoked credentials"


class AuthenticationError(TrustOpsError):
    """No valid credentials: unknown, revoked, expired or malformed (one message for all)."""

    status = 401

    def __init__(self) -> None:
        super().__init__(_AUTH_FAILED, hint="log in again, or ask an administrator for a token")


class AccessDenied(TrustOpsError):
    """An authenticated user whose roles do not allow the action."""

    status = 403


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _stamp(moment: datetime) -> str:
    """A time as the store writes it (ISO-8601 UTC, microseconds, ``Z``)."""
    if moment.tzinfo is None:
        raise InputError(f"time {moment.isoformat()} has no time zone", hint="give a UTC time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 of a fixed context, keyed by the session secret.

    The same for every form of one session, different between sessions, and
    not computable from anything the store keeps (it keeps only SHA-256 of the
    secret).

    Example:
        >>> a = csrf_token("trs_" + "a" * 43)
        >>> a == csrf_token("trs_" + "a" * 43), a == csrf_token("trs_" + "b" * 43), len(a)
        (True, False, 64)
    """
    return hmac.new(session_secret.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def check_csrf(session_secret: str, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token (compared in constant time).

    Example:
        >>> s = "trs_" + "a" * 43
        >>> check_csrf(s, csrf_token(s)), check_csrf(s, "forged"), check_csrf(s, None)
        (True, False, False)
    """
    if not isinstance(token, str):
        return False
    return hmac.compare_digest(csrf_token(session_secret).encode(), token.encode("utf-8"))


@dataclass(frozen=True)
class Principal:
    """An authenticated user: who, whether a global administrator, the role in each system.

    ``credential`` is the id of the token or session that authenticated the
    request (never its secret).
    """

    user: str
    admin: bool
    roles: Mapping[str, Role]
    credential: str | None = None

    def role(self, system: str) -> Role | None:
        """The user's role in ``system`` (None: not a member)."""
        return self.roles.get(system)

    def can(self, permission: Permission | str, system: str | None = None) -> bool:
        """Whether the user may do ``permission`` on ``system``.

        Without a system: a permission that belongs to no system (creating
        systems, managing users), or one the user holds in any of their systems.
        """
        if self.admin and allows(Role.ADMIN, permission):
            return True
        if system is None:
            return any(allows(role, permission) for role in self.roles.values())
        return allows(self.roles.get(system), permission)

    def visible(self, system: str) -> bool:
        """Whether the user may know ``system`` exists (an administrator, or a member)."""
        return self.admin or system in self.roles

    def require(self, permission: Permission | str, system: str | None = None) -> None:
        """Raise :class:`AccessDenied` unless :meth:`can`."""
        if not self.can(permission, system):
            where = f" in system {system!r}" if system else ""
            raise AccessDenied(f"{self.user} may not {permission}{where}")


@dataclass(frozen=True)
class User:
    """A user and their role in each system (``admin``: a global administrator)."""

    name: str
    admin: bool
    roles: dict[str, str]
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TokenInfo:
    """What is known of a token, never its secret."""

    id: str
    user: str
    label: str | None
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    revoked_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown this once (it is left out of the repr)."""

    id: str
    user: str
    secret: str = field(repr=False)
    expires_at: str | None = None


@dataclass(frozen=True)
class IssuedSession:
    """A new dashboard session: its id, its secret (the cookie) and its CSRF token."""

    id: str
    user: str
    expires_at: str
    secret: str = field(repr=False)
    csrf: str = field(repr=False)


def _audit(
    change: Change,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    reason: str | None = None,
) -> None:
    """An audit entry by ``actor`` (who may not be the registry's actor) in ``change``."""
    registry = change.registry
    registry.last_receipt = registry.audit.append(
        change.conn,
        change.pending,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload,
        reason=reason,
    )


def _token_principal() -> sa.Select[Any]:
    """A token by the hash of its secret, with its user and one row per membership."""
    k, u, m, s = t.api_tokens.c, t.users.c, t.memberships.c, t.systems.c
    members = t.memberships.join(t.systems, s.id == m.system_id)
    return (
        sa.select(k.id, k.hash, k.expires_at, k.revoked_at, u.name.label("user"), u.admin,
                  s.name.label("system"), m.role)
        .select_from(t.api_tokens.join(t.users, u.id == k.user_id).outerjoin(
            members, m.user_id == u.id))
        .where(k.hash == sa.bindparam("digest"))
    )  # fmt: skip


# Built once: a request's authentication only binds the digest.
_TOKEN_PRINCIPAL = _token_principal()


class Identity:
    """Users, tokens, memberships and sessions of one store (see the module docstring).

    ``clock`` gives the current UTC time (tests move it to expire tokens).
    """

    def __init__(self, registry: Registry, *, clock: Callable[[], datetime] | None = None) -> None:
        self.registry = registry
        self.clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> str:
        return _stamp(self.clock())

    # -- users -----------------------------------------------------------------

    def _user_row(self, conn: Connection, name: str) -> Any:
        if not isinstance(name, str) or not _USER.fullmatch(name):
            raise InputError(
                f"invalid user name {name!r}",
                hint="letters, digits, '.', '_', '@' or '-' (at most 200)",
            )
        row = conn.execute(sa.select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"user {name!r} does not exist")
        return row

    def _roles(self, conn: Connection, user_id: int) -> dict[str, Role]:
        m, s = t.memberships.c, t.systems.c
        rows = conn.execute(
            sa.select(s.name, m.role)
            .join(t.systems, s.id == m.system_id)
            .where(m.user_id == user_id)
        ).all()
        return {r.name: Role(r.role) for r in rows}

    def create_user(self, name: str, *, admin: bool = False) -> User:
        """Add a user (``admin``: a global administrator); they have no token yet."""
        if not isinstance(name, str) or not _USER.fullmatch(name):
            raise InputError(
                f"invalid user name {name!r}",
                hint="letters, digits, '.', '_', '@' or '-' (at most 200)",
            )
        with self.registry.transaction() as change:
            taken = change.conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name))
            if taken.first() is not None:
                raise ConflictError(f"user {name!r} already exists")
            now = self._now()
            change.conn.execute(
                t.users.insert().values(
                    name=name, admin=bool(admin), created_at=now, created_by=self.registry.actor
                )
            )
            change.audit("user.created", f"user:{name}", {"name": name, "admin": bool(admin)})
        return User(name, bool(admin), {}, now, self.registry.actor)

    def users(self) -> list[User]:
        """Every user with their roles, by name."""
        with self.registry.db.read() as conn:
            rows = conn.execute(sa.select(t.users).order_by(t.users.c.name)).all()
            return [
                User(r.name, bool(r.admin), {k: str(v) for k, v in self._roles(conn, r.id).items()},
                     r.created_at, r.created_by)
                for r in rows
            ]  # fmt: skip

    # -- memberships -----------------------------------------------------------

    def _system_id(self, conn: Connection, system: str) -> int:
        sid = conn.execute(sa.select(t.systems.c.id).where(t.systems.c.name == system)).scalar()
        if sid is None:
            raise NotFoundError(f"system {system!r} is not registered")
        return int(sid)

    def grant(self, user: str, system: str, role: Role | str) -> None:
        """Make ``user`` a ``role`` of ``system`` (replacing the role they had there)."""
        try:
            role = Role(role)
        except ValueError:
            raise InputError(
                f"unknown role {role!r}", hint=f"roles: {', '.join(r.value for r in Role)}"
            ) from None
        if role is Role.ADMIN:
            raise InputError(
                "admin is not a role within a system",
                hint="administrators are global: trustops admin create NAME --role admin",
            )
        with self.registry.transaction() as change:
            conn = change.conn
            uid = self._user_row(conn, user).id
            sid = self._system_id(conn, system)
            m = t.memberships.c
            where = (m.user_id == uid) & (m.system_id == sid)
            previous = conn.execute(sa.select(m.role).where(where)).scalar()
            if previous == role.value:
                return
            values = {
                "role": role.value,
                "created_at": self._now(),
                "created_by": self.registry.actor,
            }
            if previous is None:
                conn.execute(t.memberships.insert().values(user_id=uid, system_id=sid, **values))
            else:
                conn.execute(t.memberships.update().where(where).values(**values))
            change.audit(
                "membership.granted",
                f"system:{system}",
                {"user": user, "system": system, "role": role.value, "previous": previous},
            )

    def revoke(self, user: str, system: str) -> None:
        """Remove ``user`` from ``system``."""
        with self.registry.transaction() as change:
            conn = change.conn
            uid = self._user_row(conn, user).id
            sid = self._system_id(conn, system)
            m = t.memberships.c
            where = (m.user_id == uid) & (m.system_id == sid)
            previous = conn.execute(sa.select(m.role).where(where)).scalar()
            if previous is None:
                raise NotFoundError(f"user {user!r} is not a member of system {system!r}")
            conn.execute(t.memberships.delete().where(where))
            change.audit(
                "membership.revoked",
                f"system:{system}",
                {"user": user, "system": system, "role": previous},
            )

    # -- tokens ----------------------------------------------------------------

    def issue_token(
        self, user: str, *, expires_at: datetime | None = None, label: str | None = None
    ) -> IssuedToken:
        """A new API token for ``user``; its secret is in the result and nowhere else."""
        expiry = None
        if expires_at is not None:
            expiry = _stamp(expires_at)
            if expiry <= self._now():
                raise InputError(f"expires_at {expiry} is in the past")
        if label is not None and (not isinstance(label, str) or len(label) > 200):
            raise InputError("a token label is text of at most 200 characters")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(8)
        with self.registry.transaction() as change:
            uid = self._user_row(change.conn, user).id
            change.conn.execute(
                t.api_tokens.insert().values(
                    id=token_id, user_id=uid, hash=_digest(secret), label=label,
                    expires_at=expiry, created_at=self._now(), created_by=self.registry.actor,
                )
            )  # fmt: skip
            change.audit(
                "token.issued",
                f"user:{user}",
                {"token": token_id, "user": user, "label": label, "expires_at": expiry},
            )
        return IssuedToken(token_id, user, secret, expiry)

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token (and end the sessions it opened): it authenticates no more."""
        k = t.api_tokens.c
        with self.registry.transaction() as change:
            conn = change.conn
            row = conn.execute(
                sa.select(k.revoked_at, t.users.c.name)
                .join(t.users, t.users.c.id == k.user_id)
                .where(k.id == token_id)
            ).first()
            if row is None:
                raise NotFoundError(f"token {token_id!r} does not exist")
            if row.revoked_at is not None:
                raise ConflictError(f"token {token_id!r} was already revoked at {row.revoked_at}")
            now = self._now()
            conn.execute(
                t.api_tokens.update()
                .where(k.id == token_id)
                .values(revoked_at=now, revoked_by=self.registry.actor)
            )
            s = t.sessions.c
            conn.execute(
                t.sessions.update()
                .where(s.credential == token_id, s.ended_at.is_(None))
                .values(ended_at=now)
            )
            change.audit("token.revoked", f"user:{row.name}", {"token": token_id, "user": row.name})

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        """Tokens (of one user, or all), oldest first; never their secrets."""
        k, u = t.api_tokens.c, t.users.c
        query = sa.select(t.api_tokens, u.name).join(t.users, u.id == k.user_id)
        with self.registry.db.read() as conn:
            if user is not None:
                query = query.where(k.user_id == self._user_row(conn, user).id)
            rows = conn.execute(query.order_by(k.created_at, k.id)).all()
        return [
            TokenInfo(r.id, r.name, r.label, r.created_at, r.created_by, r.expires_at,
                      r.revoked_at, r.revoked_by)
            for r in rows
        ]  # fmt: skip

    def _principal(self, conn: Connection, user_id: int, credential: str) -> Principal:
        u = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).one()
        return Principal(u.name, bool(u.admin), self._roles(conn, u.id), credential)

    def authenticate(self, secret: str) -> Principal:
        """The user a token's secret belongs to, or :class:`AuthenticationError`.

        One indexed query per call (token, user and roles joined), nothing
        cached: a revoked token or membership counts from the next request.
        """
        if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
            raise AuthenticationError()
        if not secret.startswith(TOKEN_PREFIX):
            raise AuthenticationError()
        digest = _digest(secret)
        with self.registry.db.read() as conn:
            rows = conn.execute(_TOKEN_PRINCIPAL, {"digest": digest}).all()
        if not rows or not hmac.compare_digest(rows[0].hash, digest):
            raise AuthenticationError()
        row = rows[0]
        if row.revoked_at is not None or (
            row.expires_at is not None and row.expires_at <= self._now()
        ):
            raise AuthenticationError()
        roles = {r.system: Role(r.role) for r in rows if r.system is not None}
        return Principal(row.user, bool(row.admin), roles, row.id)

    # -- sessions ----------------------------------------------------------------

    def create_session(
        self, principal: Principal, *, ttl: timedelta = timedelta(hours=8)
    ) -> IssuedSession:
        """A dashboard session for an authenticated user (``ttl``: how long it lasts)."""
        if ttl <= timedelta(0):
            raise InputError("a session must last some time (ttl > 0)")
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        session_id = "ses_" + secrets.token_hex(8)
        expires = _stamp(self.clock() + ttl)
        with self.registry.transaction() as change:
            uid = self._user_row(change.conn, principal.user).id
            change.conn.execute(
                t.sessions.insert().values(
                    id=session_id, user_id=uid, hash=_digest(secret),
                    credential=principal.credential, created_at=self._now(), expires_at=expires,
                )
            )  # fmt: skip
            _audit(
                change,
                principal.user,
                "session.started",
                f"user:{principal.user}",
                {"session": session_id, "credential": principal.credential, "expires_at": expires},
            )
        return IssuedSession(session_id, principal.user, expires, secret, csrf_token(secret))

    def _session_row(self, conn: Connection, secret: str) -> Any:
        if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
            raise AuthenticationError()
        if not secret.startswith(SESSION_PREFIX):
            raise AuthenticationError()
        digest = _digest(secret)
        s, k = t.sessions.c, t.api_tokens.c
        row = conn.execute(
            sa.select(s.id, s.hash, s.user_id, s.expires_at, s.ended_at, k.revoked_at)
            .outerjoin(t.api_tokens, k.id == s.credential)
            .where(s.hash == digest)
        ).first()
        if row is None or not hmac.compare_digest(row.hash, digest):
            raise AuthenticationError()
        if row.ended_at is not None or row.revoked_at is not None or row.expires_at <= self._now():
            raise AuthenticationError()
        return row

    def authenticate_session(self, secret: str) -> Principal:
        """The user of a live session, or :class:`AuthenticationError` (ended, expired, revoked)."""
        with self.registry.db.read() as conn:
            row = self._session_row(conn, secret)
            return self._principal(conn, row.user_id, row.id)

    def session_csrf(self, secret: str) -> str:
        """The CSRF token of the session (see :func:`csrf_token`)."""
        return csrf_token(secret)

    def end_session(self, secret: str) -> None:
        """Log out: the session authenticates no more."""
        with self.registry.transaction() as change:
            row = self._session_row(change.conn, secret)
            user = change.conn.execute(
                sa.select(t.users.c.name).where(t.users.c.id == row.user_id)
            ).scalar_one()
            change.conn.execute(
                t.sessions.update().where(t.sessions.c.id == row.id).values(ended_at=self._now())
            )
            _audit(change, user, "session.ended", f"user:{user}", {"session": row.id})

    # -- refusals ----------------------------------------------------------------

    def record_refusal(self, principal: Principal, action: str, subject: str, status: int) -> None:
        """Audit that an authenticated user was refused ``action`` on ``subject``."""
        with self.registry.transaction() as change:
            _audit(
                change,
                principal.user,
                "access.refused",
                subject,
                {"action": action, "status": int(status), "credential": principal.credential},
            )
