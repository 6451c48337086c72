//! Typed results: every model reads every reply shape the emulator and the API docs
//! show, keeps unknown fields, tolerates missing ones, reports wrong types as
//! `Error::Decode`, and the typed iterators yield what the JSON ones do.

use ango_testkit as support;

use ango_core::models::{Invitation, Llm, LlmProvider, OrganizationRole, Storage, StorageProvider};
use ango_core::ontology::{
    CategorySchema, Classification, ClassificationCategory, LabelOption, Relation,
    RelationCategory, Tool, ToolCategory,
};
use ango_core::types::{ExportData, LabelCategory, LabelSet, WorkflowStage};
use ango_core::{
    ApiDocument, Asset, AssetList, Batch, BatchList, Client, CreateIssueParams, Error,
    GetAssetsParams, GetIssuesParams, GetTasksParams, Invite, InviteList, Issue, IssueData,
    IssueList, LlmData, LlmInfo, LlmList, Member, MemberList, Project, ProjectData, ProjectList,
    StorageData, StorageInfo, StorageList, Task, TaskData, TaskList, UpdateIssueParams, Value,
};
use ango_emulator::{Emulator, EmulatorConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use support::{Recorder, Reply};

/// `value` without `null`s and empty lists (which a model may leave out when it writes
/// a value back), for comparing what was read with what is written.
fn prune(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k.clone(), prune(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(prune).collect()),
        other => other.clone(),
    }
}

/// Equal once pruned, numbers compared by value (`10` and `10.0` are the same).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// Reads a whole reply as `ApiDocument<T>` and checks that writing it back loses nothing.
fn round_trip<T>(what: &str, reply: &Value) -> ApiDocument<T>
where
    T: DeserializeOwned + Serialize + Default,
{
    let document: ApiDocument<T> =
        serde_json::from_value(reply.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{reply:#}"));
    let back = serde_json::to_value(&document).unwrap();
    assert!(
        same(&prune(reply), &prune(&back)),
        "{what} changed in a round trip:\nread    {reply:#}\nwritten {back:#}"
    );
    assert_eq!(document.status, "success", "{what}");
    document
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An emulated organization with one project holding a label set, three assets with a
/// label each, a batch, an issue, a storage, an LLM configuration and an invitation.
struct Populated {
    _emulator: Emulator,
    client: Client,
    organization: String,
    project: String,
}

fn populated() -> Populated {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = Client::new(emulator.api_key(), emulator.url()).unwrap();
    let organization = emulator.organization_id();
    let created = client
        .raw()
        .create_project("Typed", Some("typed results"), None)
        .unwrap();
    round_trip::<ProjectData>("create_project", &created);
    let project = created["data"]["project"]["_id"]
        .as_str()
        .unwrap()
        .to_string();

    let car = ToolCategory::new(Tool::BoundingBox, "Car").classifications(vec![
        ClassificationCategory::new(Classification::Radio, "Colour")
            .options(vec![LabelOption::new("Red"), LabelOption::new("Blue")]),
    ]);
    let weather = ClassificationCategory::new(Classification::Checkbox, "Weather")
        .options(vec![LabelOption::new("Sunny")]);
    let near = RelationCategory::new(Relation::Single, "Near");
    let schema = CategorySchema {
        tools: vec![car.clone()],
        classifications: vec![weather],
        relations: vec![near],
    };
    client.create_label_set(&project, &schema, None).unwrap();
    let assets: Vec<Value> = (1..=3)
        .map(|i| json!({"data": format!("https://example.com/{i}.png"), "externalId": format!("{i}.png")}))
        .collect();
    client
        .upload_files_cloud(&project, assets, None, None, 0, None)
        .unwrap();
    let labels: Vec<Value> = (1..=3)
        .map(|i| {
            json!({"externalId": format!("{i}.png"), "objects": [{
                "schemaId": car.base.schema_id, "objectId": format!("o{i}"),
                "bounding-box": {"x": 1, "y": 2.5, "width": 30, "height": 40}}]})
        })
        .collect();
    client.import_labels(&project, &labels).unwrap();
    client.create_batch(&project, "first").unwrap();
    Populated {
        _emulator: emulator,
        client,
        organization,
        project,
    }
}

#[test]
fn every_reply_of_the_emulator_reads_into_its_model_and_back() {
    let Populated {
        _emulator,
        client,
        organization,
        project,
    } = populated();
    let raw = client.raw();

    let listed = round_trip::<ProjectList>("list_projects", &raw.list_projects(1, 10).unwrap());
    assert_eq!(listed.data.total, Some(1));
    assert_eq!(
        listed.data.projects[0].id.as_deref(),
        Some(project.as_str())
    );
    let page = client.list_projects(1, 10).unwrap();
    assert_eq!((page.total, page.items), (1, listed.data.projects));

    let reply = raw.get_project(&project).unwrap();
    let read = round_trip::<ProjectData>("get_project", &reply)
        .data
        .project;
    assert_eq!(read.name.as_deref(), Some("Typed"));
    assert_eq!(read.description.as_deref(), Some("typed results"));
    let labels = read.category_schema.clone().unwrap();
    assert_eq!(labels.tools[0].title.as_deref(), Some("Car"));
    assert_eq!(labels.tools[0].tool.as_deref(), Some("bounding-box"));
    assert_eq!(labels.tools[0].classifications[0].options.len(), 2);
    assert_eq!(labels.classifications[0].tool.as_deref(), Some("checkbox"));
    assert_eq!(labels.relations[0].tool.as_deref(), Some("one-to-one"));
    assert_eq!(labels.relations[0].title.as_deref(), Some("Near"));
    assert_eq!(labels.categories().len(), 4);
    let colour = labels.tools[0].classifications[0]
        .schema_id
        .clone()
        .unwrap();
    assert_eq!(
        labels.find(&colour).unwrap().title.as_deref(),
        Some("Colour")
    );
    let ontology = read.ontology().unwrap();
    assert_eq!(ontology.tools[0].base.title, "Car");
    let stages: Vec<_> = read.stages.iter().filter_map(|s| s.id.as_deref()).collect();
    assert_eq!(stages, ["Start", "Label", "Complete"]);
    assert_eq!(read.stages[1].next, ["Complete"]);
    assert_eq!(read.batch("first").unwrap().name.as_deref(), Some("first"));
    assert!(
        read.extra.contains_key("benchmarkRatio"),
        "{:?}",
        read.extra.keys()
    );
    assert!(!read.extra.contains_key("name"));
    assert_eq!(client.get_project(&project).unwrap(), read);

    let clone = raw.clone_project(&project, &Default::default()).unwrap();
    round_trip::<ProjectData>("clone_project", &clone);

    let reply = raw
        .get_tasks(
            &project,
            &GetTasksParams {
                include_answer: true,
                ..GetTasksParams::default()
            },
        )
        .unwrap();
    let tasks = round_trip::<TaskList>("get_tasks", &reply).data;
    assert_eq!((tasks.tasks.len(), tasks.total), (3, Some(3)));
    let task = &tasks.tasks[0];
    let answer = task.answer.as_ref().unwrap();
    assert_eq!(answer.tools.len(), 1);
    assert!(matches!(
        answer.tools[0].shape(),
        ango_core::export_row::Shape::BoundingBox(b) if b.y == 2.5
    ));
    assert!(task.asset_id().is_some());
    assert_eq!(task.stage.as_deref(), Some("Label"));
    let id = task.id.clone().unwrap();
    let reply = raw.get_task(&id, true).unwrap();
    let one = round_trip::<TaskData>("get_task", &reply).data.task;
    assert_eq!(&one, task);
    assert_eq!(&client.get_task(&id, true).unwrap(), task);

    let reply = raw
        .get_assets(&project, &GetAssetsParams::default())
        .unwrap();
    let assets = round_trip::<AssetList>("get_assets", &reply).data;
    assert_eq!((assets.assets.len(), assets.total), (3, Some(3)));
    let asset = &assets.assets[0];
    assert_eq!(asset.label_tasks.len(), 1);
    assert!(asset.external_id.as_deref().unwrap().ends_with(".png"));
    assert_eq!(
        client
            .get_assets(&project, &GetAssetsParams::default())
            .unwrap()
            .items,
        assets.assets
    );

    let batches: Vec<Batch> = serde_json::from_value(raw.get_batches(&project).unwrap()).unwrap();
    assert_eq!(batches[0].name.as_deref(), Some("first"));
    assert_eq!(client.get_batches(&project).unwrap(), batches);
    let reply = raw
        .make_request("GET", &format!("/v2/batches/{project}"), None)
        .unwrap();
    let listed = round_trip::<BatchList>("GET /v2/batches", &reply)
        .data
        .batches;
    assert_eq!(listed, batches);

    let reply = raw
        .create_issue(&id, "wrong box", &CreateIssueParams::default())
        .unwrap();
    let issue = round_trip::<IssueData>("create_issue", &reply).data.issue;
    assert_eq!(issue.content.as_deref(), Some("wrong box"));
    assert_eq!(issue.label_task.as_deref(), Some(id.as_str()));
    let reply = raw
        .get_issues(&project, &GetIssuesParams::default())
        .unwrap();
    let issues = round_trip::<IssueList>("get_issues", &reply).data;
    assert_eq!(issues.clone().items(), vec![issue.clone()]);
    let page = client
        .get_issues(&project, &GetIssuesParams::default())
        .unwrap();
    assert_eq!((page.total, page.items), (1, vec![issue.clone()]));
    let issue_id = issue.id.clone().unwrap();
    let update = UpdateIssueParams {
        status: Some("Resolved".into()),
        ..UpdateIssueParams::default()
    };
    let reply = raw.update_issue(&issue_id, &update).unwrap();
    let updated = round_trip::<IssueData>("update_issue", &reply).data.issue;
    assert_eq!(updated.status.as_deref(), Some("Resolved"));

    let reply = raw.get_organization_members(&organization).unwrap();
    let members = round_trip::<MemberList>("get_organization_members", &reply).data;
    assert!(members.users[0].email.as_deref().unwrap().contains('@'));
    assert_eq!(
        client.get_organization_members(&organization).unwrap(),
        members.users
    );
    let invitation = Invitation {
        to: strings(&["new@example.com"]),
        organization_role: OrganizationRole::Member,
        project_assignments: None,
    };
    let reply = client
        .invite_members_to_org(&organization, &invitation)
        .unwrap();
    round_trip::<InviteList>("invite_members_to_org", &reply);
    let reply = raw.get_organization_invites(&organization).unwrap();
    let invites = round_trip::<InviteList>("get_organization_invites", &reply).data;
    assert_eq!(invites.invites[0].to.as_deref(), Some("new@example.com"));
    assert_eq!(invites.invites[0].status.as_deref(), Some("Pending"));

    let mut storage = Storage::new("bucket", StorageProvider::Aws);
    storage.public_key = Some("pk".into());
    storage.private_key = Some("sk".into());
    let reply = raw.create_storage(&storage).unwrap();
    let made = round_trip::<StorageData>("create_storage", &reply)
        .data
        .storage;
    assert_eq!(made.provider.as_deref(), Some("AWS"));
    let storage_id = made.id.clone().unwrap();
    let reply = raw.get_storages(None).unwrap();
    round_trip::<StorageList>("get_storages", &reply);
    assert_eq!(client.get_storages(None).unwrap(), vec![made.clone()]);
    assert_eq!(
        client.get_storages(Some(&storage_id)).unwrap(),
        vec![made.clone()]
    );
    assert!(client.get_storages(Some("nope")).unwrap().is_empty());
    let reply = client.delete_storage(&storage_id).unwrap();
    round_trip::<StorageData>("delete_storage", &reply);

    let llm = Llm {
        name: "chat".into(),
        provider: LlmProvider::OpenAi,
        model: "gpt".into(),
        api_key: "secret".into(),
        base_url: None,
        is_streamable: true,
    };
    let reply = raw.create_llm(&llm).unwrap();
    let made = round_trip::<LlmData>("create_llm", &reply).data.llm;
    assert_eq!(made.is_streamable, Some(true));
    let reply = raw.get_llms(None).unwrap();
    round_trip::<LlmList>("get_llms", &reply);
    assert_eq!(
        client.get_llms(made.id.as_deref()).unwrap(),
        vec![made.clone()]
    );
    let reply = client.delete_llm(made.id.as_deref().unwrap()).unwrap();
    round_trip::<LlmData>("delete_llm", &reply);
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_documented_replies_read_into_their_models_and_back() {
    let listed = round_trip::<ProjectList>("docs list", &fixture("doc_list_projects.json"));
    assert_eq!(listed.data.into_page().total, 1);

    let project = round_trip::<ProjectData>("docs project", &fixture("doc_get_project.json"))
        .data
        .project;
    assert_eq!(project.name.as_deref(), Some("Project Name"));
    let vehicle = &project.category_schema.as_ref().unwrap().tools[0];
    assert_eq!(vehicle.title.as_deref(), Some("Vehicle"));
    assert_eq!(vehicle.classifications[0].options.len(), 4);
    assert_eq!(vehicle.extra["shortcutKey"], "h");
    assert_eq!(project.extra["consensusCount"], 1);
    assert!(project.stages.is_empty());

    let tasks = round_trip::<TaskList>("docs tasks", &fixture("doc_get_tasks.json")).data;
    assert_eq!(tasks.tasks.len(), 2);
    let first = &tasks.tasks[0];
    assert_eq!(first.asset_id(), Some("6167e84f2a810d000e9d3185"));
    assert_eq!(first.status.as_deref(), Some("TODO"));
    assert_eq!(first.extra["review"]["status"], "Todo");
    let object = &first.answer.as_ref().unwrap().tools[0];
    assert_eq!(object.classifications.len(), 3);
    assert!(matches!(
        tasks.tasks[1].answer.as_ref().unwrap().tools[0].shape(),
        ango_core::export_row::Shape::BoundingBox(_)
    ));
    let task = round_trip::<TaskData>("docs task", &fixture("doc_get_task.json"))
        .data
        .task;
    assert!(task.project_id().is_some());

    // The asset listing as the facts describe it, and the export reply.
    let assets = json!({"status": "success", "data": {"assets": [{
        "_id": "a1", "data": "https://x/1.png", "externalId": "1.png", "batches": ["b1"],
        "labelTasks": [{"stageHistory": [{"stageId": "Label", "completedBy": "u@x",
                                          "completedAt": "2024-01-01T00:00:00Z"}]}]}],
        "total": 1}});
    let assets = round_trip::<AssetList>("docs assets", &assets).data;
    let history = &assets.assets[0].label_tasks[0].stage_history[0];
    assert_eq!(history.stage_id.as_deref(), Some("Label"));
    let export = json!({"status": "success", "data": {"exportPath": "https://x/e.zip"}});
    let export = round_trip::<ExportData>("export", &export).data;
    assert_eq!(export.export_path.as_deref(), Some("https://x/e.zip"));
}

/// Reads `text` as `T`, writes it back, and returns both.
fn reread<T: DeserializeOwned + Serialize>(text: &str) -> (T, Value) {
    let value: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let back = serde_json::to_value(&value).unwrap();
    (value, back)
}

macro_rules! for_every_model {
    ($check:ident) => {
        $check::<Project>();
        $check::<Task>();
        $check::<Asset>();
        $check::<Batch>();
        $check::<Issue>();
        $check::<Member>();
        $check::<Invite>();
        $check::<StorageInfo>();
        $check::<LlmInfo>();
        $check::<LabelSet>();
        $check::<LabelCategory>();
        $check::<WorkflowStage>();
        $check::<ango_core::types::TaskAnswer>();
        $check::<ango_core::types::AssetTask>();
        $check::<ango_core::types::StageHistoryEntry>();
        $check::<ProjectData>();
        $check::<ProjectList>();
        $check::<TaskData>();
        $check::<TaskList>();
        $check::<AssetList>();
        $check::<BatchList>();
        $check::<IssueData>();
        $check::<IssueList>();
        $check::<MemberList>();
        $check::<InviteList>();
        $check::<StorageList>();
        $check::<StorageData>();
        $check::<LlmList>();
        $check::<LlmData>();
        $check::<ExportData>();
        $check::<ApiDocument<ProjectData>>();
    };
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    fn check<T: DeserializeOwned + Serialize>() {
        let text = r#"{"aNewField": {"nested": [1, "two", null]}, "flag": true}"#;
        let (_, back) = reread::<T>(text);
        assert_eq!(
            back["aNewField"],
            json!({"nested": [1, "two", null]}),
            "{}",
            std::any::type_name::<T>()
        );
        assert_eq!(back["flag"], true);
    }
    for_every_model!(check);

    let (task, back) = reread::<Task>(
        r#"{"_id": "t", "answer": {"tools": [
        {"objectId": "o", "schemaId": "s", "point": [1, 2], "custom": "kept"}],
        "extraAnswerField": 7}, "sample": {"isSample": true}}"#,
    );
    assert_eq!(task.extra["sample"]["isSample"], true);
    assert_eq!(back["answer"]["extraAnswerField"], 7);
    assert_eq!(back["answer"]["tools"][0]["custom"], "kept");
}

#[test]
fn missing_and_null_fields_read_as_empty() {
    fn check<T: DeserializeOwned + Serialize + Default + PartialEq + std::fmt::Debug>() {
        let (empty, back) = reread::<T>("{}");
        assert_eq!(empty, T::default(), "{}", std::any::type_name::<T>());
        fn blank(value: &Value) -> bool {
            match value {
                Value::Object(map) => map.values().all(blank),
                Value::String(text) => text.is_empty(),
                _ => false,
            }
        }
        assert!(
            blank(&prune(&back)),
            "{}: {back}",
            std::any::type_name::<T>()
        );
    }
    for_every_model!(check);

    let (project, _) = reread::<Project>(
        r#"{"name": null, "stages": null, "batches": null, "categorySchema": {"tools": null}}"#,
    );
    assert_eq!(project.name, None);
    assert!(project.stages.is_empty() && project.batches.is_empty());
    assert!(project.category_schema.unwrap().tools.is_empty());
    let (document, _) = reread::<ApiDocument<TaskList>>(r#"{"data": null}"#);
    assert!(document.data.tasks.is_empty());
    let (document, _) =
        reread::<ApiDocument<TaskData>>(r#"{"status": "success", "data": {"task": null}}"#);
    assert_eq!(document.data.task, Task::default());
}

fn replying(body: Value) -> Recorder {
    Recorder::with_responder(move |_| Some(Reply::json(body.clone())))
}

#[test]
fn a_wrong_type_in_a_known_field_is_a_decode_error() {
    let server = replying(json!({"status": "success", "data": {"project": {"name": 5}}}));
    let client = server.client();
    match client.get_project("p1") {
        Err(Error::Decode {
            message,
            body_snippet,
        }) => {
            assert!(message.contains("expected a project"), "{message}");
            assert!(body_snippet.contains("\"name\":5"), "{body_snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // The JSON view still hands the reply over.
    assert_eq!(
        client.raw().get_project("p1").unwrap()["data"]["project"]["name"],
        5
    );

    let server = replying(json!({"status": "success", "data": {"tasks": "none", "total": 1}}));
    let err = server
        .client()
        .get_tasks("p1", &GetTasksParams::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("a list of tasks")),
        "{err:?}"
    );
    assert_eq!(err.code(), "DECODE");

    let server = replying(json!(["not", "a", "document"]));
    assert!(matches!(
        server.client().get_batches("p1"),
        Err(Error::Decode { .. })
    ));
    let server = replying(json!({"status": "success", "data": {"storages": [{"bucket": ["x"]}]}}));
    assert!(matches!(
        server.client().get_storages(None),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn typed_iterators_yield_what_the_json_ones_do() {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = Client::new(emulator.api_key(), emulator.url()).unwrap();
    let project = emulator.seed_project("listing", 1234);
    emulator.seed_project("another", 3);
    let params = GetTasksParams {
        include_answer: true,
        ..GetTasksParams::default()
    };

    let raw: Vec<Value> = client
        .raw()
        .iter_tasks(&project, &params, Some(100))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let typed: Vec<Task> = client
        .iter_tasks(&project, &params, Some(100))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(raw.len(), 1234);
    assert_eq!(typed.len(), raw.len());
    for (task, value) in typed.iter().zip(&raw) {
        assert_eq!(
            task,
            &serde_json::from_value::<Task>(value.clone()).unwrap()
        );
        assert!(same(
            &prune(value),
            &prune(&serde_json::to_value(task).unwrap())
        ));
    }

    let filters = serde_json::Map::new();
    let raw: Vec<Value> = client
        .raw()
        .iter_assets(&project, &filters, None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let typed: Vec<Asset> = client
        .iter_assets(&project, &filters, None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(typed.len(), 1234);
    let ids = |v: &Value| v["_id"].as_str().map(str::to_string);
    assert_eq!(
        typed.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        raw.iter().map(ids).collect::<Vec<_>>()
    );

    let mut pages = client.iter_projects(None).unwrap();
    let projects: Vec<Project> = pages.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(pages.total(), Some(2));
    let raw: Vec<Value> = client
        .raw()
        .iter_projects(None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        projects,
        raw.into_iter()
            .map(|v| serde_json::from_value::<Project>(v).unwrap())
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_task_that_does_not_decode_is_reported_and_iteration_goes_on() {
    let server = replying(json!({"status": "success", "data": {"total": 3, "tasks": [
        {"_id": "000000000000000000000001", "priority": 1},
        {"_id": "000000000000000000000002", "priority": "high"},
        {"_id": "000000000000000000000003", "priority": 3},
    ]}}));
    let client = server.client();
    let items: Vec<_> = client
        .iter_tasks("p1", &GetTasksParams::default(), None)
        .unwrap()
        .collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().priority, Some(1));
    match &items[1] {
        Err(Error::Decode {
            message,
            body_snippet,
        }) => {
            assert!(message.contains("Task"), "{message}");
            assert!(body_snippet.contains("high"), "{body_snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(items[2].as_ref().unwrap().priority, Some(3));
    // The JSON iterator yields all three.
    let raw: Vec<Value> = client
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(raw[1]["priority"], "high");
}

#[test]
fn typed_export_rows_carry_the_answer_objects() {
    let Populated {
        _emulator,
        client,
        project,
        ..
    } = populated();
    let options = ango_core::models::ExportOptions::new(Some(vec!["Label".into()]), None);
    let rows: Vec<_> = client
        .export_rows(&project, &options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let raw: Vec<Value> = client
        .raw()
        .export_rows(&project, &options)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.len(), raw.len());
    for (row, value) in rows.iter().zip(&raw) {
        assert_eq!(row.external_id.as_deref(), value["externalId"].as_str());
        let task = row.tasks().next().unwrap();
        assert_eq!(task.tools.len(), 1);
        assert!(matches!(
            task.tools[0].shape(),
            ango_core::export_row::Shape::BoundingBox(_)
        ));
    }
    assert_eq!(client.export_json(&project, &options).unwrap(), rows);
}
