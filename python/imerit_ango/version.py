"""Package version."""
from imerit_ango._native import __version__ as _native_version

#: The version of this package.
__version__: str = _native_version
#: The official ``imerit-ango`` release whose API this package reproduces.
COMPATIBLE_WITH: str = "1.4.10"
