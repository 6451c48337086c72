"""Small argument conversions shared by the package (no API logic lives here)."""
from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def enum_value(value: Any) -> Any:
    """An ``Enum`` member's value; anything else unchanged."""
    # No `import enum` at import time: until something has imported it, no value can
    # be an Enum member.
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(value, enum.Enum):
        return value.value
    return value
