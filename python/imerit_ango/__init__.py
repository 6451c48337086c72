"""iMerit Ango Hub SDK: a drop-in replacement for ``imerit-ango`` 1.4.10, backed by Rust."""
from imerit_ango.exceptions import (
    AngoCancelledError,
    AngoConnectionError,
    AngoDecodeError,
    AngoError,
    AngoHTTPError,
    AngoInconsistentError,
    AngoInternalError,
    AngoInvalidArgumentError,
    AngoIOError,
    AngoNotFoundError,
    AngoTimeoutError,
)
from imerit_ango.version import __version__

__all__ = [
    "AngoCancelledError",
    "AngoConnectionError",
    "AngoDecodeError",
    "AngoError",
    "AngoHTTPError",
    "AngoInconsistentError",
    "AngoInternalError",
    "AngoInvalidArgumentError",
    "AngoIOError",
    "AngoNotFoundError",
    "AngoTimeoutError",
    "__version__",
]
