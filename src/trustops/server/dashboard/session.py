"""The dashboard's session cookie and its CSRF check.

Logging in exchanges an API token (typed into the login form, never put in
an address) for a session made by :meth:`Identity.create_session`; the
browser keeps only the session secret, in a cookie that is ``HttpOnly``
(scripts cannot read it), ``SameSite=Strict`` (other sites' pages do not
send it), ``Path=/`` and ``Secure`` when the dashboard is served over HTTPS.

Every form that changes something carries a hidden ``csrf`` field: the
session's CSRF token (:meth:`Identity.session_csrf`, an HMAC of the session
secret), compared in constant time. A POST without it, or with another
session's, is refused with 403 before anything is read from the form or
stored; a POST whose ``Origin`` header names another site is refused too.

Example:
    >>> same_origin("https://ops.example", "https", "ops.example")
    True
    >>> same_origin("https://evil.example", "https", "ops.example")
    False
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from trustops.server.security import SESSION_COOKIE, csrf_matches

__all__ = ["clear_cookie", "csrf_matches", "same_origin", "session_secret", "set_cookie"]


def session_secret(request: Request) -> str | None:
    """The session secret the browser sent, if any."""
    value = request.cookies.get(SESSION_COOKIE)
    return value or None


def set_cookie(request: Request, response: Response, secret: str, *, max_age: int) -> None:
    """Give the browser the session secret (see the module docstring for the flags)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def clear_cookie(request: Request, response: Response) -> None:
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def same_origin(origin: str | None, scheme: str, host: str | None) -> bool:
    """Whether an ``Origin`` header (None: not sent) is the dashboard's own."""
    if origin is None:
        return True
    return host is not None and origin == f"{scheme}://{host}"
