//! A blocking client for iMerit's **Ango Hub** REST API and its ontology model.
//!
//! Every public method of the official Python SDK `imerit-ango` 1.4.10 is here, sending
//! the same request, plus what that SDK lacks: timeouts and retries by default, lazy
//! auto-pagination, parallel uploads with per-file results, streaming export, and
//! typed results.
//!
//! # Quickstart
//!
//! The client's methods return typed results ([`types`]): a [`Project`] with its label
//! set and workflow, [`Task`]s, [`Asset`]s, a [`Page`] of them for a listing, and
//! [`ExportRow`]s for an export. (This example runs against the crate's local Ango Hub
//! emulator; with a real account, build the client with [`Client::from_env`].)
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = ango_emulator::Emulator::start(ango_emulator::EmulatorConfig::default())?;
//! # let client = ango_core::Client::new(emulator.api_key(), emulator.url())?;
//! # let made = client.create_project("Street scenes", None, None)?;
//! # let project_id = made.id.clone().unwrap();
//! # let car = ango_core::ontology::ToolCategory::new(ango_core::ontology::Tool::BoundingBox, "Car");
//! # let schema = ango_core::ontology::CategorySchema { tools: vec![car.clone()], ..Default::default() };
//! # client.create_label_set(&project_id, &schema, None)?;
//! # let assets = vec![serde_json::json!({"data": "https://example.com/street-1.png", "externalId": "street-1.png"})];
//! # client.upload_files_cloud(&project_id, assets, None, None, 0, None)?;
//! # client.import_labels(&project_id, &[serde_json::json!({"externalId": "street-1.png",
//! #     "objects": [{"schemaId": car.base.schema_id, "bounding-box": {"x": 10, "y": 20, "width": 30, "height": 40}}]})])?;
//! use ango_core::models::ExportOptions;
//! use ango_core::{Client, GetTasksParams};
//!
//! // let client = Client::from_env()?; // ANGO_API_KEY, and ANGO_HOST if not the default
//! let projects = client.list_projects(1, 10)?;
//! println!("{} projects", projects.total);
//! for listed in &projects.items {
//!     println!("{:?} {:?}", listed.id, listed.name);
//! }
//!
//! let project = client.get_project(&project_id)?;
//! assert_eq!(project.name.as_deref(), Some("Street scenes"));
//! let label_set = project.category_schema.clone().unwrap_or_default();
//! for tool in &label_set.tools {
//!     println!("tool {:?}: {:?}", tool.title, tool.tool); // "Car": "bounding-box"
//! }
//! let stages: Vec<_> = project.stages.iter().filter_map(|s| s.name.as_deref()).collect();
//! println!("workflow: {}", stages.join(" -> "));
//!
//! // Every task, fetched page by page as the iterator is consumed.
//! for task in client.iter_tasks(&project_id, &GetTasksParams::default(), None)? {
//!     let task = task?;
//!     println!("task {:?} in stage {:?}", task.id, task.stage_name);
//! }
//!
//! // The export, streamed one row at a time, with its answer objects.
//! let options = ExportOptions::new(Some(vec!["Label".into()]), None);
//! let mut boxes = 0;
//! for row in client.export_rows(&project_id, &options)? {
//!     let row = row?;
//!     for task in row.tasks() {
//!         for object in &task.tools {
//!             let tool = object.schema_id.as_deref().and_then(|id| label_set.find(id));
//!             println!("{:?} {:?}", tool.and_then(|t| t.title.as_deref()), object.shape());
//!             boxes += 1;
//!         }
//!     }
//! }
//! assert_eq!(boxes, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # The JSON as the server sent it
//!
//! Fields the types do not name are kept in each struct's `extra` map. For the whole
//! reply as JSON, [`Client::raw`] gives the same methods answering with
//! [`Value`]s ([`Raw`]); its iterators yield values too, and can hand out each item's
//! JSON text undecoded ([`Pages::with_raw_items`]):
//!
//! ```no_run
//! # let client = ango_core::Client::from_env()?;
//! let reply = client.raw().get_project("PROJECT_ID")?;
//! println!("{}", reply["data"]["project"]["categorySchema"]);
//! let first = client.raw().list_projects(1, 10)?;
//! println!("{}", first["data"]["total"]);
//! # Ok::<(), ango_core::Error>(())
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod args;
pub mod cancel;
mod client;
pub mod config;
pub mod error;
mod http;
pub mod offload;
pub mod pyjson;
mod retry;
mod typed;

pub mod asset_builder;
pub mod models;
pub mod ontology;

pub mod assets;
pub mod batches;
pub mod brush;
pub mod export;
pub mod export_row;
pub mod formats;
pub mod issues;
pub mod organization;
pub mod pagination;
pub mod progress;
pub mod projects;
pub mod rows;
pub mod storage;
pub mod tasks;
pub mod types;
pub mod upload;

pub use api::{MethodSpec, ParamSpec, Reply, Returns};
pub use args::page_param;
pub use assets::GetAssetsParams;
pub use cancel::Cancel;
pub use client::{Client, ClientBuilder, Raw};
pub use config::{
    ClientOptions, DEFAULT_HOST, ProgressMode, RetryPolicy, Settings, SettingsOverrides,
};
pub use error::{Error, Result};
pub use export_row::ExportRow;
pub use issues::{CreateIssueParams, GetIssuesParams, UpdateIssueParams};
pub use pagination::Pages;
pub use projects::{CloneProjectOptions, UpdateLabelValidationParams};
pub use serde_json::Value;
pub use storage::ListStorageFilesParams;
pub use tasks::{AnnotateOptions, GetTasksParams, RequeueTasksParams};
pub use types::{
    ApiDocument, Asset, AssetList, Batch, BatchList, Invite, InviteList, Issue, IssueData,
    IssueList, LlmData, LlmInfo, LlmList, Member, MemberList, Page, Project, ProjectData,
    ProjectList, StorageData, StorageInfo, StorageList, Task, TaskData, TaskList,
};
