"""Request and response schemas of the API, and the constrained path parameters.

Request bodies derive from :class:`Body` (``extra="forbid"``: an unknown
field is a 422, never silently dropped). Path parameters are constrained
types: a system or model name is ``[A-Za-z0-9][A-Za-z0-9._-]*`` and a
reference adds ``@VERSION``, so ``..``, ``/``, ``\\``, ``%``, ``#``, ``?`` and
NUL never reach a lookup (and no lookup ever builds a file path). Responses
are described by the ``*Out`` models, published in the OpenAPI document.

Example:
    >>> import re
    >>> bool(re.fullmatch(NAME_PATTERN, "credit-scoring")), bool(re.fullmatch(NAME_PATTERN, ".."))
    (True, False)
    >>> bool(re.fullmatch(REF_PATTERN, "scorer@2")), bool(re.fullmatch(REF_PATTERN, "a/../b"))
    (True, False)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ERROR_RESPONSES",
    "NAME_PATTERN",
    "REF_PATTERN",
    "AuditEntryOut",
    "Body",
    "DatasetOut",
    "EvidenceOut",
    "ModelOut",
    "Name",
    "Problem",
    "Ref",
    "SystemName",
    "SystemOut",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}(@[0-9]{1,9})?$"
USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$"
KIND_PATTERN = r"^[a-z][a-z0-9_.-]{0,49}$"

SystemName = Annotated[str, Path(pattern=NAME_PATTERN, description="An AI system's name.")]
Ref = Annotated[
    str, Path(pattern=REF_PATTERN, description="NAME@VERSION, or NAME for the latest version.")
]
UserName = Annotated[str, Path(pattern=USER_PATTERN, description="A user's name.")]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
DataRef = Annotated[str, Field(pattern=REF_PATTERN)]
Text = Annotated[str, Field(max_length=10_000)]
PackName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]
PolicyText = Annotated[str, Field(max_length=200_000)]


class Body(BaseModel):
    """A request body: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An error: what went wrong (a list of field errors for a 422 from validation), and a hint."""

    detail: str | list[dict[str, Any]]
    hint: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in [
        (400, "the request does not make sense"),
        (401, "no valid credentials (a Bearer token or the dashboard's session)"),
        (403, "your role may not do this (or the session's CSRF token is missing)"),
        (404, "not found, or in a system you are not a member of"),
        (409, "conflicts with what is registered (a name taken, a closed gate)"),
        (413, "the request body is too large"),
        (422, "invalid input: the fields at fault, or what is wrong with the data"),
    ]
}
"""The errors every API route may answer with, documented once for all."""


class Out(BaseModel):
    """A response: documents the fields; extra ones pass through."""

    model_config = ConfigDict(extra="allow")


class SystemOut(Out):
    name: str
    owner: str | None
    purpose: str | None
    use_case: str | None
    risk: str | None
    jurisdictions: list[str]
    single_production: bool
    created_at: str
    created_by: str


class DatasetOut(Out):
    system: str
    name: str
    version: int
    ref: str
    content_hash: str
    hash_method: str
    schema_: list[dict[str, str]] = Field(alias="schema")
    row_count: int
    profile_hash: str | None
    source: str | None
    permitted_purposes: list[str]
    lawful_basis: str | None
    personal_data: bool
    retention_days: int | None
    created_at: str
    created_by: str
    parents: list[str]


class ModelOut(Out):
    system: str
    name: str
    version: int
    ref: str
    artifact_hash: str
    artifact_size: int
    framework: str | None
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    code_commit: str | None
    parent: str | None
    stage: str
    created_at: str
    created_by: str
    trained_on: list[str]
    evaluated_on: list[str]


class EvidenceOut(Out):
    id: int
    kind: str
    subject: str
    content: dict[str, Any]
    content_hash: str
    created_at: str
    created_by: str


class AuditEntryOut(Out):
    seq: int
    time: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    reason: str | None
    leaf_hash: str
