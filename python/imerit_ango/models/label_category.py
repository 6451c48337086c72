"""Ontology (label set) classes: tools, classifications, relations and their options.

These are attribute holders with the official SDK's constructors and attribute names.
New schemaIds and colours, tree flattening and ``toDict()`` come from the Rust core.
"""
import enum
from typing import Any, Dict, List, Optional

from imerit_ango import _native
from imerit_ango._util import enum_value as _enum_value


class Tool(enum.Enum):
    BoundingBox = "bounding-box"
    Segmentation = "segmentation"
    Polyline = "polyline"
    Polygon = "polygon"
    RotatedBoundingBox = "rotated-bounding-box"
    Ner = "ner"
    Point = "point"
    Pdf = "pdf"
    Brush = "brush"
    PCT = "pct"


class Classification(enum.Enum):
    Multi_dropdown = "multi-dropdown"
    Single_dropdown = "single-dropdown"
    Tree_dropdown = "tree-dropdown"
    Radio = "radio"
    Checkbox = "checkbox"
    Text = "text"
    Instance = "instance"
    Boolean = "boolean"


class Relation(enum.Enum):
    Single = "one-to-one"
    Group = "group"
    Many = "one-to-many"


def random_color() -> str:
    """A random ``#RRGGBB`` colour (from the core)."""
    return str(_native.model_call("random_color"))


class LabelOption:
    """One answer of a classification: its text and its schemaId."""

    def __init__(self, value: str, schemaId: Optional[str] = None) -> None:
        self.value = value
        self.schemaId = schemaId if schemaId else _native.model_call("new_schema_id")

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("LabelOption", self)


class TreeOption:
    """A node of a tree-dropdown classification."""

    def __init__(self, title: str, key: Optional[str] = None, value: Optional[str] = None,
                 children: Optional[List["TreeOption"]] = None) -> None:
        generated = _native.model_call("new_schema_id")
        self.title = title
        self.children: List[TreeOption] = children if children else []
        # The official SDK stores a given key as `schemaId` and then fails to flatten the
        # tree; we keep it as `key`, which is what the tree and the server use.
        self.key = key if key else generated
        self.value = value if value else generated

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("TreeOption", self)


class Category:
    """Fields shared by tools, classifications and relations."""

    def __init__(self, tool: str, title: str = "", required: bool = False, schemaId: Optional[str] = None,
                 columnField: bool = False, color: Optional[str] = None, shortcutKey: str = "",
                 classifications: Optional[List[Any]] = None,
                 options: Optional[List[LabelOption]] = None) -> None:
        self.tool = tool
        self.title = title
        self.required = required
        self.columnField = columnField
        self.color = color if color else _native.model_call("random_color")
        self.shortcutKey = shortcutKey
        self.classifications: List[Any] = classifications if classifications else []
        self.options: List[LabelOption] = options if options else []
        self.schemaId = schemaId if schemaId else _native.model_call("new_schema_id")

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("Category", self)


class ClassificationCategory(Category):
    """A classification (question) of the label set."""

    def __init__(self, classification: Classification, title: str = "", required: bool = False,
                 schemaId: Optional[str] = None, columnField: bool = False, color: Optional[str] = None,
                 shortcutKey: str = "", classifications: Optional[List[Any]] = None,
                 options: Optional[List[LabelOption]] = None, treeOptions: Optional[List[TreeOption]] = None,
                 frameSpecific: bool = False, parentOptionId: Optional[str] = None, regex: Optional[str] = None,
                 showDropdown: bool = False, richText: bool = False, exportName: Optional[str] = None,
                 displayName: Optional[str] = None, abbreviatedName: Optional[str] = None,
                 attributeType: Optional[str] = None, defaultValue: Optional[bool] = None) -> None:
        self.treeOptions: List[TreeOption] = treeOptions if treeOptions else []
        if self.treeOptions:
            # A tree's options are its flattened paths ("A / B / C"), built by the core.
            options = [LabelOption(value, schema_id)
                       for value, schema_id in _native.model_call("flatten_tree_options", {"nodes": self.treeOptions})]
        super().__init__(_enum_value(classification), title, required, schemaId, columnField, color,
                         shortcutKey, classifications, options)
        self.regex = regex
        self.parentOptionId = parentOptionId
        self.frameSpecific = frameSpecific
        self.showDropdown = showDropdown
        self.richText = richText
        self.exportName = exportName
        self.displayName = displayName
        self.abbreviatedName = abbreviatedName
        self.attributeType = attributeType
        self.defaultValue = defaultValue


class RelationCategory(Category):
    """A relation of the label set."""

    def __init__(self, relation: Relation, title: str = "", required: bool = False, schemaId: Optional[str] = None,
                 columnField: bool = False, color: Optional[str] = None, shortcutKey: str = "",
                 classifications: Optional[List[ClassificationCategory]] = None,
                 options: Optional[List[LabelOption]] = None) -> None:
        super().__init__(_enum_value(relation), title, required, schemaId, columnField, color,
                         shortcutKey, classifications, options)


class ToolCategory(Category):
    """A labeling tool of the label set."""

    def __init__(self, tool: Tool, title: str = "", required: bool = False, schemaId: Optional[str] = None,
                 columnField: bool = False, color: Optional[str] = None, shortcutKey: str = "",
                 classifications: Optional[List[ClassificationCategory]] = None,
                 options: Optional[List[LabelOption]] = None) -> None:
        super().__init__(_enum_value(tool), title, required, schemaId, columnField, color,
                         shortcutKey, classifications, options)


def flatten(x: Any, title: Optional[str] = None) -> List[LabelOption]:
    """Tree options (one or a list) as ``LabelOption``s with ``"A / B"`` path values."""
    nodes = x if isinstance(x, list) else [x]
    return [LabelOption(value, schema_id)
            for value, schema_id in _native.model_call("flatten_tree_options", {"nodes": nodes, "title": title})]
