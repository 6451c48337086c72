"""The generated stubs (``imerit_ango/sdk.pyi``, ``_types.pyi``) against the module.

``mypy.stubtest`` compares ``sdk.pyi`` with the imported ``imerit_ango.sdk``; the tests
below also compare every ``SDK`` method's parameter names, kinds and defaults with
``inspect.signature`` at run time, and require a docstring on every public method.
Each check is shown able to fail on a deliberately wrong stub.
"""
import ast
import inspect
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest

from imerit_ango.sdk import SDK

PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "imerit_ango")
SDK_STUB = os.path.join(PACKAGE, "sdk.pyi")


def _stubtest(cwd: str) -> "subprocess.CompletedProcess[str]":
    # In a subprocess, from `cwd`: the package found first on sys.path (the cwd) is the
    # one whose stubs and run-time module are compared.
    env = dict(os.environ, PYTHONPATH=cwd, MYPYPATH=cwd)
    return subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "imerit_ango.sdk", "--mypy-config-file", os.devnull],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def test_stubtest_accepts_the_generated_stub() -> None:
    result = _stubtest(os.path.abspath(os.path.join(PACKAGE, "..")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_stubtest_rejects_a_stub_that_disagrees_with_the_module(tmp_path: Any) -> None:
    copy = tmp_path / "imerit_ango"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    stub = (copy / "sdk.pyi").read_text()
    # A parameter the module does not have.
    wrong = stub.replace("def make_request(self, method: str,", "def make_request(self, verb: str,", 1)
    assert wrong != stub
    (copy / "sdk.pyi").write_text(wrong)
    result = _stubtest(str(tmp_path))
    assert result.returncode != 0, result.stdout
    assert "make_request" in result.stdout, result.stdout


def _literal(node: Optional[ast.expr]) -> Any:
    """A stub default: its value, or `...` (any default) for `...`."""
    if node is None:
        return inspect.Parameter.empty
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return ...
    return ast.literal_eval(node)


def _stub_methods(source: str) -> Dict[str, ast.FunctionDef]:
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "SDK":
            return {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
    raise AssertionError("the stub has no class SDK")


def _stub_params(fn: ast.FunctionDef) -> List[Any]:
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [(a.arg, "positional", _literal(d)) for a, d in zip(positional, defaults)]
    out += [(a.arg, "keyword", _literal(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return out


def _runtime_params(fn: Any) -> List[Any]:
    out = []
    for p in inspect.signature(fn).parameters.values():
        kind = "keyword" if p.kind is p.KEYWORD_ONLY else "positional"
        out.append((p.name, kind, p.default))
    return out


def _public_methods(cls: type) -> Dict[str, Any]:
    out = {}
    for name in dir(cls):
        if name.startswith("_") and not (name == "__init__" and "__init__" in vars(cls)):
            continue
        value = inspect.getattr_static(cls, name)
        if isinstance(value, property) or callable(value):
            out[name] = value
    return out


def signature_mismatches(stub_source: str, cls: type) -> List[str]:
    """Where the stub's `SDK` methods differ from `cls`'s at run time."""
    problems = []
    stub = _stub_methods(stub_source)
    runtime = _public_methods(cls)
    for name in sorted(set(runtime) - set(stub)):
        problems.append(f"{name}: in the module, not in the stub")
    for name in sorted(set(stub) - set(runtime)):
        if not name.startswith("_"):
            problems.append(f"{name}: in the stub, not in the module")
    for name in sorted(set(stub) & set(runtime)):
        value = runtime[name]
        if isinstance(value, property):
            continue
        theirs = _runtime_params(value)
        ours = _stub_params(stub[name])
        if [(n, k) for n, k, _ in ours] != [(n, k) for n, k, _ in theirs]:
            problems.append(f"{name}: parameters {ours} in the stub, {theirs} at run time")
            continue
        for (pname, _, mine), (_, _, real) in zip(ours, theirs):
            if mine is ...:
                # Stubs write `...` only for a list or dict default.
                if not isinstance(real, (list, dict)):
                    problems.append(f"{name}({pname}): `...` in the stub, {real!r} at run time")
            elif mine is inspect.Parameter.empty or real is inspect.Parameter.empty:
                if mine is not real:
                    problems.append(f"{name}({pname}): required in only one of stub and module")
            elif mine != real or type(mine) is not type(real):
                problems.append(f"{name}({pname}): default {mine!r} in the stub, {real!r} at run time")
    return problems


def test_stub_signatures_match_the_runtime_signatures() -> None:
    with open(SDK_STUB) as f:
        source = f.read()
    assert signature_mismatches(source, SDK) == []


def test_signature_comparison_finds_a_wrong_default_and_a_missing_method() -> None:
    class Fake:
        def get_task(self, task_id: str, include_answer: bool = False) -> Any: ...
        def list_projects(self, page: int = 1, limit: int = 10) -> Any: ...
        def extra(self) -> None: ...

    stub = (
        "class SDK:\n"
        "    def get_task(self, task_id: str, include_answer: bool = True) -> Any: ...\n"
        "    def list_projects(self, page: int = 1, *, limit: int = 10) -> Any: ...\n"
        "    def gone(self) -> None: ...\n"
    )
    problems = signature_mismatches(stub, Fake)
    assert any(p.startswith("get_task(include_answer): default True") for p in problems), problems
    assert any(p.startswith("list_projects: parameters") for p in problems), problems
    assert "extra: in the module, not in the stub" in problems
    assert "gone: in the stub, not in the module" in problems
    assert len(problems) == 4, problems


def test_every_public_sdk_method_has_a_docstring() -> None:
    # Its own docstring (`__doc__`, not one inherited through `inspect.getdoc`); the
    # class's docstring documents the constructor.
    assert (SDK.__doc__ or "").strip()
    missing = [name for name, value in _public_methods(SDK).items() if name != "__init__"
               and not ((value.fget if isinstance(value, property) else value).__doc__ or "").strip()]
    assert missing == [], f"SDK methods without a docstring: {missing}"
    # help() shows the arguments of a table method.
    doc = SDK.get_project.__doc__ or ""
    assert "project_id" in doc, doc


def test_typed_dict_stubs_are_valid_under_mypy_strict(tmp_path: Any) -> None:
    import mypy.api
    # A user module reading typed results: mypy must accept it, and reject a wrong key.
    good = tmp_path / "good.py"
    good.write_text(
        "from typing import TYPE_CHECKING, List\n"
        "if TYPE_CHECKING:\n"
        "    from imerit_ango._types import ExportRow\n"
        "def objects(row: 'ExportRow') -> List[str]:\n"
        "    task = row.get('task') or {}\n"
        "    return [o.get('title') or '' for o in task.get('tools', [])]\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from imerit_ango._types import ExportRow\n"
        "def name(row: 'ExportRow') -> int:\n"
        "    return row['externalId']\n"
    )
    path = os.path.abspath(os.path.join(PACKAGE, ".."))
    env_args = ["--strict", "--no-incremental", "--python-executable", sys.executable]
    old = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = path
    try:
        out, err, status = mypy.api.run(env_args + [str(good)])
        assert status == 0, out + err
        out, err, status = mypy.api.run(env_args + [str(bad)])
        assert status != 0 and "Incompatible return value" in out, out + err
    finally:
        if old is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = old


# ------------------------------------------------------------------------------------
# The TypedDicts against real replies: the stub's return annotation of each method is
# checked, key by key, on what the method returns from a LocalHub.

TYPES_STUB = os.path.join(PACKAGE, "_types.pyi")


class _Types:
    """The definitions of `_types.pyi` (TypedDicts and aliases), read with `ast`."""

    def __init__(self, source: str) -> None:
        self.dicts: Dict[str, Any] = {}
        self.aliases: Dict[str, ast.expr] = {}
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef):
                total = all(not (k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False)
                            for k in node.keywords)
                fields = {s.target.id: s.annotation for s in node.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
                self.dicts[node.name] = (fields, total)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
                if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "TypedDict":
                    body = value.args[1]
                    assert isinstance(body, ast.Dict)
                    fields = {ast.literal_eval(k): v for k, v in zip(body.keys, body.values) if k is not None}
                    total = not any(k.arg == "total" for k in value.keywords)
                    self.dicts[name] = (fields, total)
                elif not (isinstance(value, ast.Call) and getattr(value.func, "id", None) == "TypeVar"):
                    self.aliases[name] = value

    def check(self, value: Any, ann: ast.expr, path: str, problems: List[str],
              params: Optional[Dict[str, ast.expr]] = None) -> None:
        params = params or {}
        def bad(what: str) -> None:
            problems.append(f"{path}: {what}, got {type(value).__name__} {str(value)[:80]}")
        if isinstance(ann, ast.Attribute):  # _types.X in sdk.pyi
            ann = ast.Name(ann.attr)
        if isinstance(ann, ast.Constant) and ann.value is None:
            if value is not None:
                bad("None")
            return
        if isinstance(ann, ast.Name):
            name = ann.id
            if name in params:
                return self.check(value, params[name], path, problems)
            simple = {"str": str, "bool": bool, "int": int, "float": (int, float)}
            if name == "Any":
                return
            if name in simple:
                if not isinstance(value, simple[name]) or (name in ("int", "float") and isinstance(value, bool)):
                    bad(name)
                return
            if name in self.aliases:
                return self.check(value, self.aliases[name], path, problems)
            return self._dict(value, name, {}, path, problems)
        if isinstance(ann, ast.Subscript):
            base = ann.value.attr if isinstance(ann.value, ast.Attribute) else getattr(ann.value, "id", "")
            args = list(ann.slice.elts) if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if base == "Optional":
                if value is not None:
                    self.check(value, args[0], path, problems, params)
            elif base == "Required":
                self.check(value, args[0], path, problems, params)
            elif base == "Union":
                for arg in args:
                    trial: List[str] = []
                    self.check(value, arg, path, trial, params)
                    if not trial:
                        return
                bad(ast.unparse(ann))
            elif base == "List":
                if not isinstance(value, list):
                    return bad("a list")
                for i, item in enumerate(value):
                    self.check(item, args[0], f"{path}[{i}]", problems, params)
            elif base == "Dict":
                if not isinstance(value, dict):
                    return bad("a dict")
                for k, item in value.items():
                    self.check(item, args[1], f"{path}[{k!r}]", problems, params)
            elif base == "Literal":
                if value not in [ast.literal_eval(a) for a in args]:
                    bad(ast.unparse(ann))
            elif base == "Iterator":
                problems.append(f"{path}: an iterator is checked item by item by the caller")
            elif base in self.dicts:
                self._dict(value, base, {"_T": args[0]}, path, problems)
            else:
                problems.append(f"{path}: annotation {ast.unparse(ann)} not understood")
            return
        problems.append(f"{path}: annotation {ast.unparse(ann)} not understood")

    def _dict(self, value: Any, name: str, params: Dict[str, ast.expr], path: str, problems: List[str]) -> None:
        if name not in self.dicts:
            problems.append(f"{path}: unknown type {name}")
            return
        if not isinstance(value, dict):
            problems.append(f"{path}: {name} (a dict), got {type(value).__name__}")
            return
        fields, total = self.dicts[name]
        for key, ann in fields.items():
            required = total or (isinstance(ann, ast.Subscript) and getattr(ann.value, "id", "") == "Required")
            if key not in value:
                if required:
                    problems.append(f"{path}: {name} needs the key {key!r}")
                continue
            self.check(value[key], ann, f"{path}.{key}", problems, params)


def _return_annotations() -> Dict[str, ast.expr]:
    with open(SDK_STUB) as f:
        return {name: fn.returns for name, fn in _stub_methods(f.read()).items() if fn.returns is not None}


def test_typed_dict_checker_finds_wrong_values() -> None:
    with open(TYPES_STUB) as f:
        types = _Types(f.read())
    problems: List[str] = []
    doc = ast.parse("ApiDocument[TaskList]", mode="eval").body
    types.check({"status": "success", "data": {"tasks": [{"_id": 3}], "total": "many"}}, doc, "r", problems)
    assert any(p.startswith("r.data.tasks[0]._id:") for p in problems), problems
    assert any(p.startswith("r.data.total:") for p in problems), problems
    problems = []
    types.check({"data": {}}, doc, "r", problems)
    assert problems == ["r: ApiDocument needs the key 'status'", "r.data: TaskList needs the key 'tasks'"], problems


def test_replies_match_the_typed_dicts_of_the_stub(sdk: SDK) -> None:
    from imerit_ango.testing import LocalHub  # noqa: F401  (the `sdk` fixture runs one)
    with open(TYPES_STUB) as f:
        types = _Types(f.read())
    returns = _return_annotations()
    project_id = sdk.create_project("typed", "stub check")["data"]["project"]["_id"]
    sdk.create_batch(project_id, "B1")
    sdk.upload_files_cloud(project_id, [{"data": f"https://example.com/{i}.png", "externalId": f"{i}.png"}
                                        for i in range(3)])
    task_id = sdk.get_tasks(project_id)["data"]["tasks"][0]["_id"]
    calls = {
        "get_project": lambda: sdk.get_project(project_id),
        "list_projects": lambda: sdk.list_projects(),
        "get_tasks": lambda: sdk.get_tasks(project_id, limit=2),
        "get_task": lambda: sdk.get_task(task_id, include_answer=True),
        "get_assets": lambda: sdk.get_assets(project_id),
        "get_batches": lambda: sdk.get_batches(project_id),
        "get_issues": lambda: sdk.get_issues(project_id),
    }
    problems: List[str] = []
    checked = []
    for name, call in calls.items():
        ann = returns.get(name)
        if ann is None or ast.unparse(ann) == "Any":
            continue
        types.check(call(), ann, name, problems)
        checked.append(name)
    iterators = {"iter_tasks": lambda: sdk.iter_tasks(project_id, page_size=2),
                 "iter_assets": lambda: sdk.iter_assets(project_id, page_size=2),
                 "iter_projects": lambda: sdk.iter_projects(page_size=2)}
    for name, call in iterators.items():
        ann = returns.get(name)
        if isinstance(ann, ast.Subscript) and getattr(ann.value, "id", "") == "Iterator":
            for i, item in enumerate(call()):
                types.check(item, ann.slice, f"{name}[{i}]", problems)
            checked.append(name)
    assert problems == [], problems
    assert "get_project" in checked and "iter_tasks" in checked, checked
