//! The generators on fixture types (derived with schemars, as ango-core's are) and a
//! fixture method table; and the `--check` mode of the binary.

use std::process::Command;

use ango_codegen::collect::{Collector, TypeParam};
use ango_codegen::{Output, Types, generate, parse_methods};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The server's reply: a status and the data.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ApiDocument<T> {
    /// `success`, usually.
    status: String,
    /// The data.
    data: T,
}

/// A project.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Project {
    /// Its id.
    #[serde(rename = "_id")]
    id: String,
    /// Its name.
    #[serde(default)]
    name: Option<String>,
    /// Its workflow stages.
    #[serde(default)]
    stages: Vec<Stage>,
    /// What kind of assets it labels.
    #[serde(default)]
    kind: Option<Kind>,
    /// Other fields.
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A workflow stage.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Stage {
    /// Its id.
    id: String,
    /// Where it leads, by `from` stage (a key that is a Python keyword).
    #[serde(default)]
    from: Option<String>,
}

/// A kind of asset.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Kind {
    /// Images.
    Image,
    /// Videos.
    Video,
}

/// A task.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Task {
    /// Its id.
    #[serde(rename = "_id", default)]
    id: Option<String>,
    /// Its stage, see [`Stage`].
    #[serde(default)]
    stage: Option<String>,
}

/// `data` of a project reply.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ProjectData {
    /// The project.
    project: Project,
}

/// `data` of a task listing.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct TaskList {
    /// This page's tasks.
    tasks: Vec<Task>,
    /// How many in all.
    total: u64,
}

/// Filters of a task listing (an argument).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct TaskFilter {
    /// Stage names.
    #[serde(default)]
    stage: Option<Vec<String>>,
    /// Only tasks updated since (epoch milliseconds).
    #[serde(default)]
    updated_since: Option<f64>,
    /// Review status (snake_case in Rust's schema; camelCase is accepted too).
    #[serde(default, rename = "review_status", alias = "reviewStatus")]
    review_status: Option<String>,
}

fn types() -> Types {
    let mut c = Collector::new();
    c.reply::<ProjectData>()
        .reply::<TaskList>()
        .request::<TaskFilter>()
        .generic_reply::<ApiDocument<TypeParam>>();
    c.finish().unwrap()
}

fn table() -> Value {
    serde_json::from_str(include_str!("fixtures/methods.json")).unwrap()
}

const TEMPLATE: &str = include_str!("fixtures/sdk_template.pyi");

fn outputs() -> Vec<Output> {
    generate(&types(), &parse_methods(&table()).unwrap(), TEMPLATE).unwrap()
}

fn text(outputs: &[Output], path: &str) -> String {
    outputs
        .iter()
        .find(|o| o.path == path)
        .unwrap()
        .text
        .clone()
}

#[test]
fn typescript_interfaces_follow_the_rust_types() {
    let ts = text(&outputs(), ango_codegen::TS_PATH);
    assert!(
        ts.contains("/** A project. */\nexport interface Project {\n"),
        "{ts}"
    );
    assert!(ts.contains("  /** Its id. */\n  _id: string\n"), "{ts}");
    assert!(ts.contains("  name?: string | null\n"), "{ts}");
    assert!(ts.contains("  stages?: Stage[]\n"), "{ts}");
    assert!(ts.contains("  kind?: Kind | null\n"), "{ts}");
    assert!(ts.contains("  [key: string]: unknown\n}"), "{ts}");
    // No extra map, no index signature.
    let stage = ts.split("export interface Stage {").nth(1).unwrap();
    assert!(
        !stage.split('}').next().unwrap().contains("[key: string]"),
        "{ts}"
    );
    assert!(
        ts.contains("export type Kind = 'image' | 'video'\n"),
        "{ts}"
    );
    assert!(
        ts.contains("export interface ApiDocument<T> {\n  /** `success`, usually. */\n  status: string\n  /** The data. */\n  data: T\n}"),
        "{ts}"
    );
    // Intra-doc links lose their brackets.
    assert!(ts.contains("/** Its stage, see `Stage`. */"), "{ts}");
    // Request models are declared too (method parameters name them).
    assert!(ts.contains("export interface TaskFilter {"), "{ts}");
    assert!(ts.contains("  updatedSince?: number | null\n"), "{ts}");
    // An argument type: camelCase keys for Node users.
    assert!(ts.contains("  reviewStatus?: string | null\n"), "{ts}");
    assert!(!ts.contains("review_status"), "{ts}");
}

#[test]
fn typescript_client_follows_the_calling_convention() {
    let ts = text(&outputs(), ango_codegen::TS_PATH);
    let client = ts.split("export declare class Client {").nth(1).unwrap();
    // Required arguments positional, optional ones and the signal in `options`.
    let get_tasks = client.split("  getTasks(").nth(1).unwrap();
    let signature = get_tasks.split("): Promise<").next().unwrap();
    assert!(
        signature.starts_with("projectId: string, options?: {\n"),
        "{signature}"
    );
    assert!(
        signature.contains("    /** Page number, from 1. Default: `1`. */\n    page?: number\n")
    );
    assert!(
        signature.contains("    status?: string | null\n"),
        "{signature}"
    );
    assert!(
        signature.contains("    taskFilter?: TaskFilter | null\n"),
        "{signature}"
    );
    assert!(signature.contains("    sort?: string\n"), "{signature}");
    assert!(
        signature.contains("    signal?: AbortSignal\n  }"),
        "{signature}"
    );
    assert!(get_tasks.contains("): Promise<ApiDocument<TaskList>>\n"));
    assert!(
        client.contains("Lists a project's tasks, a page at a time.\n   *\n   * Raises AngoError")
    );
    assert!(client.contains("   * @param projectId The project's id.\n"));
    assert!(client.contains("): Promise<ApiDocument<ProjectData>>\n"));
    assert!(
        client.contains(
            "  annotateTask(taskId: string, answer: Record<string, unknown>, options?: {"
        )
    );
    assert!(client.contains("): Promise<boolean>\n"));
    assert!(client.contains("  recentTasks(options?: {"));
    assert!(client.contains("): Promise<Task[]>\n"));
    assert!(
        client.contains("    delete?: boolean\n"),
        "a keyword is a fine property name"
    );
    assert!(client.contains("): Promise<unknown>\n"));
    // Sorted by name, whatever the table's order.
    let order: Vec<usize> = [
        "annotateTask(",
        "getProject(",
        "getTasks(",
        "makeRequest(",
        "recentTasks(",
    ]
    .iter()
    .map(|m| client.find(m).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn python_typed_dicts_describe_the_replies() {
    let py = text(&outputs(), ango_codegen::TYPES_PYI_PATH);
    assert!(py.contains("_T = TypeVar(\"_T\")\n"), "{py}");
    assert!(
        py.contains("class ApiDocument(TypedDict, Generic[_T]):\n"),
        "{py}"
    );
    assert!(py.contains("    data: _T\n"), "{py}");
    // A required key among optional ones.
    assert!(
        py.contains("class Project(TypedDict, total=False):\n"),
        "{py}"
    );
    assert!(py.contains("    _id: Required[str]\n"), "{py}");
    assert!(py.contains("    name: Optional[str]\n"), "{py}");
    assert!(py.contains("    kind: Optional[Kind]\n"), "{py}");
    assert!(
        py.contains("Kind = Literal[\"image\", \"video\"]\n"),
        "{py}"
    );
    assert!(
        py.contains("from typing_extensions import Required\n"),
        "{py}"
    );
    // All keys required: a total TypedDict.
    assert!(py.contains("class TaskList(TypedDict):\n"), "{py}");
    assert!(py.contains("    total: int\n"), "{py}");
    // `from` is a keyword: the functional syntax.
    assert!(py.contains("Stage = TypedDict(\n    \"Stage\",\n"), "{py}");
    assert!(py.contains("        \"from\": Optional[str],\n"), "{py}");
    // Arguments are not replies: no TypedDict for the request model.
    assert!(!py.contains("TaskFilter"), "{py}");
    assert!(
        py.contains("Keys the SDK does not model are kept too"),
        "{py}"
    );
}

#[test]
fn python_sdk_stub_has_the_table_methods() {
    let py = text(&outputs(), ango_codegen::SDK_PYI_PATH);
    assert!(py.starts_with("\"\"\"Stub of a test SDK.\"\"\"\n"), "{py}");
    assert!(py.contains(
        "    def get_tasks(\n        self,\n        project_id: Optional[str],\n        page: int = 1,\n        limit: int = 10,\n        status: Optional[str] = None,\n        task_filter: Optional[TaskFilter] = None,\n        *,\n        sort: str = \"\",\n    ) -> _types.ApiDocument[_types.TaskList]:\n"
    ), "{py}");
    assert!(py.contains("        \"\"\"Lists a project's tasks, a page at a time.\n\n        Raises AngoError when the server refuses.\n\n        Args:\n            project_id: The project's id.\n"), "{py}");
    assert!(py.contains(
        "    def get_project(self, project_id: Optional[str]) -> _types.ApiDocument[_types.ProjectData]:\n        \"\"\"Reads one project.\n\n        Args:\n            project_id: The project's id.\n        \"\"\"\n        ...\n"
    ), "{py}");
    assert!(py.contains("    def annotate_task(self, task_id: str, answer: Dict[str, Any], overwrite: bool = False) -> bool:\n"), "{py}");
    assert!(
        py.contains("    def recent_tasks(self) -> List[_types.Task]:\n"),
        "{py}"
    );
    // The template's hand-written method is kept and not generated again.
    assert_eq!(py.matches("def make_request(").count(), 1, "{py}");
    assert!(py.contains("Hand-written: the table's version is not generated."));
    assert!(py.ends_with("\ndef helper() -> None: ...\n"), "{py}");
}

#[test]
fn generation_is_deterministic() {
    let first = outputs();
    assert_eq!(first, outputs());
    // Registering the types in another order, and a shuffled table, change nothing.
    let mut c = Collector::new();
    c.generic_reply::<ApiDocument<TypeParam>>()
        .request::<TaskFilter>()
        .reply::<TaskList>()
        .reply::<ProjectData>();
    let types = c.finish().unwrap();
    let mut table = table();
    table.as_array_mut().unwrap().reverse();
    let again = generate(&types, &parse_methods(&table).unwrap(), TEMPLATE).unwrap();
    assert_eq!(first, again);
}

fn method_with(param: Value, returns: Value) -> Value {
    serde_json::json!([{"name": "m", "node_name": "m", "doc": "", "params": [param], "returns": returns}])
}

#[test]
fn inconsistent_inputs_are_refused() {
    let types = types();
    let p = |ty: &str, py_ty: &str| {
        serde_json::json!({"name": "p", "node_name": "p", "ty": ty, "py_ty": py_ty, "default": null,
                           "keyword_only": false, "doc": ""})
    };
    let fails = |table: Value| {
        generate(&types, &parse_methods(&table).unwrap(), TEMPLATE)
            .unwrap_err()
            .0
    };
    let e = fails(method_with(p("Nowhere", "str"), serde_json::json!("Any")));
    assert!(
        e.contains("names the type Nowhere, which has no schema"),
        "{e}"
    );
    let e = fails(method_with(
        p("string", "str"),
        serde_json::json!({"Document": "Missing"}),
    ));
    assert!(e.contains("Missing"), "{e}");
    let e = fails(method_with(
        p("string", "Sequence[str]"),
        serde_json::json!("Any"),
    ));
    assert!(
        e.contains("uses Sequence, which sdk.pyi does not import"),
        "{e}"
    );
    let table = serde_json::json!([{"name": "m", "params": [
        {"name": "a", "ty": "string", "py_ty": "str", "default": "\"x\""},
        {"name": "b", "ty": "string", "py_ty": "str"}], "returns": "Any"}]);
    let e = fails(table);
    assert!(
        e.contains("required parameter b follows a parameter with a default"),
        "{e}"
    );
    let no_marker = generate(&types, &[], "class SDK: ...\n").unwrap_err().0;
    assert!(no_marker.contains("no line"), "{no_marker}");
}

#[test]
fn stale_files_are_found_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = outputs();
    assert_eq!(ango_codegen::stale(dir.path(), &outputs).len(), 3);
    let written = ango_codegen::write(dir.path(), &outputs).unwrap();
    assert_eq!(written.len(), 3);
    assert!(ango_codegen::stale(dir.path(), &outputs).is_empty());
    let ts = dir.path().join(ango_codegen::TS_PATH);
    let mut edited = std::fs::read_to_string(&ts).unwrap();
    edited.push_str("// hand edit\n");
    std::fs::write(&ts, edited).unwrap();
    assert_eq!(ango_codegen::stale(dir.path(), &outputs), vec![ts.clone()]);
    assert_eq!(ango_codegen::write(dir.path(), &outputs).unwrap(), vec![ts]);
    assert!(ango_codegen::stale(dir.path(), &outputs).is_empty());
}

fn codegen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ango-codegen"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn check_mode_fails_on_a_stale_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    // Nothing there yet: every file is missing.
    let out = codegen(&["--check", "--root", root]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("_types.pyi") && stderr.contains("types.d.ts"),
        "{stderr}"
    );
    // Generated: the check passes and writes nothing.
    assert!(codegen(&["--root", root]).status.success());
    let out = codegen(&["--check", "--root", root]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One file edited by hand: the check fails naming only that file.
    let pyi = dir.path().join(ango_codegen::SDK_PYI_PATH);
    std::fs::write(&pyi, "# edited\n").unwrap();
    let out = codegen(&["--check", "--root", root]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sdk.pyi") && !stderr.contains("types.d.ts"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&pyi).unwrap(), "# edited\n");
    assert_eq!(codegen(&["--bogus"]).status.code(), Some(2));
}

#[test]
fn committed_files_are_fresh() {
    let out = codegen(&["--check"]);
    assert!(
        out.status.success(),
        "run `cargo run -p ango-codegen` and commit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `data` of a listing whose keys all have defaults.
#[derive(Deserialize, serde::Serialize, JsonSchema, Default)]
#[allow(dead_code)]
struct StageList {
    /// The stages.
    #[serde(default)]
    stages: Vec<String>,
    /// How many.
    #[serde(default)]
    total: Option<u64>,
}

#[test]
fn reply_data_keys_are_required_unless_they_may_be_null() {
    let render = |data: bool| {
        let mut c = Collector::new();
        if data {
            c.data::<StageList>();
        } else {
            c.reply::<StageList>();
        }
        ango_codegen::ts::generate(&c.finish().unwrap(), &[]).unwrap()
    };
    // As the server's reply data: `stages` always there, `total` maybe missing.
    let ts = render(true);
    assert!(
        ts.contains("  stages: string[]\n  /** How many. */\n  total?: number\n"),
        "{ts}"
    );
    // As read (the deserialize contract): both may be missing.
    let ts = render(false);
    assert!(ts.contains("  stages?: string[]\n"), "{ts}");
    assert!(ts.contains("  total?: number | null\n"), "{ts}");
}
