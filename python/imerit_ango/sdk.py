"""The ``SDK`` class: every public method of the official ``imerit-ango`` 1.4.10 SDK.

Each method keeps the official name, parameters, defaults and return value, and sends
the same request. The work (validation, defaults, batch-name resolution, serialisation,
retries, uploads, export download) is done by the Rust core, without holding the GIL,
so one ``SDK`` can be shared by many threads.

The plain request/response methods are not written here: ``SDK`` inherits them from
``_table.TableMethods``, generated from the core's method table with the official names,
parameters and defaults and the table's documentation; each calls the core's
``Client.call``. This module only writes what is Python's own: legacy export arguments,
warnings and log lines, uploads, iterators and brush arrays.
"""
from __future__ import annotations

# Not `typing.TYPE_CHECKING`: importing typing costs more than this module (type
# checkers treat any constant of this name the same way).
TYPE_CHECKING = False

from imerit_ango import _native
from imerit_ango._table import LAZY_NAMES as _LAZY
from imerit_ango._table import TableMethods

if TYPE_CHECKING:
    # Annotations only: the generated module imports their names for type checkers
    # (sdk.pyi is the typed interface). At run time each is imported by the method that
    # uses it, or on first access as an attribute of this module (`__getattr__` below,
    # from `_LAZY`), so that `import imerit_ango.sdk` loads only what a first call needs.
    from imerit_ango._table import *  # noqa: F403

    ProgressArg = Union[None, bool, Callable[[int, int], Any]]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        if name == "ProgressArg":
            from typing import Any, Callable, Union
            value: object = Union[None, bool, Callable[[int, int], Any]]
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        import importlib
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "SDK", "DEFAULT_HOST", "Metrics", "StorageFileTypes", "ProjectRoles", "ExportFormats", "ProjectType",
    "ReviewStatus", "MedicalPlane", "ExportOptions", "Invitation", "RoleUpdate", "ToolCategory",
    "ClassificationCategory", "RelationCategory", "LLM", "Storage", "TaskFilter", "merge_annotations",
    "AnnotationPayload", "AssetBuilderTemplate", "ChatAssetCreationConfig", "Answer",
]

DEFAULT_HOST: str = _native.DEFAULT_HOST
HEADERS: Dict[str, str] = {'Content-Type': 'application/json'}

class SDK(TableMethods):
    """A client for Ango Hub.

    ``SDK(api_key)`` talks to the default host, or to ``$ANGO_HOST`` when that is set.
    The keyword-only extras tune the core: ``timeout`` (seconds per request, ``0`` for
    none), ``max_retries``, ``concurrency`` (parallel transfers) and ``progress``
    (progress bars for bulk work). ``None`` keeps the core's default.
    """

    def __init__(self, api_key: Optional[str], host: Optional[str] = None, *, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None, concurrency: Optional[int] = None,
                 progress: Optional[bool] = None) -> None:
        # The key lives in the native client only (see the `api_key` property), so that
        # vars(sdk), sdk.__dict__ and pickled/copied state never show it. Without a host,
        # the core takes $ANGO_HOST, else the default host.
        self._client = _native.Client(api_key or "", host, timeout=timeout, max_retries=max_retries,
                                      concurrency=concurrency, progress=progress)
        self.host = host if host is not None else self._client.host
        self.setup_logger()
        #: Per-file outcomes of the last ``upload_files`` call made by this thread's SDK.
        self.last_upload_report: Optional[Dict[str, Any]] = None

    def with_options(self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None,
                     concurrency: Optional[int] = None, progress: Optional[bool] = None) -> "SDK":
        """A copy of this SDK with some settings changed, for a few calls: it shares the
        connections and the key, e.g. ``sdk.with_options(timeout=600).exportV3(...)``."""
        import copy
        other = copy.copy(self)
        other._client = self._client.with_options(timeout=timeout, max_retries=max_retries,
                                                  concurrency=concurrency, progress=progress)
        return other

    @property
    def api_key(self) -> str:
        """The API key (kept out of ``repr()``, ``vars()``, errors and logs)."""
        return self._client.api_key

    def __repr__(self) -> str:
        return f"SDK(host={self.host!r})"

    def setup_logger(self) -> None:
        """Sets ``self.logger``, the official logger name: silent unless the application
        configures logging (warnings still reach stderr through the last-resort handler)."""
        import logging
        self.logger = logging.getLogger(self.__class__.__name__)

    # ------------------------------------------------------------------------------------------------------------
    # Table methods with Python-only behaviour (their docstrings start with the table's)
    # ------------------------------------------------------------------------------------------------------------
    def get_tasks(self, project_id: Optional[str], page: int = 1, limit: int = 10, status: Optional[str] = None,
                  stage: Optional[str] = None, batches: Optional[List[str]] = None, include_answer: bool = False,
                  task_filter: Optional[TaskFilter] = None, sort: Optional[str] = None,
                  fields: Optional[str] = None, *, stages: Optional[str] = None) -> Any:
        """``status``, ``stage`` and ``batches`` warn (``DeprecationWarning``), as in the
        official SDK."""
        import warnings
        for name, value in (("status", status), ("batches", batches), ("stage", stage or stages)):
            if value:
                warnings.warn(f"The '{name}' parameter is deprecated. Use task_filter=TaskFilter({name}=...) instead.",
                              DeprecationWarning, stacklevel=2)
        return super().get_tasks(project_id, page, limit, status, stage, batches, bool(include_answer), task_filter,
                                 sort, fields, stages=stages)

    def get_task_history(self, task_history_id: Optional[str] = None,
                         task_id: Optional[str] = None) -> Any:
        """Logs an error (``"id or task_id should be specified!"``) when neither is given."""
        if not task_history_id and not task_id:
            self.logger.error("id or task_id should be specified!")
        return super().get_task_history(task_history_id, task_id)

    def upload_chat_assets(self, project_id: Optional[str], chat_asset_creation_config: ChatAssetCreationConfig,
                           priority: int = 0) -> Any:
        """Logs the official warnings for a missing storage or LLM configuration, and the
        reply's error, if any."""
        config = chat_asset_creation_config
        if config.storage_id is None:
            self.logger.warning("'storage_id' field is not set, uploading to iMerit's private S3 bucket.")
        if config.llm_config is None:
            self.logger.warning("'llm_config' field is not set, created assets will be 'static'")
        response = super().upload_chat_assets(project_id, config, priority)
        if isinstance(response, dict) and response.get("error"):
            error = response["error"]
            status = error.get("statusCode", 500) if isinstance(error, dict) else 500
            self.logger.error("%s - %s", status, response.get("message", "Something went wrong"))
        return response

    def upload_files_with_asset_builder(self, project_id: Optional[str], template_id: str, input_file_path: str,
                                        parse_config: Optional[Dict[str, Any]] = None, priority: int = 0) -> None:
        """Returns ``None`` (as the official SDK) and logs the upload at INFO level."""
        super().upload_files_with_asset_builder(project_id, template_id, input_file_path, parse_config, priority)
        self.logger.info("Successfully uploaded assets to project %s", project_id)

    def annotate_task(self, task_id: str, payload: AnnotationPayload, overwrite: bool = False,
                      send_to_next_stage: bool = False) -> bool:
        """Raw brush arrays (``brush_data``) are not uploaded: pass ``brush_data_url``."""
        return self._annotate_task(task_id, payload, overwrite, send_to_next_stage)

    def _annotate_task(self, task_id: str, payload: AnnotationPayload, overwrite: bool = False,
                       send_to_next_stage: bool = False, is_plugin: bool = False) -> bool:
        """``annotate_task`` as plugins call it (``is_plugin`` marks the request)."""
        if getattr(payload, "brush_data", None) is not None or getattr(payload, "medical_brush_data", None) is not None:
            self.logger.warning("raw brush arrays are not uploaded by this SDK; pass brush_data_url instead")
        fields = {name: getattr(payload, name, None)
                  for name in ("answer", "brush_data_url", "medical_brush_data_url")}
        return bool(self._client.call("annotate_task", {
            "task_id": task_id, "payload": fields, "overwrite": bool(overwrite),
            "send_to_next_stage": bool(send_to_next_stage), "is_plugin": bool(is_plugin)}))

    # ------------------------------------------------------------------------------------------------------------
    # Exports
    # ------------------------------------------------------------------------------------------------------------
    def export(self, project_id: Optional[str], options: Optional[Union[ExportOptions, List[str]]] = None,
               zip_file_path: Optional[Any] = None, *, assignees: Optional[List[str]] = None,
               completed_at: Optional[List[datetime]] = None, updated_at: Optional[List[datetime]] = None,
               batches: Optional[List[str]] = None) -> Any:
        """Exports the project (see ``exportV3``).

        Also accepts the v1.3.14 form ``export(project_id, assignees, completed_at,
        updated_at, batches)``: ``batches`` and ``updated_at`` become ``ExportOptions``;
        the server no longer filters by assignee or completion time, so those two are
        ignored with a ``DeprecationWarning``. Options given together with the older
        filters are an ``AngoInvalidArgumentError``.
        """
        return self._client.export(project_id, {
            "method": "export", "options": options, "zip_file_path": zip_file_path, "assignees": assignees,
            "completed_at": completed_at, "updated_at": updated_at, "batches": batches})

    def exportV3(self, project_id: Optional[str], options: Optional[Union[ExportOptions, List[str]]] = None,
                 zip_file_path: Optional[Any] = None, *,
                 batches: Optional[List[str]] = None, stage: Optional[List[str]] = None,
                 format: Optional[Union[str, ExportFormats]] = None, type: Optional[Union[str, ExportTypes]] = None,
                 filters: Optional[Dict[str, str]] = None) -> Any:
        """Exports the project: the parsed JSON; for NDJSON an ``(iterator, line_count)``
        tuple; ``None`` when ``zip_file_path`` is given (the archive is saved there).

        Also accepts the v1.3.14 form ``exportV3(project_id, batches, stage, format, type,
        zip_file_path, filters)``, mapped onto ``ExportOptions`` by the core.
        """
        return self._client.export(project_id, {
            "options": options, "zip_file_path": zip_file_path, "batches": batches, "stage": stage,
            "format": format, "type": type, "filters": filters})

    def export_iter(self, project_id: Optional[str], options: Optional[ExportOptions] = None) -> Iterator[Dict[str, Any]]:
        """Streams an NDJSON export record by record, without holding it all in memory."""
        from imerit_ango.models.enums import ExportFormats
        from imerit_ango.models.export_options import ExportOptions
        if options is None:
            options = ExportOptions(export_format=ExportFormats.NDJSON)
        elif options.export_format != ExportFormats.NDJSON:
            raise ValueError("export_iter needs ExportOptions(export_format=ExportFormats.NDJSON)")
        return self._client.export(project_id, {"options": options}, False)[0]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------------------------------------------------
    # Uploads of local files
    # ------------------------------------------------------------------------------------------------------------
    def upload_files(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str] = None,
                     batches: Optional[List[str]] = None, priority: int = 0, *,
                     progress: ProgressArg = None) -> Any:
        """Uploads local files and imports them; returns the import response, as the
        official SDK does. ``progress`` may be a bool (progress bar) or a callable
        ``(done, total)``; per-file outcomes are in :meth:`upload_files_report`'s result
        and in ``self.last_upload_report``."""
        from imerit_ango.exceptions import AngoError
        report, registration_error = self._upload(project_id, file_paths, storage_id, batches, priority, progress)
        failed = [f for f in report["files"] if f["status"]["outcome"] != "uploaded"]
        for outcome in failed:
            self.logger.warning("not uploaded: %s (%s)", outcome["path"], outcome["status"]["error"])
        if registration_error is not None:
            raise registration_error
        if report["response"] is None and failed:
            raise AngoError(f"none of the {len(failed)} files could be uploaded: {failed[0]['status']['error']}",
                            code="UPLOAD_FAILED")
        return report["response"]

    def upload_files_report(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str] = None,
                            batches: Optional[List[str]] = None, priority: int = 0, *,
                            progress: ProgressArg = None) -> Any:
        """Like ``upload_files``, but never raises for a file or registration failure.

        Returns the core's upload report, ``{"response", "registration_error", "files"}``
        (the shape Node and the CLI give too): ``response`` is the import response
        (``None`` if nothing was registered), ``registration_error`` the import call's
        error text, and ``files`` one ``{"path", "external_id", "status"}`` per input
        file, in order, where ``status`` is ``{"outcome": "uploaded", "url"}``,
        ``{"outcome": "failed", "error"}`` or ``{"outcome": "unknown", "url", "error"}``
        (the import failed ambiguously and looking the asset up by external id failed
        too). Invalid arguments (unknown project, storage or batch) still raise before
        anything is uploaded.
        """
        return self._upload(project_id, file_paths, storage_id, batches, priority, progress)[0]

    def _upload(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str],
                batches: Optional[List[str]], priority: int,
                progress: ProgressArg) -> Tuple[Dict[str, Any], Optional[BaseException]]:
        callback, flag = (progress, None) if callable(progress) else (None, progress)
        report, error = self._client.upload_files(project_id, list(file_paths), {
            "storage_id": storage_id, "batches": batches, "priority": priority, "progress": flag}, callback)
        self.last_upload_report = report
        return report, error

    def upload_brush_array(self, project_id: str, arr: Any, medical: bool = False) -> str:
        """Uploads a brush mask and returns its URL (for ``brush_data_url``): a numpy
        array (via ``tolist()``) or nested lists, an (h, w) mask, (h, w, 3) RGB or
        (h, w, 4) RGBA, or with ``medical=True`` a (z, y, x) volume sent as NRRD."""
        return self._client.upload_brush_array(project_id, arr, bool(medical))


# A method written above in place of a table method keeps the table's documentation first.
for _name, _method in list(vars(SDK).items()):
    _table_method = vars(TableMethods).get(_name)
    if _table_method is not None and callable(_method):
        _method.__doc__ = f"{_table_method.__doc__}\n\n{_method.__doc__ or ''}".rstrip()
