"""Calls run through both the official SDK and ours (same code, either package).

Every case is ``fn(sdk, workdir) -> result``. Ontology cases pass explicit schemaIds
and colours, because generated ones are random. ``DIFFERENT_OUTCOME`` lists the cases
whose requests must match but whose outcome differs on purpose (official bugs fixed).
"""
import json
import os
from datetime import datetime
from typing import Any, Callable, Dict

from imerit_ango.models.annotate import AnnotationPayload, Answer
from imerit_ango.models.asset_builder_template import AssetBuilderTemplate, DataConfigItem
from imerit_ango.models.chat_asset_creation_config import ChatAssetCreationConfig, LLMConfig
from imerit_ango.models.enums import (ExportFormats, ExportTypes, LlmProvider, MedicalPlane, Metrics,
                                      OrganizationRoles, ProjectRoles, ProjectType, ReviewStatus,
                                      StorageFileTypes, StorageProvider, TaskTypes)
from imerit_ango.models.export_options import ExportOptions, TimeFilter
from imerit_ango.models.invite import Invitation, ProjectAssignment, RoleUpdate
from imerit_ango.models.label_category import (ClassificationCategory, Classification, LabelOption,
                                               RelationCategory, Relation, ToolCategory, Tool, TreeOption)
from imerit_ango.models.llm import LLM
from imerit_ango.models.storage import Storage
from imerit_ango.models.task_filter import DateRange, NumberRange, StringFilter, TaskFilter

P = "proj-0001"
PCT = "proj-pct"
MISSING = "proj-missing"
T = "task-0001"
TERR = "task-error"
ORG = "org-0001"
D1 = datetime(2024, 1, 2, 3, 4, 5, 678901)
D2 = datetime(2024, 6, 7, 8, 9, 10, 111000)

CASES: Dict[str, Callable[[Any, str], Any]] = {}
DIFFERENT_OUTCOME = {
    "upload_files_cloud_http_error": "the official SDK swallows HTTP errors here; we raise",
    "upload_files_bad_storage": "the official SDK raises TypeError (raise of a str); we raise ValueError",
    "upload_files_cloud_bad_storage": "the official SDK raises TypeError (raise of a str); we raise ValueError",
}

# Requests the official SDK sends that we deliberately do not: (method, path) of one
# redundant request per case. `annotate_task` reads the task once to find brush masks
# to merge (only needed for raw brush arrays, which this SDK does not upload) and once
# more for the answer merge; we read it only when merging.
SKIPPED_REQUESTS = {
    "annotate_overwrite": ("GET", "/v2/task/task-0001"),
    "annotate_merge": ("GET", "/v2/task/task-0001"),
    "annotate_empty_overwrite": ("GET", "/v2/task/task-0001"),
    "annotate_as_plugin": ("GET", "/v2/task/task-0001"),
    "annotate_error": ("GET", "/v2/task/task-error"),
}


def case(fn: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    CASES[fn.__name__] = fn
    return fn


def _file(workdir: str, name: str, content: bytes = b"data") -> str:
    path = os.path.join(workdir, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


# ------------------------------------------------------------------ projects
@case
def list_projects_default(sdk, w): return sdk.list_projects()
@case
def list_projects_paged(sdk, w): return sdk.list_projects(page=3, limit=50)
@case
def get_project(sdk, w): return sdk.get_project(P)
@case
def get_project_error(sdk, w): return sdk.get_project(MISSING)
@case
def create_project_min(sdk, w): return sdk.create_project("New")
@case
def create_project_full(sdk, w): return sdk.create_project("New", "Desc é ünicode", ProjectType.PCT)
@case
def create_project_iframe(sdk, w): return sdk.create_project("New", project_type=ProjectType.IFrame)
@case
def clone_project_default(sdk, w): return sdk.clone_project(P)
@case
def clone_project_flags(sdk, w):
    return sdk.clone_project(P, category_schema=False, batches=False, plugin_presets=False)
@case
def delete_project(sdk, w): return sdk.delete_project(P)
@case
def purge_project(sdk, w): return sdk.purge_project(P, "Demo project")
@case
def add_members_to_project(sdk, w):
    return sdk.add_members_to_project(P, ["a@x.com", "b@x.com"], ProjectRoles.Labeler)
@case
def add_members_manager(sdk, w): return sdk.add_members_to_project(P, ["a@x.com"], role=ProjectRoles.Manager)
@case
def update_workflow_stages(sdk, w):
    return sdk.update_workflow_stages(P, [{"id": "Start", "type": "Start", "next": ["Complete"]},
                                          {"id": "Complete", "type": "Complete", "next": []}])
@case
def update_benchmark_settings_min(sdk, w): return sdk.update_benchmark_settings(P, True)
@case
def update_benchmark_settings_full(sdk, w): return sdk.update_benchmark_settings(P, False, 25, True)
@case
def set_tasks_as_benchmark(sdk, w): return sdk.set_tasks_as_benchmark(P, [T, "task-2"])
@case
def unset_tasks_as_benchmark(sdk, w): return sdk.set_tasks_as_benchmark(P, [T], is_benchmark=False)
@case
def update_label_validation_empty(sdk, w): return sdk.update_label_validation(P)
@case
def update_label_validation_full(sdk, w):
    return sdk.update_label_validation(P, True, "function v(a){return true}", {"url": "https://x", "enabled": False})
@case
def get_metrics_all(sdk, w): return [sdk.get_metrics(P, m) for m in Metrics]
@case
def get_project_performance_none(sdk, w): return sdk.get_project_performance(P)
@case
def get_project_performance_interval(sdk, w): return sdk.get_project_performance(P, interval=[D1, D2])
@case
def get_project_performance_batches(sdk, w):
    return sdk.get_project_performance(P, [D1, D2], batches=["Batch 2", "batch-id-1"])
@case
def get_project_performance_unknown_batch(sdk, w): return sdk.get_project_performance(P, batches=["Nope"])
@case
def rerun_webhook(sdk, w): return sdk.rerun_webhook(P, "stage-webhook")

# ------------------------------------------------------------------- batches
@case
def get_batches(sdk, w): return sdk.get_batches(P)
@case
def create_batch(sdk, w): return sdk.create_batch(P, "My Batch")
@case
def create_batches_new(sdk, w): return sdk.create_batches(P, ["Batch 1", "Batch 3", "Batch 4"])
@case
def create_batches_existing(sdk, w): return sdk.create_batches(P, ["Batch 1", "Batch 2"])
@case
def assign_batches(sdk, w): return sdk.assign_batches(P, ["asset-1", "asset-2"], ["batch-id-1"])

# -------------------------------------------------------------------- assets
@case
def get_assets_default(sdk, w): return sdk.get_assets(P)
@case
def get_assets_filters(sdk, w):
    return sdk.get_assets(P, page=2, limit=100, filters={"externalId": "a b.png", "isPreLabeled": True,
                                                       "batches": ["batch-id-1"]})
@case
def get_assets_filters_none(sdk, w): return sdk.get_assets(P, filters=None)
@case
def delete_assets(sdk, w): return sdk.delete_assets(P, ["asset-1", "asset-2"])
@case
def create_attachment(sdk, w):
    return sdk.create_attachment(P, [{"externalId": "one.png", "attachments": [
        {"type": "IMAGE", "value": "https://x/a.jpg"}, {"type": "TEXT", "value": "Some text."}]}])
@case
def upload_files_cloud_min(sdk, w):
    return sdk.upload_files_cloud(P, [{"data": "https://x/a.png", "externalId": "a.png"}])
@case
def upload_files_cloud_full(sdk, w):
    return sdk.upload_files_cloud(P, [{"data": "https://x/a.png", "externalId": "a.png", "batches": ["Batch 1"]},
                                      {"data": "https://x/b.png", "metadata": {"width": 10}}],
                                  storage_id="storage-2", batches=["Batch 2", "batch-id-1"], priority=5)
@case
def upload_files_cloud_unknown_batch(sdk, w):
    return sdk.upload_files_cloud(P, [{"data": "https://x/a.png"}], batches=["Nope"])
@case
def upload_files_cloud_bad_storage(sdk, w):
    return sdk.upload_files_cloud(P, [{"data": "https://x/a.png"}], storage_id="storage-9")
@case
def upload_files_cloud_http_error(sdk, w):
    return sdk.upload_files_cloud(MISSING, [{"data": "https://x/a.png"}])
@case
def upload_files_plain(sdk, w):
    return sdk.upload_files(P, [_file(w, "one.png"), _file(w, "scan.nii.gz"), _file(w, "noext")])
@case
def upload_files_dicts(sdk, w):
    return sdk.upload_files(P, [{"data": _file(w, "two.jpg"), "externalId": "ext-2",
                                 "contextData": {"k": "v"}, "metadata": {"width": 2}}],
                            storage_id="storage-1", batches=["Batch 1"], priority=3)
@case
def upload_files_pct(sdk, w): return sdk.upload_files(PCT, [_file(w, "three.png")])
@case
def upload_files_bad_storage(sdk, w): return sdk.upload_files(P, [_file(w, "four.png")], storage_id="nope")
@case
def upload_chat_assets_count(sdk, w):
    return sdk.upload_chat_assets(P, ChatAssetCreationConfig(number_of_assets=3))
@case
def upload_chat_assets_full(sdk, w):
    return sdk.upload_chat_assets(P, ChatAssetCreationConfig(number_of_assets=2, storage_id="storage-1",
                                                             bucket_name="bkt", llm_config=LLMConfig("llm-1")),
                                  priority=7)
@case
def upload_chat_assets_file(sdk, w):
    path = _file(w, "conversations.json", json.dumps([{"messages": []}]).encode())
    return sdk.upload_chat_assets(P, ChatAssetCreationConfig(conversation_json=path))
@case
def upload_instructions(sdk, w): return sdk.upload_instructions(P, _file(w, "guide.pdf", b"%PDF-1.4 x"))
@case
def upload_instructions_storage(sdk, w):
    return sdk.upload_instructions(P, _file(w, "guide.txt", b"read me"), storage_id="storage-1", bucket="bkt")
@case
def get_asset_builder_templates(sdk, w): return sdk.get_asset_builder_templates(P)
@case
def create_asset_builder_template(sdk, w):
    template = AssetBuilderTemplate(
        name="T", template="<p>{{text}}</p><img src='{{img}}'>", external_id_column="id",
        data_config={"id": DataConfigItem("text"), "text": DataConfigItem("text", include_in_export=True),
                     "img": DataConfigItem("image", storage="Public")},
        description="d", pre_label_config={})
    return sdk.create_asset_builder_template(P, template)

# --------------------------------------------------------------------- tasks
@case
def get_task(sdk, w): return sdk.get_task(T)
@case
def get_task_answer(sdk, w): return sdk.get_task(T, include_answer=True)
@case
def get_task_error(sdk, w): return sdk.get_task(TERR)
@case
def get_tasks_default(sdk, w): return sdk.get_tasks(P)
@case
def get_tasks_answer_sort(sdk, w): return sdk.get_tasks(P, page=2, limit=100, include_answer=True, sort="-createdAt,priority")
@case
def get_tasks_fields(sdk, w):
    result = sdk.get_tasks(P, fields="stage")
    return result
@case
def get_tasks_deprecated(sdk, w):
    return sdk.get_tasks(P, status="Completed", stage="Label", batches=["batch-id-1", "batch-id-2"])
@case
def get_tasks_filter_simple(sdk, w):
    return sdk.get_tasks(P, task_filter=TaskFilter(stage="Label", batches=["batch-id-1"], status="TODO",
                                                   assignee="a@x.com", external_id="img 1.png"))
@case
def get_tasks_filter_strings(sdk, w):
    return sdk.get_tasks(P, task_filter=TaskFilter(
        stage=StringFilter(in_list=["Label", "Review"]), batches=StringFilter(nin=["b"]),
        assignee=StringFilter(regex="^a.*", exists=True), created_by=StringFilter(ne="x@y"),
        updated_by="u@x.com", review_status=ReviewStatus.ACCEPTED, task_type=TaskTypes.BENCHMARK))
@case
def get_tasks_filter_ranges(sdk, w):
    return sdk.get_tasks(P, task_filter=TaskFilter(
        created_at=DateRange(gt=D1, lte=D2), updated_at=DateRange(gte=D1), priority=NumberRange(gte=1, lt=5.5),
        duration=NumberRange(eq=3), total_duration=NumberRange(ne=0), open_issues_count=2,
        is_draft=False, is_skipped=True, is_benchmark=False))
@case
def get_tasks_filter_list_stage(sdk, w):
    return sdk.get_tasks(P, task_filter=TaskFilter(stage=["Label", "Review"], priority=3, open_issues_count=NumberRange(gt=0)))
@case
def get_tasks_filter_empty(sdk, w):
    return sdk.get_tasks(P, task_filter=TaskFilter(stage=StringFilter(), duration=NumberRange()))
@case
def get_tasks_filter_and_deprecated(sdk, w):
    return sdk.get_tasks(P, status="TODO", stage="Label", batches=["x"], task_filter=TaskFilter(stage="Review"))
@case
def get_task_history_by_id(sdk, w): return sdk.get_task_history("history-1")
@case
def get_task_history_by_task(sdk, w): return sdk.get_task_history(task_id=T)
@case
def get_task_history_none(sdk, w): return sdk.get_task_history()
@case
def assign_task(sdk, w): return sdk.assign_task(P, [T, "task-2"], "Label", "a@x.com")
@case
def import_labels(sdk, w):
    return sdk.import_labels(P, [{"externalId": "one.png", "objects": [
        {"schemaId": "tool-1", "bounding-box": {"x": 1, "y": 2, "width": 3.5, "height": 4}}]}])
@case
def requeue_tasks_min(sdk, w): return sdk.requeue_tasks(P, "Label")
@case
def requeue_tasks_full(sdk, w):
    return sdk.requeue_tasks(P, "Label", filters={"taskIds": [T]}, options={"removeAnnotations": True})
@case
def update_tasks_priority(sdk, w): return sdk.update_tasks_priority(P, 10, filters={"externalIds": ["a"]})
@case
def update_tasks_priority_min(sdk, w): return sdk.update_tasks_priority(P, -5)
@case
def review_task(sdk, w): return sdk.review_task(T, ReviewStatus.REJECTED)
@case
def review_task_pct(sdk, w): return sdk.review_task(T, ReviewStatus.FIXED, pct_details={"frame": 3})
@case
def annotate_overwrite(sdk, w):
    answer = Answer(objects=[{"objectId": "n1", "schemaId": "tool-1", "bounding-box": {"x": 1, "y": 1, "width": 2, "height": 2}}],
                    classifications=[{"schemaId": "cls-1", "answer": "new"}])
    return sdk.annotate_task(T, AnnotationPayload(answer=answer), overwrite=True)
@case
def annotate_merge(sdk, w):
    answer = Answer(objects=[{"objectId": "n1", "schemaId": "tool-1"}],
                    classifications=[{"schemaId": "cls-1", "answer": "new"}], relations=[])
    return sdk.annotate_task(T, AnnotationPayload(answer=answer, brush_data_url="https://x/b.png"),
                             send_to_next_stage=True)
@case
def annotate_empty_overwrite(sdk, w): return sdk.annotate_task(T, AnnotationPayload(), overwrite=True)
@case
def annotate_as_plugin(sdk, w):
    return sdk._annotate_task(T, AnnotationPayload(answer=Answer(classifications=[{"schemaId": "cls-2", "answer": "x"}])),
                              send_to_next_stage=True, is_plugin=True)
@case
def annotate_error(sdk, w): return sdk.annotate_task(TERR, AnnotationPayload(), overwrite=True)
@case
def setup_logger(sdk, w):
    sdk.setup_logger()
    return sdk.logger.name
@case
def plugin_log(sdk, w): return sdk._plugin_log({"level": "info", "message": "m", "session": "s"})
@case
def plugin_response(sdk, w): return sdk._plugin_response({"response": {"a": 1}, "session": "s"})
@case
def get_upload_url(sdk, w): return sdk._get_upload_url("f.png", P, StorageFileTypes.ASSET)
@case
def get_upload_url_storage(sdk, w): return sdk._get_upload_url("f.png", P, StorageFileTypes.BRUSH, storage_id="storage-1")
@case
def get_signed_url(sdk, w): return sdk._get_signed_url("https://x/a.png", P, StorageFileTypes.ASSET)

# -------------------------------------------------------------------- issues
@case
def create_issue_min(sdk, w): return sdk.create_issue(T, "Look here")
@case
def create_issue_position(sdk, w): return sdk.create_issue(T, "Look", position=[25, 15])
@case
def create_issue_position_float(sdk, w): return sdk.create_issue(T, "Look", position=[1.5, 2])
@case
def create_issue_position_int(sdk, w): return sdk.create_issue(T, "Look", position=7)
@case
def create_issue_full(sdk, w):
    return sdk.create_issue(T, "Look", content_mentions=["a@x.com"], position=[1, 2],
                            error_codes=[{"category": "c", "name": "n", "key": "k"}], pct_details={"p": 1},
                            page=0, page_end=2, data_index=1, plane=MedicalPlane.Axial)
@case
def create_issue_object(sdk, w): return sdk.create_issue(T, "Look", object_id="obj-1")
@case
def create_issue_plane_str(sdk, w): return sdk.create_issue(T, "Look", plane="S")
@case
def create_issue_bad_plane(sdk, w): return sdk.create_issue(T, "Look", plane="Q")
@case
def create_issue_object_and_position(sdk, w): return sdk.create_issue(T, "Look", object_id="o", position=[1, 2])
@case
def create_issue_negative_page(sdk, w): return sdk.create_issue(T, "Look", page=-1)
@case
def create_issue_page_end_alone(sdk, w): return sdk.create_issue(T, "Look", page_end=3)
@case
def create_issue_negative_index(sdk, w): return sdk.create_issue(T, "Look", data_index=-2)
@case
def get_issues_min(sdk, w): return sdk.get_issues(P)
@case
def get_issues_all(sdk, w):
    return sdk.get_issues(P, asset_id="asset-1", task_id=T, stage_id="Label", created_by="a@x.com")
@case
def update_issue_empty(sdk, w): return sdk.update_issue("issue-1")
@case
def update_issue_mentions_without_content(sdk, w): return sdk.update_issue("issue-1", content_mentions=["a@x.com"])
@case
def update_issue_full(sdk, w):
    return sdk.update_issue("issue-1", content="c", content_mentions=["a@x.com"], status="Resolved",
                            pct_details={"x": 1}, error_codes=[{"category": "c", "name": "n"}])
@case
def add_comment_to_issue(sdk, w): return sdk.add_comment_to_issue("issue-1", "a comment")
@case
def add_comment_mentions(sdk, w): return sdk.add_comment_to_issue("issue-1", "hi", ["a@x.com"])
@case
def delete_issue(sdk, w): return sdk.delete_issue(P, "issue-1")

# ------------------------------------------------------------------ ontology
def _ontology():
    nested = ClassificationCategory(Classification.Single_dropdown, title="Position", schemaId="cls-pos",
                                    color="#111111", options=[LabelOption("On Road", "opt-on"),
                                                              LabelOption("Off Road", "opt-off")])
    radio = ClassificationCategory(Classification.Radio, title="Entity", schemaId="cls-entity", color="#222222",
                                   options=[LabelOption("Vehicle", "opt-veh"), LabelOption("Person", "opt-per")],
                                   classifications=[nested], required=True, frameSpecific=True,
                                   exportName="entity", defaultValue=False)
    text = ClassificationCategory(Classification.Text, title="Note", schemaId="cls-note", color="#333333",
                                  parentOptionId="opt-veh", richText=True, regex="^a", displayName="N",
                                  abbreviatedName="n", attributeType="t", showDropdown=True)
    tree = ClassificationCategory(Classification.Tree_dropdown, title="Tree", schemaId="cls-tree", color="#444444",
                                  treeOptions=[TreeOption("tree0", value="v0", children=[
                                      TreeOption("sub0", value="vs0"), TreeOption("sub1", value="vs1")]),
                                      TreeOption("tree1", value="v1")])
    box = ToolCategory(Tool.BoundingBox, title="Car", schemaId="tool-car", color="#555555", shortcutKey="1",
                       classifications=[ClassificationCategory(Classification.Checkbox, title="Color",
                                                               schemaId="cls-col", color="#666666",
                                                               options=[LabelOption("Red", "opt-red")])])
    seg = ToolCategory(Tool.Segmentation, title="Seg", schemaId="tool-seg", color="#777777", required=True,
                       columnField=True)
    rel = RelationCategory(Relation.Single, title="Rel", schemaId="rel-1", color="#888888")
    group = RelationCategory(Relation.Group, title="Grp", schemaId="rel-2", color="#999999")
    return [box, seg], [radio, text, tree], [rel, group]


@case
def create_label_set_full(sdk, w):
    tools, classifications, relations = _ontology()
    return sdk.create_label_set(P, tools=tools, classifications=classifications, relations=relations)
@case
def create_label_set_empty(sdk, w): return sdk.create_label_set(P)
@case
def create_label_set_tools_only(sdk, w):
    return sdk.create_label_set(P, [ToolCategory(Tool.Point, title="P", schemaId="tool-p", color="#000000")])
@case
def create_label_set_raw(sdk, w):
    return sdk.create_label_set(P, raw_category_schema={"tools": [{"title": "Vehicle", "tool": "bounding-box",
                                                                   "schemaId": "x1", "color": "#f44336"}],
                                                        "classifications": [], "relations": []})
@case
def ontology_to_dict(sdk, w):
    tools, classifications, relations = _ontology()
    return [c.toDict() for c in tools + classifications + relations]

# -------------------------------------------------------------------- export
@case
def export_default(sdk, w): return sdk.export(P)
@case
def exportV3_default(sdk, w): return sdk.exportV3(P)
@case
def exportV3_ndjson(sdk, w):
    iterator, count = sdk.exportV3(P, ExportOptions(export_format=ExportFormats.NDJSON))
    return [list(iterator), count]
@case
def exportV3_issue(sdk, w):
    return sdk.exportV3(P, ExportOptions(export_type=ExportTypes.ISSUE, stage=["Label"], batches=["batch-id-1"]))
@case
def exportV3_options(sdk, w):
    return sdk.exportV3(P, ExportOptions(stage=["Complete", "Review"], batches=["batch-id-1", "batch-id-2"],
                                         task_type=TaskTypes.CONSENSUS, include_key_frames_only=True,
                                         include_idle_blur_durations=True, send_email=True, include_metadata=False,
                                         include_history=False, notify=True,
                                         updated_at=TimeFilter(D1, D2), created_at=TimeFilter(from_date=D1)))
@case
def exportV3_benchmark(sdk, w):
    return sdk.exportV3(P, ExportOptions(task_type=TaskTypes.BENCHMARK, created_at=TimeFilter(to_date=D2)))
@case
def exportV3_zip(sdk, w):
    path = os.path.join(w, "export.zip")
    result = sdk.exportV3(P, zip_file_path=path)
    return [result, os.path.getsize(path) > 0]
@case
def export_options_to_dict(sdk, w):
    return [ExportOptions().toDict(), ExportOptions(export_type=ExportTypes.ISSUE, batches=["b"],
                                                    updated_at=TimeFilter(D1)).toDict(),
            ExportOptions(task_type=TaskTypes.BENCHMARK).toDict()]
@case
def task_filter_to_dict(sdk, w):
    return [TaskFilter(stage="Label", priority=NumberRange(gt=1)).toDict(),
            TaskFilter(created_at=DateRange(gt=D1, lt=D2), is_draft=True).to_json(),
            StringFilter(in_list=["a"]).toDict(), DateRange(lte=D2).toDict(), TaskFilter().is_empty()]

# -------------------------------------------------------------- organization
@case
def get_organization_members(sdk, w): return sdk.get_organization_members(ORG)
@case
def get_organization_invites(sdk, w): return sdk.get_organization_invites(ORG)
@case
def delete_organization_members(sdk, w): return sdk.delete_organization_members(ORG, ["a@x.com"])
@case
def delete_organization_invites(sdk, w): return sdk.delete_organization_invites(ORG, ["a@x.com", "b@x.com"])
@case
def invite_members_min(sdk, w): return sdk.invite_members_to_org(ORG, Invitation(["a@x.com"], OrganizationRoles.Member))
@case
def invite_members_projects(sdk, w):
    return sdk.invite_members_to_org(ORG, Invitation(["a@x.com", "b@x.com"], OrganizationRoles.Admin, [
        ProjectAssignment(P, ProjectRoles.Reviewer), ProjectAssignment("p2", ProjectRoles.Lead)]))
@case
def update_organization_members_role(sdk, w):
    return sdk.update_organization_members_role(ORG, [RoleUpdate("a@x.com", OrganizationRoles.Admin),
                                                      RoleUpdate("b@x.com", OrganizationRoles.Member)])
@case
def send_notification_min(sdk, w): return sdk.send_notification(["a@x.com"], "hello")
@case
def send_notification_full(sdk, w):
    return sdk.send_notification(["a@x.com", "b@x.com"], "hello", title="T", clickable_link="https://x/y")
@case
def get_storages(sdk, w): return sdk.get_storages()
@case
def get_storages_one(sdk, w): return sdk.get_storages("storage-2")
@case
def get_storages_unknown(sdk, w): return sdk.get_storages("storage-9")
@case
def create_storage_min(sdk, w): return sdk.create_storage(Storage("S", StorageProvider.AWS))
@case
def create_storage_full(sdk, w):
    return sdk.create_storage(Storage("S", StorageProvider.GCP, public_key="pub", private_key="priv",
                                      region="us-east-1", credentials="{\"a\": 1}"))
@case
def delete_storage(sdk, w): return sdk.delete_storage("storage-1")
@case
def list_storage_files_default(sdk, w): return sdk.list_storage_files("storage-1", "bucket")
@case
def list_storage_files_flags(sdk, w):
    return sdk.list_storage_files("storage-1", "bucket", path="folder/sub", get_signed_urls=False,
                                  retry_on_slow_down=False)
@case
def file_explorer(sdk, w):
    return sdk.file_explorer("bucket", "storage-1", {"folder": "f", "files": ["a.txt"], "upload": False})
@case
def create_llm_min(sdk, w): return sdk.create_llm(LLM("L", LlmProvider.OPENAI, "gpt", "sk-test"))
@case
def create_llm_full(sdk, w):
    return sdk.create_llm(LLM("L", LlmProvider.OPENROUTER, "m", "sk-test", base_url="https://x", is_streamable=True))
@case
def delete_llm(sdk, w): return sdk.delete_llm("llm-1")
@case
def get_llms(sdk, w): return sdk.get_llms()
@case
def get_llms_one(sdk, w): return sdk.get_llms("llm-2")


@case
def make_request_get(sdk, w): return sdk.make_request("GET", f"/v2/project/{P}")
@case
def make_request_post(sdk, w): return sdk.make_request("POST", "/v2/project", {"name": "Raw", "description": ""})
@case
def make_request_delete_body(sdk, w): return sdk.make_request("DELETE", f"/v2/project/{P}/assets", {"assets": ["a1"]})
@case
def upload_files_with_asset_builder(sdk, w):
    path = _file(w, "rows.csv", b"id,text\nr1,hello\nr2,world &amp; more <b>x</b>\n")
    return sdk.upload_files_with_asset_builder(P, "template-1", path)
@case
def upload_files_with_asset_builder_delimiter(sdk, w):
    path = _file(w, "rows.csv", b"id;text\nr1;semi;colon\n")
    return sdk.upload_files_with_asset_builder(P, "template-1", path, parse_config={"delimiter": ";"}, priority=3)
@case
def upload_files_with_asset_builder_unknown_template(sdk, w):
    path = _file(w, "rows.csv", b"id,text\nr1,hello\n")
    return sdk.upload_files_with_asset_builder(P, "template-nope", path)
