"""Format converters: Ango exports to COCO, YOLO and Pascal VOC, and COCO or YOLO
annotations back to Ango's label import format.

The work is done by the Rust core (``ango_core::formats``), streamed and without the
GIL: a large export converts in flat memory. What a format cannot represent (a
classification in YOLO, a PDF asset, a point...) is never dropped silently: the
returned report counts it by reason and lists it per row.

    from imerit_ango import formats

    report = formats.convert("export.ndjson", to="coco", ontology="ontology.json", out="coco.json")
    print(report["images"], report["annotations"], report["byReason"])

    report = formats.export_as(sdk, project_id, to="yolo", out="dataset/")

    labels, dry_run = formats.coco_to_import("coco.json", ontology, assets=sdk.get_assets(project_id)["data"]["assets"])
    if not dry_run["unmatchedImages"]:
        sdk.import_labels(project_id, labels)

Formats (``to``): ``"coco"`` (one JSON file), ``"yolo"`` (a detection dataset directory
with ``data.yaml``), ``"yolo-seg"`` (segmentation), ``"voc"`` (a directory of VOC XML).

An ontology is a path to a JSON file, or its parsed JSON: a category schema
(``{"tools": [...], ...}``), an object with a ``categorySchema``, a ``get_project``
answer, or a list of tools (dicts or ``ToolCategory`` objects). Its region tools
(bounding box, polygon, segmentation, rotated box), in order, are the classes.

Errors raise the package's exceptions (``imerit_ango.exceptions``): an unknown format
or a bad ontology ``AngoInvalidArgumentError``, a file that cannot be read or written
``AngoIOError``, a file that is not JSON ``AngoDecodeError``, and the server's errors
as every SDK call raises them.
"""
import os
from typing import (TYPE_CHECKING, Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple,
                    TypedDict, Union, cast)

from imerit_ango import _native
from imerit_ango.models.export_options import ExportOptions

if TYPE_CHECKING:
    from imerit_ango.sdk import SDK

__all__ = [
    "ConversionIssue",
    "ConversionReport",
    "ImportIssue",
    "ImportReport",
    "coco_to_import",
    "convert",
    "export_as",
    "yolo_to_import",
]

PathLike = Union[str, "os.PathLike[str]"]
"""A file system path."""

TargetFormat = Literal["coco", "yolo", "yolo-seg", "voc"]
"""What ``convert`` and ``export_as`` write."""

Ontology = Union[PathLike, Mapping[str, Any], Sequence[Any]]
"""A path to an ontology JSON file, a category schema (or ``get_project`` answer), or a
list of tools."""


class ConversionIssue(TypedDict):
    """One thing a conversion could not represent (or changed)."""

    row: int
    """The row's number in the export, from 1."""
    externalId: Optional[str]
    objectId: Optional[str]
    reason: str
    """A stable name: ``not-an-image``, ``classification``, ``unsupported-shape``..."""
    detail: str


class ConversionReport(TypedDict):
    """What a conversion wrote and what it could not represent."""

    format: str
    rows: int
    images: int
    annotations: int
    clipped: int
    """Coordinates moved inside the image (YOLO and VOC need them inside)."""
    rowsWithIssues: int
    issueCount: int
    byReason: Dict[str, int]
    """Every issue counted by reason."""
    issues: List[ConversionIssue]
    """The first 10,000 issues, in export order."""


class ImportIssue(TypedDict):
    """An annotation that will not be imported."""

    image: str
    annotation: Optional[str]
    reason: str


class ImportReport(TypedDict):
    """The dry run of an import: what would be imported and what does not match."""

    images: int
    matchedImages: int
    unmatchedImages: List[str]
    """Images with no asset of that external id (left out)."""
    annotations: int
    objects: int
    items: int
    unmatchedCategories: Dict[str, int]
    """Annotations per category name that is not a region tool of the ontology."""
    issues: List[ImportIssue]


Labels = List[Dict[str, Any]]
"""``import_labels`` items: ``{"externalId": ..., "objects": [...]}``."""

Assets = Sequence[Union[str, Mapping[str, Any]]]
"""Assets to match images to: dicts as ``get_assets`` lists them (or export rows), with
``externalId`` and ``metadata.width``/``height``, or bare external ids."""


def convert(export: Union[PathLike, Iterable[Any]], to: TargetFormat, ontology: Ontology,
            out: PathLike) -> ConversionReport:
    """Converts an export to ``to`` at ``out`` (a file for COCO, a directory otherwise).

    ``export`` is an export file (NDJSON, or a JSON array), or an iterable of rows: dicts
    (as ``SDK.export_iter`` yields them) or NDJSON lines, read one at a time. A row that
    does not decode is reported (``unreadable-row``) and the conversion goes on; an
    exception raised by the iterable stops it and propagates.
    """
    args: Dict[str, Any] = {"to": to, "ontology": ontology, "out": out}
    if isinstance(export, (str, os.PathLike)):
        return cast(ConversionReport, _native.formats_call("convert", dict(args, export=export)))
    return cast(ConversionReport, _native.formats_call("convert", args, export))


def export_as(sdk: "SDK", project_id: str, to: TargetFormat, out: PathLike,
              export_options: Optional[ExportOptions] = None,
              ontology: Optional[Ontology] = None) -> ConversionReport:
    """Exports a project and converts it on the fly to ``to`` at ``out``, streamed (the
    export is never held in memory). Without ``ontology``, the project's own is used.

    ``export_options`` filter the tasks as for ``SDK.exportV3`` (default
    ``ExportOptions()``, as there; its format is ignored: NDJSON is always requested). Takes the ``SDK`` object as its first argument, so
    ``formats.export_as(sdk, ...)`` stands for an ``sdk.export_as(...)``.
    """
    return cast(ConversionReport, _native.formats_call("export_as", {
        "project_id": project_id, "to": to, "out": out, "export_options": export_options, "ontology": ontology},
        client=sdk._client))


def coco_to_import(coco: Union[PathLike, Mapping[str, Any]], ontology: Ontology,
                   assets: Optional[Assets] = None) -> Tuple[Labels, ImportReport]:
    """COCO annotations (a file, or the parsed document) to ``import_labels`` items.

    Images are matched to ``assets`` by external id (the ``file_name``, else its last
    path segment); unmatched images are reported and left out. Without ``assets``,
    every image is imported under its ``file_name``. Categories are matched to the
    ontology's region tools by name. Nothing is sent: pass the labels to
    ``SDK.import_labels`` once the report suits you.
    """
    done = _native.formats_call("coco_to_import", {"coco": coco, "ontology": ontology, "assets": assets})
    return done["labels"], cast(ImportReport, done["report"])


def yolo_to_import(dir: PathLike, ontology: Ontology, assets: Assets) -> Tuple[Labels, ImportReport]:
    """A YOLO dataset directory (``data.yaml`` and ``labels/``) to ``import_labels`` items.

    A label file is matched to the asset whose external id has the same stem; the
    asset's ``metadata.width``/``height`` undo YOLO's normalisation, so an asset without
    them is reported and left out.
    """
    done = _native.formats_call("yolo_to_import", {"dir": dir, "ontology": ontology, "assets": assets})
    return done["labels"], cast(ImportReport, done["report"])
