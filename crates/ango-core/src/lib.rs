//! A blocking client for iMerit's **Ango Hub** REST API and its ontology model.
//!
//! Every public method of the official Python SDK `imerit-ango` 1.4.10 is here, sending
//! the same request, plus what that SDK lacks: timeouts and retries by default, lazy
//! auto-pagination, parallel uploads with per-file results, and streaming export.
//!
//! ```no_run
//! let client = ango_core::Client::from_env()?;
//! let projects = client.list_projects(1, 10)?;
//! println!("{}", projects["data"]["total"]);
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
pub mod pyjson;
mod retry;

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
pub mod storage;
pub mod tasks;
pub mod upload;

pub use api::{MethodSpec, ParamSpec, Reply, Returns};
pub use args::page_param;
pub use assets::GetAssetsParams;
pub use cancel::Cancel;
pub use client::{Client, ClientBuilder};
pub use config::{DEFAULT_HOST, ProgressMode, RetryPolicy, Settings, SettingsOverrides};
pub use error::{Error, Result};
pub use export_row::ExportRow;
pub use issues::{CreateIssueParams, GetIssuesParams, UpdateIssueParams};
pub use pagination::Pages;
pub use projects::{CloneProjectOptions, UpdateLabelValidationParams};
pub use serde_json::Value;
pub use storage::ListStorageFilesParams;
pub use tasks::{AnnotateOptions, GetTasksParams, RequeueTasksParams};
