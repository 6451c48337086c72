"""Small argument conversions shared by the package (no API logic lives here)."""
from enum import Enum
from typing import Any


def enum_value(value: Any) -> Any:
    """An ``Enum`` member's value; anything else unchanged."""
    return value.value if isinstance(value, Enum) else value
