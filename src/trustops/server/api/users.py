"""Users, API tokens and memberships (administrators only).

A token's secret is in the response that issues it and nowhere else: the
store keeps its SHA-256, listings show ids, labels and dates. Every change
is audited with the administrator as actor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from pydantic import Field

from trustops.core.access import Permission, Role
from trustops.server.api import api_router
from trustops.server.api.schemas import USER_PATTERN, Body, Out, SystemName, UserName
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("users")

Admin = Annotated[Caller, Depends(requires(Permission.USER_ADMIN))]
TokenId = Annotated[str, Path(pattern=r"^tok_[0-9a-f]{16}$", description="A token's id.")]


class UserIn(Body):
    name: Annotated[str, Field(pattern=USER_PATTERN)]
    admin: bool = False


class UserOut(Out):
    name: str
    admin: bool
    roles: dict[str, str]
    created_at: str
    created_by: str


class TokenIn(Body):
    label: Annotated[str, Field(max_length=200)] | None = None
    expires_at: datetime | None = Field(default=None, description="When it stops working.")


class IssuedTokenOut(Out):
    id: str
    user: str
    secret: str = Field(description="The token: shown this once, stored only as its hash.")
    expires_at: str | None


class TokenOut(Out):
    id: str
    user: str
    label: str | None
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    revoked_by: str | None


class MembershipIn(Body):
    role: Role


def _identity(caller: Caller) -> Any:
    from trustops.governance.identity import Identity

    return Identity(caller.registry)


@router.get("/users", summary="Every user and their roles")
def list_users(caller: Admin) -> list[UserOut]:
    return [UserOut(**u.to_dict()) for u in _identity(caller).users()]


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: UserIn, caller: Admin) -> UserOut:
    return UserOut(**_identity(caller).create_user(body.name, admin=body.admin).to_dict())


@router.post(
    "/users/{user}/tokens", status_code=201, summary="Issue an API token (its secret shown once)"
)
def issue_token(user: UserName, body: TokenIn, caller: Admin) -> IssuedTokenOut:
    issued = _identity(caller).issue_token(user, expires_at=body.expires_at, label=body.label)
    return IssuedTokenOut(
        id=issued.id, user=issued.user, secret=issued.secret, expires_at=issued.expires_at
    )


@router.get("/tokens", summary="Tokens (of one user, or all); never their secrets")
def list_tokens(
    caller: Admin, user: Annotated[str | None, Query(pattern=USER_PATTERN)] = None
) -> list[TokenOut]:
    return [TokenOut(**k.to_dict()) for k in _identity(caller).tokens(user)]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: TokenId, caller: Admin) -> None:
    _identity(caller).revoke_token(token_id)


@router.put(
    "/systems/{system}/members/{user}", summary="Give a user a role in a system (replacing theirs)"
)
def grant(system: SystemName, user: UserName, body: MembershipIn, caller: Admin) -> dict[str, str]:
    _identity(caller).grant(user, system, body.role)
    return {"system": system, "user": user, "role": str(body.role)}


@router.delete(
    "/systems/{system}/members/{user}", status_code=204, summary="Take a user out of a system"
)
def revoke(system: SystemName, user: UserName, caller: Admin) -> None:
    _identity(caller).revoke(user, system)
