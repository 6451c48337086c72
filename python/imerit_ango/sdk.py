"""The ``SDK`` class: every public method of the official ``imerit-ango`` 1.4.10 SDK.

Each method keeps the official name, parameters, defaults and return value, and sends
the same request. The work (validation, batch-name resolution, serialisation, retries,
uploads, export download) is done by the Rust core, without holding the GIL, so one
``SDK`` can be shared by many threads.
"""
from __future__ import annotations

import os
# Not `typing.TYPE_CHECKING`: importing typing costs more than this module (type
# checkers treat any constant of this name the same way).
TYPE_CHECKING = False

from imerit_ango import _native
from imerit_ango._util import enum_value
from imerit_ango.exceptions import AngoInvalidArgumentError

if TYPE_CHECKING:
    # Annotations only: at run time each of these is imported by the method that uses
    # it, or on first access as an attribute of this module (see `__getattr__` below),
    # so that `import imerit_ango.sdk` loads only what a first call needs.
    from datetime import datetime
    from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

    from imerit_ango.models.annotate import AnnotationPayload, Answer
    from imerit_ango.models.asset_builder_template import AssetBuilderTemplate
    from imerit_ango.models.chat_asset_creation_config import ChatAssetCreationConfig
    from imerit_ango.models.enums import (
        ExportFormats,
        ExportTypes,
        MedicalPlane,
        Metrics,
        OrganizationRoles,
        ProjectRoles,
        ProjectType,
        ReviewStatus,
        StorageFileTypes,
        StorageProvider,
        TaskTypes,
    )
    from imerit_ango.models.export_options import ExportOptions, TimeFilter
    from imerit_ango.models.invite import Invitation, RoleUpdate
    from imerit_ango.models.label_category import ClassificationCategory, RelationCategory, ToolCategory
    from imerit_ango.models.llm import LLM
    from imerit_ango.models.storage import Storage
    from imerit_ango.models.task_filter import TaskFilter
    from imerit_ango.models.utils import merge_annotations

    ProgressArg = Union[None, bool, Callable[[int, int], Any]]

# The names the official module exposes (the docs write `from imerit_ango.sdk import
# Metrics`), each loaded from its module on first access.
_LAZY = {
    "AnnotationPayload": "imerit_ango.models.annotate",
    "Answer": "imerit_ango.models.annotate",
    "AssetBuilderTemplate": "imerit_ango.models.asset_builder_template",
    "ChatAssetCreationConfig": "imerit_ango.models.chat_asset_creation_config",
    "ExportFormats": "imerit_ango.models.enums",
    "ExportTypes": "imerit_ango.models.enums",
    "MedicalPlane": "imerit_ango.models.enums",
    "Metrics": "imerit_ango.models.enums",
    "OrganizationRoles": "imerit_ango.models.enums",
    "ProjectRoles": "imerit_ango.models.enums",
    "ProjectType": "imerit_ango.models.enums",
    "ReviewStatus": "imerit_ango.models.enums",
    "StorageFileTypes": "imerit_ango.models.enums",
    "StorageProvider": "imerit_ango.models.enums",
    "TaskTypes": "imerit_ango.models.enums",
    "ExportOptions": "imerit_ango.models.export_options",
    "TimeFilter": "imerit_ango.models.export_options",
    "Invitation": "imerit_ango.models.invite",
    "RoleUpdate": "imerit_ango.models.invite",
    "ClassificationCategory": "imerit_ango.models.label_category",
    "RelationCategory": "imerit_ango.models.label_category",
    "ToolCategory": "imerit_ango.models.label_category",
    "LLM": "imerit_ango.models.llm",
    "Storage": "imerit_ango.models.storage",
    "TaskFilter": "imerit_ango.models.task_filter",
    "merge_annotations": "imerit_ango.models.utils",
    "AngoError": "imerit_ango.exceptions",
    "datetime": "datetime",
    "Any": "typing", "Callable": "typing", "Dict": "typing", "Iterator": "typing", "List": "typing",
    "Optional": "typing", "Tuple": "typing", "Union": "typing",
}


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

# get_assets' default filters, `{}` as in the official signature (never mutated).
_NO_FILTERS: Dict[str, Any] = {}


class SDK:
    """A client for Ango Hub.

    ``SDK(api_key)`` talks to the default host, or to ``$ANGO_HOST`` when that is set.
    The keyword-only extras tune the core: ``timeout`` (seconds per request, ``0`` for
    none), ``max_retries``, ``concurrency`` (parallel transfers) and ``progress``
    (progress bars for bulk work). ``None`` keeps the core's default.
    """

    def __init__(self, api_key: Optional[str], host: Optional[str] = None, *, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None, concurrency: Optional[int] = None,
                 progress: Optional[bool] = None) -> None:
        if host is None:
            host = os.environ.get("ANGO_HOST") or DEFAULT_HOST
        if not api_key:
            raise AngoInvalidArgumentError("the API key is empty (pass it, or set it in the environment)",
                                           code="INVALID_ARGUMENT")
        self.host = host
        # The key lives in the native client only (see the `api_key` property), so that
        # vars(sdk), sdk.__dict__ and pickled/copied state never show it.
        self._client = _native.Client(api_key, host, timeout=timeout, max_retries=max_retries,
                                      concurrency=concurrency, progress=progress)
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
        # The official logger name; silent unless the application configures logging
        # (warnings still reach stderr through logging's last-resort handler).
        import logging
        self.logger = logging.getLogger(self.__class__.__name__)

    # ------------------------------------------------------------------------------------------------------------
    # Project level
    # ------------------------------------------------------------------------------------------------------------
    def add_members_to_project(self, project_id: Optional[str], members: List[str], role: ProjectRoles) -> Any:
        return self._client.add_members_to_project(project_id, members, enum_value(role))

    def assign_batches(self, project_id: Optional[str], asset_ids: List[str], batches: List[str]) -> Any:
        return self._client.assign_batches(project_id, asset_ids, batches)

    def assign_task(self, project_id: Optional[str] = None, task_ids: Optional[List[str]] = None,
                    stage_filter: Optional[str] = None, email: Optional[str] = None, *,
                    project: Optional[str] = None, tasks: Optional[List[str]] = None,
                    stage: Optional[str] = None) -> Any:
        # The v1.3.14 documentation names these project/tasks/stage; both spellings work.
        project_id = _either("project_id", project_id, "project", project)
        task_ids = _either("task_ids", task_ids, "tasks", tasks)
        stage_filter = _either("stage_filter", stage_filter, "stage", stage)
        if project_id is None or task_ids is None or stage_filter is None or email is None:
            raise TypeError("assign_task() needs project_id, task_ids, stage_filter and email")
        return self._client.assign_task(project_id, task_ids, stage_filter, email)

    def create_attachment(self, project_id: Optional[str], attachments: List[Dict[str, Any]]) -> Any:
        return self._client.create_attachment(project_id, attachments)

    def create_batch(self, project_id: Optional[str], batch_name: str) -> Any:
        return self._client.create_batch(project_id, batch_name)

    def create_batches(self, project_id: Optional[str], batch_names: List[str]) -> Any:
        return self._client.create_batches(project_id, list(batch_names))

    def create_issue(self, task_id: str, content: str,
                     content_mentions: Optional[Union[List[str], List[int], List[float]]] = None,
                     object_id: Optional[str] = None,
                     position: Optional[Union[int, float, List[int], List[float]]] = None,
                     error_codes: Optional[List[Dict[str, Any]]] = None, pct_details: Optional[Dict[str, Any]] = None,
                     page: Optional[int] = None, page_end: Optional[int] = None, data_index: Optional[int] = None,
                     plane: Optional[Union[str, MedicalPlane]] = None) -> Any:
        # The v1.3.14 documentation calls create_issue(task_id, content, position): a third
        # positional argument of numbers is a position, not a list of mentioned emails.
        if position is None and _is_position(content_mentions):
            position, content_mentions = content_mentions, None  # type: ignore[assignment]
        return self._client.create_issue(task_id, content, content_mentions, object_id, position, error_codes,
                                         pct_details, page, page_end, data_index, enum_value(plane))

    def create_label_set(self, project_id: Optional[str], tools: Optional[List[ToolCategory]] = None,
                         classifications: Optional[List[ClassificationCategory]] = None,
                         relations: Optional[List[RelationCategory]] = None,
                         raw_category_schema: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.create_label_set(project_id, tools, classifications, relations, raw_category_schema)

    def create_project(self, name: str, description: Optional[str] = None,
                       project_type: Optional[ProjectType] = None) -> Any:
        return self._client.create_project(name, description or None, project_type or None)

    def clone_project(self, project_id: Optional[str], *, category_schema: bool = True, assigned_to: bool = True,
                      batches: bool = True, workflow: bool = True, plugin_presets: bool = True,
                      project_general_settings: bool = True) -> Any:
        return self._client.clone_project(project_id, category_schema, assigned_to, batches, workflow,
                                          plugin_presets, project_general_settings)

    def delete_issue(self, project_id: Optional[str], issue_id: str) -> Any:
        return self._client.delete_issue(project_id, issue_id)

    def update_issue(self, issue_id: str, content: Optional[str] = None, content_mentions: Optional[List[str]] = None,
                     status: Optional[str] = None, pct_details: Optional[Dict[str, Any]] = None,
                     error_codes: Optional[List[Dict[str, Any]]] = None) -> Any:
        return self._client.update_issue(issue_id, content, content_mentions, status, pct_details, error_codes)

    def add_comment_to_issue(self, issue_id: str, content: str,
                             content_mentions: Optional[List[str]] = None) -> Any:
        return self._client.add_comment_to_issue(issue_id, content, content_mentions)

    def delete_project(self, project_id: Optional[str]) -> Any:
        return self._client.delete_project(project_id)

    def purge_project(self, project_id: Optional[str], confirm_name: str) -> Any:
        return self._client.purge_project(project_id, confirm_name)

    def export(self, project_id: Optional[str], options: Optional[Union[ExportOptions, List[str]]] = None,
               zip_file_path: Optional[Any] = None, *, assignees: Optional[List[str]] = None,
               completed_at: Optional[List[datetime]] = None, updated_at: Optional[List[datetime]] = None,
               batches: Optional[List[str]] = None) -> Any:
        """Exports the project (see ``exportV3``).

        Also accepts the v1.3.14 form ``export(project_id, assignees, completed_at,
        updated_at, batches)``: ``batches`` and ``updated_at`` become ``ExportOptions``;
        the server no longer filters by assignee or completion time, so those two are
        ignored with a warning.
        """
        from imerit_ango.models.export_options import ExportOptions
        import warnings
        legacy = not isinstance(options, (ExportOptions, type(None)))
        legacy = legacy or (zip_file_path is not None and not isinstance(zip_file_path, (str, os.PathLike)))
        if legacy:
            assignees = assignees if assignees is not None else options  # type: ignore[assignment]
            completed_at = completed_at if completed_at is not None else zip_file_path
            options, zip_file_path = None, None
        if assignees or completed_at or updated_at or batches:
            if options is not None:
                raise TypeError("pass either options or the legacy filters, not both")
            if assignees or completed_at:
                warnings.warn("export(): 'assignees' and 'completed_at' are no longer supported by the "
                              "export API and are ignored; use ExportOptions", DeprecationWarning, stacklevel=2)
            options = ExportOptions(batches=batches,
                                    updated_at=_time_filter(updated_at) if updated_at else None)
        return self.exportV3(project_id, options, zip_file_path)

    def exportV3(self, project_id: Optional[str], options: Optional[Union[ExportOptions, List[str]]] = None,
                 zip_file_path: Optional[Any] = None, *,
                 batches: Optional[List[str]] = None, stage: Optional[List[str]] = None,
                 format: Optional[Union[str, ExportFormats]] = None, type: Optional[Union[str, ExportTypes]] = None,
                 filters: Optional[Dict[str, str]] = None) -> Any:
        """Exports the project: the parsed JSON; for NDJSON an ``(iterator, line_count)``
        tuple; ``None`` when ``zip_file_path`` is given (the archive is saved there).

        Also accepts the v1.3.14 form ``exportV3(project_id, batches, stage, format, type,
        zip_file_path, filters)``, mapped onto ``ExportOptions``.
        """
        from imerit_ango.models.export_options import ExportOptions
        if isinstance(options, list):
            batches, options = (batches if batches is not None else options), None
        if isinstance(zip_file_path, list):
            stage, zip_file_path = (stage if stage is not None else zip_file_path), None
        if any(v is not None for v in (batches, stage, format, type, filters)):
            if options is not None:
                raise TypeError("pass either options or batches/stage/format/type/filters, not both")
            options = _legacy_export_options(batches, stage, format, type, filters)
        if options is None:
            options = ExportOptions()
        path = os.fspath(zip_file_path) if zip_file_path else None
        return self._client.export(project_id, options, path)

    def export_iter(self, project_id: Optional[str], options: Optional[ExportOptions] = None) -> Iterator[Dict[str, Any]]:
        """Streams an NDJSON export record by record, without holding it all in memory."""
        from imerit_ango.models.enums import ExportFormats
        from imerit_ango.models.export_options import ExportOptions
        if options is None:
            options = ExportOptions(export_format=ExportFormats.NDJSON)
        elif options.export_format != ExportFormats.NDJSON:
            raise ValueError("export_iter needs ExportOptions(export_format=ExportFormats.NDJSON)")
        return self._client.export_iter(project_id, options)

    def get_assets(self, project_id: Optional[str], page: Any = 1, limit: Any = 10,
                   filters: Optional[Dict[str, Any]] = _NO_FILTERS, *, asset_id: Optional[str] = None,
                   external_id: Optional[str] = None) -> Any:
        # v1.3.14 documents get_assets(project_id, asset_id, external_id, page, limit, filters):
        # a string where a page number belongs is an asset id (and then an external id).
        if isinstance(page, str):
            asset_id, page = (asset_id or page), 1
            if isinstance(limit, str):
                external_id, limit = (external_id or limit), 10
        elif page is None:
            page = 1
        if limit is None:
            limit = 10
        if asset_id is not None or external_id is not None:
            filters = dict(filters) if filters else {}
            if asset_id is not None:
                filters["_id"] = asset_id
            if external_id is not None:
                filters["externalId"] = external_id
        # filters=None is sent as `null`, as the official SDK sends it.
        return self._client.get_assets(project_id, page, limit, filters)

    def get_batches(self, project_id: Optional[str]) -> List[Dict[str, Any]]:
        batches: List[Dict[str, Any]] = self._client.get_batches(project_id)
        return batches

    def get_issues(self, project_id: Optional[str], asset_id: Optional[str] = None, task_id: Optional[str] = None,
                   stage_id: Optional[str] = None, created_by: Optional[str] = None) -> Any:
        return self._client.get_issues(project_id, asset_id, task_id, stage_id, created_by)

    def get_metrics(self, project_id: Optional[str], metric: Metrics) -> Any:
        return self._client.get_metrics(project_id, enum_value(metric))

    def get_project(self, project_id: Optional[str]) -> Any:
        return self._client.get_project(project_id)

    def get_task(self, task_id: str, include_answer: bool = False) -> Any:
        return self._client.get_task(task_id, bool(include_answer))

    def get_tasks(self, project_id: Optional[str], page: int = 1, limit: int = 10, status: Optional[str] = None,
                  stage: Optional[str] = None, batches: Optional[List[str]] = None, include_answer: bool = False,
                  task_filter: Optional[TaskFilter] = None, sort: Optional[str] = None,
                  fields: Optional[str] = None, *, stages: Optional[str] = None) -> Any:
        # v1.3.14 documents the stage filter as `stages`.
        import warnings
        stage = _either("stage", stage, "stages", stages)
        for name, value in (("status", status), ("batches", batches), ("stage", stage)):
            if value:
                warnings.warn(f"The '{name}' parameter is deprecated. Use task_filter=TaskFilter({name}=...) instead.",
                              DeprecationWarning, stacklevel=2)
        return self._client.get_tasks(project_id, page, limit, enum_value(status) or None, stage or None,
                                      batches or None, bool(include_answer), task_filter, sort or None,
                                      fields or None)

    def get_task_history(self, task_history_id: Optional[str] = None,
                         task_id: Optional[str] = None) -> Any:
        if not task_history_id and not task_id:
            self.logger.error("id or task_id should be specified!")
        return self._client.get_task_history(task_history_id, task_id)

    def import_labels(self, project_id: Optional[str], labels: List[Dict[str, Any]]) -> Any:
        return self._client.import_labels(project_id, labels)

    def list_projects(self, page: int = 1, limit: int = 10) -> Any:
        return self._client.list_projects(page, limit)

    def update_workflow_stages(self, project_id: Optional[str], stages: List[Dict[str, Any]]) -> Any:
        return self._client.update_workflow_stages(project_id, stages)

    def update_benchmark_settings(self, project_id: Optional[str], benchmark_enabled: bool,
                                  benchmark_ratio: Optional[int] = None,
                                  benchmark_cutoff: Optional[bool] = None) -> Any:
        return self._client.update_benchmark_settings(project_id, benchmark_enabled, benchmark_ratio,
                                                      benchmark_cutoff)

    def set_tasks_as_benchmark(self, project_id: Optional[str], task_ids: List[str],
                               is_benchmark: bool = True) -> Any:
        return self._client.set_tasks_as_benchmark(project_id, task_ids, is_benchmark)

    def update_label_validation(self, project_id: Optional[str], custom_validation_enabled: Optional[bool] = None,
                                validation_function: Optional[str] = None,
                                external_validation: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.update_label_validation(project_id, custom_validation_enabled, validation_function,
                                                    external_validation)

    def upload_files(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str] = None,
                     batches: Optional[List[str]] = None, priority: int = 0, *,
                     progress: ProgressArg = None) -> Any:
        """Uploads local files and imports them; returns the import response, as the
        official SDK does. ``progress`` may be a bool (progress bar) or a callable
        ``(done, total)``; per-file outcomes are in :meth:`upload_files_report`'s result
        and in ``self.last_upload_report``."""
        from imerit_ango.exceptions import AngoError
        report, registration_error = self._upload(project_id, file_paths, storage_id, batches, priority, progress)
        failed = [f for f in report["files"] if not f["ok"]]
        for outcome in failed:
            self.logger.warning("not uploaded: %s (%s)", outcome["path"], outcome["error"])
        if registration_error is not None:
            raise registration_error
        if report["response"] is None and failed:
            raise AngoError(f"none of the {len(failed)} files could be uploaded: {failed[0]['error']}",
                            code="UPLOAD_FAILED")
        return report["response"]

    def upload_files_report(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str] = None,
                            batches: Optional[List[str]] = None, priority: int = 0, *,
                            progress: ProgressArg = None) -> Any:
        """Like ``upload_files``, but never raises for a file or registration failure.

        Returns ``{"response", "registration_error", "files"}``: ``response`` is the
        import response (``None`` if nothing was registered), ``registration_error`` the
        import call's error text, and ``files`` one ``{"path", "external_id", "ok",
        "url", "error", "registration"}`` per input file, in order; ``registration`` is
        ``"registered"``, ``"not_registered"`` or ``"unknown"`` (the import failed
        ambiguously and looking the asset up by external id failed too). Invalid
        arguments (unknown project, storage or batch) still raise before anything is
        uploaded.
        """
        return self._upload(project_id, file_paths, storage_id, batches, priority, progress)[0]

    def _upload(self, project_id: Optional[str], file_paths: List[Any], storage_id: Optional[str],
                batches: Optional[List[str]], priority: int,
                progress: ProgressArg) -> Tuple[Dict[str, Any], Optional[BaseException]]:
        report = self._client.upload_files(project_id, list(file_paths), storage_id or None, batches or None,
                                           priority, progress)
        # The registration call's exception (with its status and body), kept out of the report.
        error: Optional[BaseException] = report.pop("_error", None)
        self.last_upload_report = report
        return report, error

    def upload_files_cloud(self, project_id: Optional[str], assets: List[Dict[str, Any]], storage_id: Optional[str] = None,
                           batches: Optional[List[str]] = None, priority: int = 0,
                           upload_local: Optional[str] = None) -> Any:
        return self._client.upload_files_cloud(project_id, assets, storage_id, batches, priority, upload_local)

    def delete_assets(self, project_id: Optional[str], asset_ids: List[str]) -> Any:
        return self._client.delete_assets(project_id, asset_ids)

    def upload_chat_assets(self, project_id: Optional[str], chat_asset_creation_config: ChatAssetCreationConfig,
                           priority: int = 0) -> Any:
        config = chat_asset_creation_config
        if config.storage_id is None:
            self.logger.warning("'storage_id' field is not set, uploading to iMerit's private S3 bucket.")
        if config.llm_config is None:
            self.logger.warning("'llm_config' field is not set, created assets will be 'static'")
        response = self._client.upload_chat_assets(project_id, config, priority)
        if isinstance(response, dict) and response.get("error"):
            error = response["error"]
            status = error.get("statusCode", 500) if isinstance(error, dict) else 500
            self.logger.error("%s - %s", status, response.get("message", "Something went wrong"))
        return response

    def requeue_tasks(self, project_id: Optional[str], to_stage_id: str, filters: Optional[Dict[str, Any]] = None,
                      options: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.requeue_tasks(project_id, to_stage_id, filters or {}, options or {})

    def update_tasks_priority(self, project_id: Optional[str], priority: int,
                              filters: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.update_tasks_priority(project_id, priority, filters or {})

    def get_project_performance(self, project_id: Optional[str], interval: Optional[List[datetime]] = None,
                                batches: Optional[List[str]] = None) -> Any:
        return self._client.get_project_performance(project_id, interval or None, batches or None)

    # ------------------------------------------------------------------------------------------------------------
    # Organization level
    # ------------------------------------------------------------------------------------------------------------
    def create_storage(self, storage_data: Storage) -> Any:
        return self._client.create_storage(storage_data)

    def delete_organization_invites(self, organization_id: str, invite_emails: List[str]) -> Any:
        return self._client.delete_organization_invites(organization_id, invite_emails)

    def delete_organization_members(self, organization_id: str, member_emails: List[str]) -> Any:
        return self._client.delete_organization_members(organization_id, member_emails)

    def delete_storage(self, storage_id: str) -> Any:
        return self._client.delete_storage(storage_id)

    def get_organization_invites(self, organization_id: str) -> Any:
        return self._client.get_organization_invites(organization_id)

    def get_organization_members(self, organization_id: str) -> Any:
        return self._client.get_organization_members(organization_id)

    def get_storages(self, storage_id: Optional[str] = None) -> Any:
        return self._client.get_storages(storage_id or None)

    def create_llm(self, llm_data: LLM) -> Any:
        return self._client.create_llm(llm_data)

    def delete_llm(self, llm_id: str) -> Any:
        return self._client.delete_llm(llm_id)

    def get_llms(self, llm_id: Optional[str] = None) -> Any:
        return self._client.get_llms(llm_id or None)

    def list_storage_files(self, storage_id: str, bucket_name: str, path: str = "", get_signed_urls: bool = True,
                           retry_on_slow_down: bool = True) -> Any:
        return self._client.list_storage_files(storage_id, bucket_name, path, get_signed_urls, retry_on_slow_down)

    def invite_members_to_org(self, organization_id: str, invite_data: Invitation) -> Any:
        return self._client.invite_members_to_org(organization_id, invite_data)

    def update_organization_members_role(self, organization_id: str,
                                         role_updates: List[RoleUpdate]) -> Any:
        return self._client.update_organization_members_role(organization_id, role_updates)

    def send_notification(self, receivers: List[str], message: str, title: Optional[str] = None,
                          clickable_link: Optional[str] = None) -> Any:
        return self._client.send_notification(receivers, message, title, clickable_link)

    def get_asset_builder_templates(self, project_id: Optional[str]) -> Any:
        return self._client.get_asset_builder_templates(project_id)

    def create_asset_builder_template(self, project_id: Optional[str], template: AssetBuilderTemplate) -> Any:
        # The core checks the template ("Invalid template: ...") before sending it.
        return self._client.create_asset_builder_template(project_id, template)

    def upload_files_with_asset_builder(self, project_id: Optional[str], template_id: str, input_file_path: str,
                                        parse_config: Optional[Dict[str, Any]] = None, priority: int = 0) -> None:
        self._client.upload_files_with_asset_builder(project_id, template_id, os.fspath(input_file_path),
                                                     parse_config, priority)
        self.logger.info("Successfully uploaded assets to project %s", project_id)

    def upload_instructions(self, project_id: Optional[str], file_path: str, storage_id: Optional[str] = None,
                            bucket: Optional[str] = None) -> Any:
        return self._client.upload_instructions(project_id, os.fspath(file_path), storage_id or None, bucket or None)

    def annotate_task(self, task_id: str, payload: AnnotationPayload, overwrite: bool = False,
                      send_to_next_stage: bool = False) -> bool:
        return self._annotate_task(task_id, payload, overwrite, send_to_next_stage)

    def review_task(self, task_id: str, review_status: ReviewStatus,
                    pct_details: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.review_task(task_id, enum_value(review_status), pct_details)

    def file_explorer(self, bucket: str, storage_id: str, options: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.file_explorer(bucket, storage_id, options or {})

    def rerun_webhook(self, project_id: Optional[str], webhook_stage_id: str) -> Any:
        return self._client.rerun_webhook(project_id, webhook_stage_id)

    # ------------------------------------------------------------------------------------------------------------
    # Extras: lazy iteration over every page
    # ------------------------------------------------------------------------------------------------------------
    def iter_tasks(self, project_id: Optional[str], *, page_size: int = 100, status: Optional[str] = None,
                   stage: Optional[str] = None, batches: Optional[List[str]] = None, include_answer: bool = False,
                   task_filter: Optional[TaskFilter] = None, sort: Optional[str] = None,
                   fields: Optional[str] = None) -> Iterator[Dict[str, Any]]:
        """Every task of the project, fetched page by page as you iterate."""
        return self._client.iter_tasks(project_id, page_size, status, stage, batches, include_answer,
                                       task_filter, sort, fields)

    def iter_assets(self, project_id: Optional[str], *, page_size: int = 100,
                    filters: Optional[Dict[str, Any]] = None) -> Iterator[Dict[str, Any]]:
        """Every asset of the project, fetched page by page as you iterate."""
        return self._client.iter_assets(project_id, page_size, filters or {})

    def iter_projects(self, *, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Every project visible to the key, fetched page by page as you iterate."""
        return self._client.iter_projects(page_size)

    # ------------------------------------------------------------------------------------------------------------
    # Lower level (used by plugins)
    # ------------------------------------------------------------------------------------------------------------
    def _annotate_task(self, task_id: str, payload: AnnotationPayload, overwrite: bool = False,
                       send_to_next_stage: bool = False, is_plugin: bool = False) -> bool:
        if getattr(payload, "brush_data", None) is not None or getattr(payload, "medical_brush_data", None) is not None:
            self.logger.warning("raw brush arrays are not uploaded by this SDK; pass brush_data_url instead")
        return bool(self._client.annotate_task(task_id, payload, bool(overwrite), bool(send_to_next_stage),
                                               bool(is_plugin)))

    def _get_upload_url(self, file_name: str, project: str, file_type: StorageFileTypes,
                        storage_id: Optional[str] = None) -> str:
        return self._client.get_upload_url(file_name, project, enum_value(file_type), storage_id)

    def _get_signed_url(self, asset_url: str, project: str, file_type: StorageFileTypes,
                        storage_id: Optional[str] = None) -> str:
        return self._client.get_signed_url(asset_url, project, enum_value(file_type), storage_id)

    def upload_brush_array(self, project_id: str, arr: Any, medical: bool = False) -> str:
        # A numpy array (via tolist()) or nested lists: (h, w) mask, (h, w, 3) RGB,
        # (h, w, 4) RGBA, or with medical=True a (z, y, x) volume sent as NRRD.
        return self._client.upload_brush_array(project_id, arr, bool(medical))

    def make_request(self, method: str, endpoint: str, payload: Optional[Dict[str, Any]] = None) -> Any:
        return self._client.make_request(method, endpoint, payload)

    def _plugin_log(self, log: Dict[str, Any]) -> Any:
        return self._client.plugin_log(log)

    def _plugin_response(self, response: Dict[str, Any]) -> Any:
        return self._client.plugin_response(response)


def _either(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if value is not None and alias_value is not None and value != alias_value:
        raise TypeError(f"got both '{name}' and its alias '{alias}'")
    return value if value is not None else alias_value


def _is_position(value: Any) -> bool:
    numbers = (int, float)
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, numbers) and not isinstance(v, bool) for v in value))


def _time_filter(window: Any) -> TimeFilter:
    from imerit_ango.models.export_options import TimeFilter
    if isinstance(window, TimeFilter):
        return window
    if isinstance(window, (list, tuple)) and len(window) == 2:
        return TimeFilter(window[0], window[1])
    raise ValueError("a time window is [from_datetime, to_datetime]")


_FILTER_FLAGS = {
    "sendEmail": "send_email",
    "includeMetadata": "include_metadata",
    "includeHistory": "include_history",
    "includeOnlyKeyFrames": "include_key_frames_only",
    "includeIdleBlurDurations": "include_idle_blur_durations",
}


def _legacy_export_options(batches: Optional[List[str]], stage: Optional[List[str]], format: Any, type: Any,
                           filters: Optional[Dict[str, Any]]) -> ExportOptions:
    """The v1.3.14 exportV3 arguments as ExportOptions."""
    import warnings
    from imerit_ango.models.enums import ExportFormats, ExportTypes
    from imerit_ango.models.export_options import ExportOptions
    kwargs: Dict[str, Any] = {"batches": batches, "stage": stage}
    if format is not None:
        kwargs["export_format"] = ExportFormats(enum_value(format).lower())
    if type is not None:
        kwargs["export_type"] = ExportTypes(enum_value(type).lower())
    for key, value in (filters or {}).items():
        if key in _FILTER_FLAGS:
            kwargs[_FILTER_FLAGS[key]] = str(value).lower() == "true"
        elif key == "doNotNotify":
            kwargs["notify"] = str(value).lower() != "true"
        else:
            warnings.warn(f"exportV3(): filter '{key}' is not supported by the export API and is ignored",
                          UserWarning, stacklevel=3)
    return ExportOptions(**kwargs)


