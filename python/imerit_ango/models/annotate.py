"""Annotation payloads for ``SDK.annotate_task``."""
from typing import Any, Dict, List, Optional

from imerit_ango import _native


class Answer:
    """The objects (tools), classifications and relations of an annotation."""

    def __init__(self, objects: Optional[List[Dict[str, Any]]] = None,
                 classifications: Optional[List[Dict[str, Any]]] = None,
                 relations: Optional[List[Dict[str, Any]]] = None) -> None:
        self.objects: List[Dict[str, Any]] = objects if objects else []
        self.classifications: List[Dict[str, Any]] = classifications if classifications else []
        self.relations: List[Dict[str, Any]] = relations if relations else []

    def toDict(self) -> Dict[str, Any]:
        return {'objects': self.objects, 'classifications': self.classifications, 'relations': self.relations}


class AnnotationPayload:
    """An answer plus optional brush-mask URLs (or raw brush arrays)."""

    def __init__(self, answer: Optional[Answer] = None, brush_data_url: Optional[str] = None,
                 medical_brush_data_url: Optional[str] = None, brush_data: Any = None,
                 medical_brush_data: Any = None) -> None:
        self.answer = answer
        self.brush_data_url = brush_data_url
        self.medical_brush_data_url = medical_brush_data_url
        self.brush_data = brush_data
        self.medical_brush_data = medical_brush_data

    def toDict(self) -> Dict[str, Any]:
        return _native.model_to_dict("AnnotationPayload", self)
