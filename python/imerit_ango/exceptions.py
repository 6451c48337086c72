"""Exceptions raised by the SDK.

Every exception the SDK raises for a failed call is an :class:`AngoError`. As in the
official SDK, ``str(error)`` of a failed HTTP request is the server's response text.
Errors for bad arguments are also :class:`ValueError`, timeouts also
:class:`TimeoutError`, and connection failures also :class:`ConnectionError`, so
existing ``except`` clauses keep working. A bug inside the SDK (a Rust panic) is an
:class:`AngoInternalError`, so ``except Exception`` catches it too.
"""
from __future__ import annotations

# Not `typing.TYPE_CHECKING`: importing typing costs more than this module (type
# checkers treat any constant of this name the same way).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Optional

__all__ = [
    "AngoError",
    "AngoHTTPError",
    "AngoTimeoutError",
    "AngoConnectionError",
    "AngoInvalidArgumentError",
    "AngoNotFoundError",
    "AngoDecodeError",
    "AngoIOError",
    "AngoInconsistentError",
    "AngoCancelledError",
    "AngoInternalError",
]


class AngoError(Exception):
    """Base class of every SDK error. ``code`` is a stable machine-readable name."""

    def __init__(self, message: str = "", *, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class AngoHTTPError(AngoError):
    """The server answered with an error status; ``str()`` is its response text."""

    def __init__(
        self,
        message: str = "",
        *,
        status_code: Optional[int] = None,
        body: Optional[str] = None,
        retry_after: Optional[float] = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(message, code=code or "HTTP")
        self.status_code = status_code
        self.body = message if body is None else body
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"AngoHTTPError(status_code={self.status_code!r}, body={self.body!r})"


class AngoTimeoutError(AngoError, TimeoutError):
    """The request did not complete in time."""


class AngoConnectionError(AngoError, ConnectionError):
    """The connection could not be made or was lost (also TLS and protocol failures)."""


class AngoInvalidArgumentError(AngoError, ValueError):
    """An argument was refused before any request was sent."""


class AngoNotFoundError(AngoError, LookupError):
    """Something the call refers to does not exist (for example a batch name)."""


class AngoDecodeError(AngoError, ValueError):
    """The server's response was not the JSON expected."""


class AngoIOError(AngoError, OSError):
    """A local file could not be read or written."""

    def __str__(self) -> str:
        return self.message


class AngoInconsistentError(AngoError):
    """The server's answers contradicted each other (for example a listing whose total
    changed while it was read), so the result could not be completed without losing
    data."""


class AngoCancelledError(AngoError):
    """The operation was cancelled before it finished."""


class AngoInternalError(AngoError, RuntimeError):
    """A bug inside the SDK was caught instead of crashing the program; please report it."""
