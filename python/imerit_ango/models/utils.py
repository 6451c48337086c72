"""Helpers on annotations."""
from typing import Any, Dict

from imerit_ango import _native
from imerit_ango.models.annotate import Answer


def merge_annotations(available_annotations: Dict[str, Any], new_annotations: Answer) -> Answer:
    """Merges an existing answer (``tools``/``classifications``/``relations``) into a new one.

    The rule is the core's (the official one): a new classification replaces an existing
    one with the same schemaId; existing tools and relations are kept after the new ones.
    """
    merged = _native.model_call("merge_annotations", {"existing": available_annotations, "new": new_annotations.toDict()})
    return Answer(objects=merged["objects"], classifications=merged["classifications"],
                  relations=merged["relations"])
