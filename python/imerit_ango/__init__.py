"""iMerit Ango Hub SDK: a drop-in replacement for ``imerit-ango`` 1.4.10, backed by Rust."""
from imerit_ango.exceptions import (
    AngoConnectionError,
    AngoDecodeError,
    AngoError,
    AngoHTTPError,
    AngoInvalidArgumentError,
    AngoIOError,
    AngoNotFoundError,
    AngoTimeoutError,
)
from imerit_ango.version import __version__

__all__ = [
    "AngoConnectionError",
    "AngoDecodeError",
    "AngoError",
    "AngoHTTPError",
    "AngoInvalidArgumentError",
    "AngoIOError",
    "AngoNotFoundError",
    "AngoTimeoutError",
    "__version__",
]
