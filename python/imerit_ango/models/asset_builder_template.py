"""Asset builder templates (HTML templates filled from CSV rows)."""
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional, TypedDict

from imerit_ango import _native


class DataConfigItemTags(Enum):
    TEXT = 'text'
    LINK = 'link'
    IMAGE = 'image'
    AUDIO = 'audio'
    VIDEO = 'video'
    IFRAME = 'iframe'
    PDF = 'pdf'


@dataclass
class DataConfigItem:
    """How one CSV column is used: its type, its storage and whether it is exported."""
    type: str
    storage: Optional[str] = None
    include_in_export: bool = False

    def __post_init__(self) -> None:
        # The core checks the type and the storage (ValueError, as the official SDK).
        self.to_dict()

    def to_dict(self) -> Dict[str, Any]:
        """``{"type", "includeInExport", "storage"?}``, checked by the core (a known type;
        a storage for media types): ``ValueError`` otherwise."""
        return _native.model_to_dict("DataConfigItem", self)

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "DataConfigItem":
        return DataConfigItem(type=data.get("type", ""), storage=data.get("storage"),
                              include_in_export=data.get("includeInExport", False))


class PreLabelOption(TypedDict):
    value: str
    schemaId: str


class PreLabelCla(TypedDict, total=False):
    schemaId: str
    tool: str
    title: str
    required: bool
    classifications: List[Any]
    multiple: bool
    options: List[PreLabelOption]
    shortcutKey: str
    frameSpecific: bool


class PreLabelConfigItem(TypedDict):
    cla: PreLabelCla
    value: str


PreLabelConfig = Dict[str, PreLabelConfigItem]


@dataclass
class AssetBuilderTemplate:
    """A template: HTML with ``{{column}}`` placeholders plus how each column is used."""
    name: str
    template: str
    external_id_column: str
    data_config: Dict[str, DataConfigItem]
    description: str = ""
    batch_column: str = ""
    pre_label_config: PreLabelConfig = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("batch_column", "description", "name", "external_id_column", "template"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        for name in ("data_config", "pre_label_config"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a dictionary")

    def to_dict(self) -> Dict[str, Any]:
        """The request body (written by the core)."""
        return _native.model_to_dict("AssetBuilderTemplate", self)

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "AssetBuilderTemplate":
        return AssetBuilderTemplate(
            batch_column=data.get("batchColumn", ""),
            data_config={k: DataConfigItem.from_dict(v) for k, v in data.get("dataConfig", {}).items()},
            description=data.get("description", ""),
            name=data.get("name", ""),
            external_id_column=data.get("selectedExternalId", ""),
            template=data.get("template", ""),
            pre_label_config=data.get("preLabelConfig", {}),
        )

    def validate(self) -> bool:
        """Raises ``ValueError`` when the template cannot be used; ``True`` otherwise (the core's checks)."""
        return bool(_native.model_call("validate_asset_builder_template", {"template": self}))
