"""The SDK methods made from the core's method table: the official 1.4.10 signatures
(names, order, keyword-only-ness, defaults), a docstring on every public method, and
the generic argument path (defaults from the table, errors before any request)."""
import ast
import inspect
import os
import subprocess
from typing import Any, Dict, List, Optional

import pytest

from imerit_ango import _native
from imerit_ango.exceptions import AngoInvalidArgumentError
from imerit_ango.models.export_options import ExportOptions, TimeFilter
from imerit_ango.models.invite import Invitation, ProjectAssignment
from imerit_ango.models.enums import OrganizationRoles, ProjectRoles
from imerit_ango.models.task_filter import DateRange, StringFilter, TaskFilter
from imerit_ango._table import TableMethods
from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

OFFICIAL_PYTHON = os.environ.get("ANGO_OFFICIAL_PYTHON")
TABLE = {m["name"]: m for m in _native.methods()}


def _official_signatures() -> Dict[str, ast.arguments]:
    if not OFFICIAL_PYTHON:
        pytest.skip("ANGO_OFFICIAL_PYTHON is not set (python/run-tests.sh sets it)")
    locate = ("import importlib.util, os; "
              "print(os.path.join(importlib.util.find_spec('imerit_ango').submodule_search_locations[0], 'sdk.py'))")
    path = subprocess.run([OFFICIAL_PYTHON, "-I", "-c", locate], check=True, capture_output=True, cwd="/",
                          text=True).stdout.strip()
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    sdk = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SDK")
    return {f.name: f.args for f in sdk.body if isinstance(f, ast.FunctionDef)}


def _official_params(args: ast.arguments) -> List[Any]:
    positional = args.args[1:]
    defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [(a.arg, "positional", ast.literal_eval(d) if d is not None else inspect.Parameter.empty)
           for a, d in zip(positional, defaults)]
    out += [(a.arg, "keyword", ast.literal_eval(d) if d is not None else inspect.Parameter.empty)
            for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return out


def _ours(function: Any) -> List[Any]:
    params = list(inspect.signature(function).parameters.values())[1:]
    return [(p.name, "keyword" if p.kind is p.KEYWORD_ONLY else "positional", p.default) for p in params]


def test_table_methods_have_the_official_signatures() -> None:
    official = _official_signatures()
    checked = 0
    for name in TABLE:
        ours = _ours(getattr(SDK, name))
        if name not in official:
            # Only our extras (none today) may be missing from the official SDK.
            pytest.fail(f"{name} is in the table but not in the official SDK")
        expected = _official_params(official[name])
        # Hand-written methods may add keyword-only aliases after the official ones (and
        # make required arguments optional when an alias can stand for them).
        hand_written = name in vars(SDK)
        # The table's aliases do the same for generated methods.
        hand_written = hand_written or any(p["aliases"] for p in TABLE[name]["params"])
        assert [p[:2] for p in ours[:len(expected)]] == [p[:2] for p in expected], name
        for (_, _, default), (param, _, official_default) in zip(ours, expected):
            if not (hand_written and default is None):
                assert default == official_default, (name, param)
        assert all(kind == "keyword" for _, kind, _ in ours[len(expected):]), name
        checked += 1
    assert checked == len(TABLE) and checked > 50


def test_generated_methods_take_the_tables_parameters_exactly() -> None:
    for name, method in TABLE.items():
        if name in vars(SDK):
            continue  # written by hand
        function = getattr(SDK, name)
        assert function is vars(TableMethods)[name], name
        table = [(p["name"], "keyword" if p["keyword_only"] else "positional") for p in method["params"]]
        table += [(alias, "keyword") for p in method["params"] for alias in p["aliases"]]
        assert [(n, k) for n, k, _ in _ours(function)] == table, name


def test_every_public_method_is_documented() -> None:
    for name in dir(SDK):
        if name.startswith("_"):
            continue
        member = getattr(SDK, name)
        doc = inspect.getdoc(member)
        assert doc and len(doc) > 20, f"SDK.{name} has no docstring"
        if name in TABLE:
            assert doc.startswith(TABLE[name]["doc"].split("\n")[0]), name
            for param in TABLE[name]["params"]:
                assert f"    {param['name']}: " in member.__doc__, (name, param["name"])


def test_defaults_come_from_the_table_and_bad_arguments_never_reach_the_server() -> None:
    with LocalHub(latency_ms=0, fail_rate=0.0) as hub:
        sdk = SDK(hub.api_key, host=hub.url)
        project_id = hub.seed_project("table", 3)
        before = hub.request_count
        page = sdk.list_projects()
        assert page["data"]["projects"] and hub.request_count == before + 1
        with pytest.raises(AngoInvalidArgumentError, match="page"):
            sdk.list_projects(page=-1)
        with pytest.raises(AngoInvalidArgumentError, match="task_filter|invalid"):
            sdk.get_tasks(project_id, task_filter={"no_such_field": 1})  # type: ignore[arg-type]
        with pytest.raises(AngoInvalidArgumentError, match="role"):
            sdk.add_members_to_project(project_id, ["a@example.com"], "Boss")
        with pytest.raises(TypeError):
            sdk.get_project()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            sdk.clone_project(project_id, True)  # type: ignore[misc]
        assert hub.request_count == before + 1
        # Enums, model objects and datetimes go through the generic converter.
        filtered = sdk.get_tasks(project_id, task_filter=TaskFilter(assignee=StringFilter(in_list=["x@y"]),
                                                                    created_at=DateRange(gt=_dt())))
        assert filtered["data"]["tasks"] == []


def test_aliases_are_the_cores() -> None:
    # assign_task's v1.3.14 names come from the table: keyword-only, resolved by the core.
    params = inspect.signature(SDK.assign_task).parameters
    assert [params[n].kind for n in ("project", "tasks", "stage")] == [inspect.Parameter.KEYWORD_ONLY] * 3
    assert "older name of project_id" in (SDK.assign_task.__doc__ or "")
    with LocalHub(latency_ms=0, fail_rate=0.0) as hub:
        sdk = SDK(hub.api_key, host=hub.url)
        project_id = hub.seed_project("aliases", 2)
        before = hub.request_count
        with pytest.raises(AngoInvalidArgumentError, match="twice"):
            sdk.assign_task(project_id, ["t"], "s", "a@x", project="other")
        with pytest.raises(AngoInvalidArgumentError, match="missing the required argument 'task_ids' \\(or 'tasks'\\)"):
            sdk.assign_task(project=project_id, stage="s", email="a@x")
        assert hub.request_count == before
        tasks = sdk.get_tasks(project_id)["data"]["tasks"]
        with pytest.warns(DeprecationWarning):
            staged = sdk.get_tasks(project_id, stages=tasks[0]["stage"])
        assert staged["data"]["tasks"]


def _dt() -> Any:
    from datetime import datetime, timezone
    return datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def test_model_dicts_are_the_cores_wire_forms() -> None:
    assert TaskFilter(status="TODO", created_at=DateRange(gte=_dt())).toDict() == {
        "status": {"$eq": "TODO"}, "createdAt": {"$gte": "2024-01-02T03:04:05.678Z"}}
    assert TimeFilter(_dt(), None).toDict() == {"$gt": "2024-01-02T03:04:05.678901Z"}
    invitation = Invitation(["a@x"], OrganizationRoles.Member,
                            [ProjectAssignment("p1", ProjectRoles.Reviewer)])
    assert invitation.toDict() == {"to": ["a@x"], "organizationRole": "member",
                                   "projectAssignments": [{"projectId": "p1", "projectRole": "Reviewer"}]}
    query = ExportOptions(batches=["b"]).toDict()
    assert query["stage"] == '["Complete"]' and query["batches"] == '["b"]'
    with pytest.raises(ValueError):
        _native.model_to_dict("TaskFilter", TaskFilter(created_at=DateRange(gt="not a date")))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        _native.model_to_dict("NoSuchModel", {})


def test_other_objects_are_not_json() -> None:
    class Thing:
        def __init__(self) -> None:
            self.x = 1

    with pytest.raises(TypeError):
        _native.dumps({"thing": Thing()})
    assert _native.dumps({"when": _dt().date()}) == '{"when": "2024-01-02"}'
