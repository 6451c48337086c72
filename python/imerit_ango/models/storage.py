"""Cloud storage integrations."""
from typing import Any, Dict, Optional

from imerit_ango import _native
from imerit_ango.models.enums import StorageProvider


class Storage:
    """A cloud bucket integration (``SDK.create_storage``)."""

    def __init__(self, name: str, provider: StorageProvider, public_key: Optional[str] = None,
                 private_key: Optional[str] = None, region: str = 'eu-central-1',
                 credentials: Optional[str] = None) -> None:
        self.name = name
        self.provider = provider
        self.publicKey = public_key
        self.privateKey = private_key
        self.region = region
        self.credentials = credentials

    def to_dict(self) -> Dict[str, Any]:
        return _native.model_to_dict("Storage", self)

    def __repr__(self) -> str:
        # Never show the keys.
        return f"Storage(name={self.name!r}, provider={self.provider!r}, region={self.region!r})"
