"""One error tree for all of trustops.

Every error a user can cause is a :class:`TrustOpsError`. Leaves carry the
context at fault (the column, field or value), a hint on what to do, and the
HTTP status a server should answer with. The CLI maps the tree to exit codes
in one place (``trustops.cli``); nothing else catches it to print.

::

    TrustOpsError
    ├── InputError (ValueError)            status 422, CLI exit 2
    │   ├── MissingColumnError (KeyError)  a named column is absent
    │   ├── MissingValuesError             nulls/NaN where values are required
    │   ├── LabelError                     labels do not fit the task
    │   ├── EmptyDataError                 no rows, or no usable group
    │   └── UnknownMetricError (KeyError)  a metric name we do not define
    ├── UsageError (ValueError)            status 400, CLI exit 2
    └── UnsupportedError (NotImplementedError)  status 501, CLI exit 2

Example:
    >>> from trustops.errors import MissingColumnError
    >>> err = MissingColumnError("sex", available=["age", "income"])
    >>> str(err)
    "column 'sex' not found (available: age, income)"
    >>> err.column, err.status
    ('sex', 422)
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "EmptyDataError",
    "InputError",
    "LabelError",
    "MissingColumnError",
    "MissingValuesError",
    "TrustOpsError",
    "UnknownMetricError",
    "UnsupportedError",
    "UsageError",
    "first_line",
]


class TrustOpsError(Exception):
    """Base of every error trustops raises on purpose.

    Attributes:
        message: one line, safe to show a user.
        hint: what to do about it, or ``None``.
        status: the HTTP status a server answers with.
        exit_code: the CLI exit code (2: usage or input error).
    """

    status: int = 500
    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and the hint on one line, for a terminal."""
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class InputError(TrustOpsError, ValueError):
    """The data given cannot be used as it is."""

    status = 422


class UsageError(TrustOpsError, ValueError):
    """The arguments given do not make sense together."""

    status = 400


class UnsupportedError(TrustOpsError, NotImplementedError):
    """A valid request that this version does not support."""

    status = 501


class MissingColumnError(InputError, KeyError):
    """A named column is not in the data."""

    def __init__(self, column: str, *, available: Iterable[str] = (), role: str = "") -> None:
        names = ", ".join(str(a) for a in available)
        where = f" (available: {names})" if names else ""
        what = f"{role} column" if role else "column"
        super().__init__(f"{what} {column!r} not found{where}")
        self.column = column

    __str__ = TrustOpsError.__str__


class MissingValuesError(InputError):
    """A column holds nulls or NaN where every value is required."""

    def __init__(self, column: str, count: int, *, hint: str | None = None) -> None:
        super().__init__(f"column {column!r} has {count} missing value(s) (null or NaN)", hint=hint)
        self.column = column
        self.count = count


class LabelError(InputError):
    """Labels do not fit the task (e.g. three classes for a binary metric)."""

    def __init__(self, column: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"column {column!r}: {message}", hint=hint)
        self.column = column


class EmptyDataError(InputError):
    """There are no rows, or nothing left to compare."""


def first_line(exc: BaseException) -> str:
    """The first line of a foreign exception's message (its type's name if it has none).

    Example:
        >>> first_line(ValueError("bad value")), first_line(KeyError())
        ('bad value', 'KeyError')
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class UnknownMetricError(InputError, KeyError):
    """A metric name that trustops does not define."""

    def __init__(self, name: str, *, known: Iterable[str] = ()) -> None:
        names = ", ".join(sorted(known))
        super().__init__(f"unknown metric {name!r}" + (f" (known: {names})" if names else ""))
        self.metric = name

    __str__ = TrustOpsError.__str__
