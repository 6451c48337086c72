//! Uploads: local files (in parallel, with per-file outcomes), cloud URLs, chat assets
//! and instructions, and the signed URLs they use.
//!
//! `upload_files` sends the same requests as the official SDK, but puts files
//! concurrently, streams each from disk, checks every PUT (the official SDK does not),
//! retries failed PUTs, and registers only the files whose bytes arrived.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::{Multipart, encode_component, put_file_external};
use crate::models::asset_builder::{self, ParseConfig};
use crate::models::{ChatAssetCreationConfig, StorageFileType};
use crate::progress::{self, Progress};

/// One local file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadFile {
    /// Where the file is.
    pub path: PathBuf,
    /// The asset's external id (default: the path as given).
    pub external_id: Option<String>,
    /// Context data shown to annotators.
    pub context_data: Option<Value>,
    /// Asset metadata (`width`, `height`, `frameRate`, ...).
    pub metadata: Option<Value>,
}

impl UploadFile {
    /// A file with no external id, context data or metadata.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UploadFile {
            path: path.into(),
            external_id: None,
            context_data: None,
            metadata: None,
        }
    }
}

impl From<&str> for UploadFile {
    fn from(path: &str) -> Self {
        UploadFile::new(path)
    }
}

impl From<PathBuf> for UploadFile {
    fn from(path: PathBuf) -> Self {
        UploadFile::new(path)
    }
}

/// Options of [`Client::upload_files`]. Deserializes from an object with snake_case
/// or camelCase keys (`storage_id`/`storageId`, `batches`, `priority`, `concurrency`,
/// `progress`: `true` for a bar on stderr, `false` for none, `null` for the client's
/// setting; a reporter of one's own is set in code).
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadOptions {
    /// Upload into this storage integration (checked first).
    #[serde(alias = "storageId")]
    pub storage_id: Option<String>,
    /// Put the new assets into these batches (names or ids; checked before any upload).
    pub batches: Option<Vec<String>>,
    /// Task priority of the new assets.
    #[serde(deserialize_with = "crate::models::null_default")]
    pub priority: i64,
    /// Where progress goes (default: from the client's progress setting).
    #[serde(deserialize_with = "progress_flag")]
    pub progress: Option<Arc<dyn Progress>>,
    /// Parallel PUTs (default: the client's concurrency).
    pub concurrency: Option<usize>,
}

/// `true`/`false`: a progress bar on stderr, or none; `null`: the client's setting.
fn progress_flag<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Arc<dyn Progress>>, D::Error> {
    let flag = <Option<bool> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(flag.map(|on| {
        crate::progress::for_mode(match on {
            true => crate::ProgressMode::On,
            false => crate::ProgressMode::Off,
        })
    }))
}

/// The object form of a file argument.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFields {
    #[serde(alias = "data")]
    path: PathBuf,
    #[serde(default, alias = "externalId")]
    external_id: Option<String>,
    #[serde(default, alias = "contextData")]
    context_data: Option<Value>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// A file argument as the bindings pass it: a path, or an object with `path` (or
/// `data`, the official SDK's key) and optionally `external_id`, `context_data`, `metadata` (camelCase keys too).
impl<'de> serde::Deserialize<'de> for UploadFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match <Value as serde::Deserialize>::deserialize(deserializer)? {
            Value::String(path) => Ok(UploadFile::new(path)),
            value @ Value::Object(_) => {
                let f: FileFields = serde_json::from_value(value).map_err(D::Error::custom)?;
                Ok(UploadFile {
                    path: f.path,
                    external_id: f.external_id,
                    context_data: f.context_data,
                    metadata: f.metadata,
                })
            }
            other => Err(D::Error::custom(format!(
                "a file is a path or an object with a path, got {other}"
            ))),
        }
    }
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("storage_id", &self.storage_id)
            .field("batches", &self.batches)
            .field("priority", &self.priority)
            .field("progress", &self.progress.as_ref().map(|_| "..."))
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

#[derive(serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
/// What happened to one file (serialized with its kind in `outcome`: `uploaded`,
/// `failed` or `unknown`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FileStatus {
    /// The bytes arrived and the asset was registered.
    Uploaded {
        /// The stored file's URL (the asset's `data`).
        url: String,
    },
    /// The file was not registered; nothing references it.
    Failed {
        /// Why.
        error: String,
    },
    /// The bytes arrived, the registration call failed in a way that leaves open whether
    /// the server registered the asset (a timeout, a dropped connection, a 5xx), and the
    /// check by external id failed too: look before uploading the file again.
    Unknown {
        /// The stored file's URL (the asset's `data`, if it was registered).
        url: String,
        /// The registration error and why the check could not tell.
        error: String,
    },
}

impl FileStatus {
    /// `"registered"`, `"not_registered"` or `"unknown"`.
    pub fn registration(&self) -> &'static str {
        match self {
            FileStatus::Uploaded { .. } => "registered",
            FileStatus::Failed { .. } => "not_registered",
            FileStatus::Unknown { .. } => "unknown",
        }
    }
}

#[derive(serde::Serialize)]
/// One file's outcome.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FileOutcome {
    /// The file.
    pub path: PathBuf,
    /// Its asset's external id.
    pub external_id: String,
    /// What happened.
    pub status: FileStatus,
}

impl FileOutcome {
    /// True when the file was uploaded and registered.
    pub fn is_uploaded(&self) -> bool {
        matches!(self.status, FileStatus::Uploaded { .. })
    }
}

/// The result of [`Client::upload_files`]: every file's outcome, in input order.
///
/// When the registration call fails ambiguously (a timeout, a dropped connection, a
/// 5xx) the assets are looked up by external id before anything is reported: files
/// found registered are `Uploaded` (and if all are, `registration_error` is `None` and
/// `response` is `None`, the server's answer having been lost), files not found are
/// `Failed`, and files the lookup could not settle are `Unknown`.
#[derive(Debug)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UploadReport {
    /// The asset-registration (cloud import) response, when that call was made and succeeded.
    pub response: Option<Value>,
    /// The registration error, when that call failed and not every file was then found
    /// registered.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub registration_error: Option<Error>,
    /// One outcome per input file.
    pub files: Vec<FileOutcome>,
}

impl UploadReport {
    /// Files uploaded and registered.
    pub fn uploaded(&self) -> impl Iterator<Item = &FileOutcome> {
        self.files.iter().filter(|f| f.is_uploaded())
    }

    /// Files that were not registered.
    pub fn failed(&self) -> impl Iterator<Item = &FileOutcome> {
        self.files.iter().filter(|f| !f.is_uploaded())
    }

    /// True when every file was uploaded and registered.
    pub fn is_complete(&self) -> bool {
        self.registration_error.is_none() && self.files.iter().all(FileOutcome::is_uploaded)
    }
}

/// The stored name of an uploaded file: a random id plus the file's extension
/// (`.nii.gz` counts as one extension, as in the official SDK).
pub fn storage_file_name(path: &Path) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = if base.to_lowercase().ends_with(".nii.gz") {
        "nii.gz".to_string()
    } else {
        match base.rsplit_once('.') {
            Some((_, ext)) => ext.to_string(),
            None => String::new(),
        }
    };
    if ext.is_empty() {
        id
    } else {
        format!("{id}.{ext}")
    }
}

/// What a lookup after an ambiguous registration failure found.
#[derive(Debug, Clone)]
enum Registered {
    Yes,
    No,
    Unknown(String),
}

/// Whether a failed registration call may have registered the assets anyway: the
/// request may have reached the server and its answer was lost or was a server error.
fn registration_may_have_happened(error: &Error) -> bool {
    match error {
        Error::Timeout(_) | Error::Connection(_) | Error::Transport(_) | Error::Decode { .. } => {
            true
        }
        Error::Http { status, .. } => *status >= 500 || *status == 408,
        _ => false,
    }
}

fn without_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn data_string(response: &Value, key: &str) -> Result<String> {
    response
        .get("data")
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            Error::decode(
                format!("the response has no data.{key}"),
                response.to_string().as_bytes(),
            )
        })
}

impl Client {
    /// A signed URL to PUT a new file to (`GET /v2/getUploadUrl` → `data.uploadUrl`).
    pub fn get_upload_url(
        &self,
        file_name: &str,
        project_id: &str,
        file_type: StorageFileType,
        storage_id: Option<&str>,
    ) -> Result<String> {
        self.storage_url(
            "/v2/getUploadUrl",
            "uploadUrl",
            file_name,
            project_id,
            file_type,
            storage_id,
        )
    }

    /// A signed URL to read a stored file (`GET /v2/getSignedUrl` → `data.signedUrl`).
    pub fn get_signed_url(
        &self,
        asset_url: &str,
        project_id: &str,
        file_type: StorageFileType,
        storage_id: Option<&str>,
    ) -> Result<String> {
        self.storage_url(
            "/v2/getSignedUrl",
            "signedUrl",
            asset_url,
            project_id,
            file_type,
            storage_id,
        )
    }

    /// Asks `path` for a signed URL of `name` and reads it from `data.<key>`.
    fn storage_url(
        &self,
        path: &str,
        key: &str,
        name: &str,
        project_id: &str,
        file_type: StorageFileType,
        storage_id: Option<&str>,
    ) -> Result<String> {
        let response = self
            .get(path)
            .without_content_type()
            .query("name", name)
            .query("project", project_id)
            .query("type", file_type.as_str())
            .query_opt("storageId", storage_id)
            .send()?;
        data_string(&response, key)
    }

    /// `data.project` of the project, with the official message when it does not exist.
    fn project_to_upload_into(&self, project_id: &str) -> Result<Value> {
        let response = self.raw().get_project(project_id).map_err(|e| match e {
            Error::Http { status: 404, .. } => {
                Error::NotFound("Project with given ID does not exist.".into())
            }
            other => other,
        })?;
        Ok(response
            .get("data")
            .and_then(|d| d.get("project"))
            .cloned()
            .unwrap_or(Value::Null))
    }

    fn check_storage(&self, storage_id: Option<&str>) -> Result<()> {
        match storage_id {
            Some(id) if !id.is_empty() && !self.storage_exists(id)? => {
                Err(Error::invalid("Storage ID is Invalid!"))
            }
            _ => Ok(()),
        }
    }

    /// Registers assets by URL (`POST /v2/project/{id}/cloud`).
    ///
    /// As the official SDK: the storage is checked, `storage` is set on every asset,
    /// per-asset and call-level batch names are turned into ids, and the body is
    /// `{"assets", "uploadLocal", "priority"}`. Unlike it, an HTTP error is an error.
    pub fn upload_files_cloud(
        &self,
        project_id: &str,
        mut assets: Vec<Value>,
        storage_id: Option<&str>,
        batches: Option<&[String]>,
        priority: i64,
        upload_local: Option<&str>,
    ) -> Result<Value> {
        self.check_storage(storage_id)?;
        for asset in &mut assets {
            let Some(obj) = asset.as_object_mut() else {
                return Err(Error::invalid(format!(
                    "an asset must be an object, got {asset}"
                )));
            };
            if let Some(id) = storage_id.filter(|s| !s.is_empty()) {
                obj.insert("storage".into(), Value::from(id));
            }
            if let Some(names) = obj.get("batches") {
                let names: Vec<String> = match names {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                        .collect(),
                    other => {
                        return Err(Error::invalid(format!(
                            "an asset's batches must be a list, got {other}"
                        )));
                    }
                };
                let ids = self.resolve_batch_ids(project_id, &names)?;
                obj.insert("batches".into(), json!(ids));
            }
        }
        let mut call = self.post(format!(
            "/v2/project/{}/cloud",
            encode_component(project_id)
        ));
        if let Some(names) = batches.filter(|b| !b.is_empty()) {
            let ids = self.resolve_batch_ids(project_id, names)?;
            call = call.query_json("batches", &ids);
        }
        call.json(&json!({ "assets": assets, "uploadLocal": upload_local, "priority": priority }))
            .send()
    }

    /// Uploads local files and registers them as assets; see the module docs.
    ///
    /// Fails before uploading anything when the project is missing or a PCT project,
    /// the storage is unknown, or a batch is unknown. After that, each file's outcome is
    /// in the report: a file that can't be read or whose PUT fails is reported and not
    /// registered, and the others go on.
    pub fn upload_files(
        &self,
        project_id: &str,
        files: &[UploadFile],
        options: &UploadOptions,
    ) -> Result<UploadReport> {
        if let Some(bound) = self.bind_ambient_cancel() {
            // The workers below run on other threads: they carry the token themselves.
            return bound.upload_files(project_id, files, options);
        }
        let project = self.project_to_upload_into(project_id)?;
        if project.get("type").and_then(Value::as_str) == Some("pct") {
            return Err(Error::invalid(
                "Local file upload is not supported for PCT projects. Please use cloud storage integration instead.",
            ));
        }
        let storage_id = options.storage_id.as_deref().filter(|s| !s.is_empty());
        self.check_storage(storage_id)?;
        // No batches and an empty list are the same: nothing to check.
        if let Some(names) = options.batches.as_deref().filter(|b| !b.is_empty()) {
            // Fail before any upload: the same name/id matching the registration uses.
            let batches = project
                .get("batches")
                .and_then(Value::as_array)
                .map(Vec::as_slice);
            crate::batches::match_batches(batches.unwrap_or(&[]), names)?;
        }

        let progress = options
            .progress
            .clone()
            .unwrap_or_else(|| progress::for_mode(self.settings().progress));
        progress.start(files.len() as u64, "Uploading");
        let slots: Vec<Mutex<Option<Result<String>>>> =
            files.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = options
            .concurrency
            .unwrap_or(self.settings().concurrency)
            .clamp(1, 64)
            .min(files.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else { break };
                        // Once cancelled, files not started are reported not uploaded.
                        let result = crate::cancel::check(self.cancel_token())
                            .and_then(|()| self.upload_one(project_id, &file.path, storage_id));
                        if let Ok(mut slot) = slots[index].lock() {
                            *slot = Some(result);
                        }
                        progress.advance(1);
                    }
                });
            }
        });
        progress.finish();

        let mut outcomes = Vec::with_capacity(files.len());
        let mut assets = Vec::new();
        for (file, slot) in files.iter().zip(slots) {
            let external_id = file
                .external_id
                .clone()
                .unwrap_or_else(|| file.path.to_string_lossy().into_owned());
            let result = slot
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(Error::Transport("upload did not run".into())));
            let status = match result {
                Ok(url) => {
                    let mut asset = Map::new();
                    asset.insert("data".into(), Value::from(url.as_str()));
                    asset.insert("externalId".into(), Value::from(external_id.as_str()));
                    asset.insert(
                        "contextData".into(),
                        file.context_data.clone().unwrap_or(Value::Null),
                    );
                    asset.insert(
                        "metadata".into(),
                        file.metadata.clone().unwrap_or(Value::Null),
                    );
                    assets.push(Value::Object(asset));
                    FileStatus::Uploaded { url }
                }
                Err(error) => FileStatus::Failed {
                    error: error.to_string(),
                },
            };
            outcomes.push(FileOutcome {
                path: file.path.clone(),
                external_id,
                status,
            });
        }
        if assets.is_empty() {
            return Ok(UploadReport {
                response: None,
                registration_error: None,
                files: outcomes,
            });
        }
        match self.upload_files_cloud(
            project_id,
            assets,
            storage_id,
            options.batches.as_deref(),
            options.priority,
            Some("true"),
        ) {
            Ok(response) => Ok(UploadReport {
                response: Some(response),
                registration_error: None,
                files: outcomes,
            }),
            Err(error) => {
                let ambiguous = registration_may_have_happened(&error);
                let stored: Vec<usize> = (0..outcomes.len())
                    .filter(|&i| outcomes[i].is_uploaded())
                    .collect();
                let checks = if ambiguous {
                    self.find_registered(project_id, &outcomes, &stored, &error)
                } else {
                    vec![Registered::No; stored.len()]
                };
                for (&i, check) in stored.iter().zip(checks) {
                    let outcome = &mut outcomes[i];
                    let FileStatus::Uploaded { url } = &outcome.status else {
                        continue;
                    };
                    let url = url.clone();
                    outcome.status = match check {
                        Registered::Yes => FileStatus::Uploaded { url },
                        Registered::No => FileStatus::Failed {
                            error: format!(
                                "stored at {url} but not registered as an asset: {error}"
                            ),
                        },
                        Registered::Unknown(why) => FileStatus::Unknown {
                            error: format!(
                                "stored at {url}; registering it failed ({error}) and checking \
                                 whether it was registered failed too ({why})"
                            ),
                            url,
                        },
                    };
                }
                let all_registered = stored.iter().all(|&i| outcomes[i].is_uploaded());
                Ok(UploadReport {
                    response: None,
                    registration_error: (!all_registered).then_some(error),
                    files: outcomes,
                })
            }
        }
    }

    /// Looks up each stored file (`indices` into `outcomes`) by external id after the
    /// registration failed with `error`: is there an asset whose `data` is its URL?
    fn find_registered(
        &self,
        project_id: &str,
        outcomes: &[FileOutcome],
        indices: &[usize],
        error: &Error,
    ) -> Vec<Registered> {
        // A request that timed out or lost its connection may still be running on the
        // server: give it a moment, and look twice before saying "not registered".
        let transport = matches!(error, Error::Timeout(_) | Error::Connection(_));
        let looks = if transport { 3 } else { 1 };
        let results: Vec<Mutex<Registered>> =
            indices.iter().map(|_| Mutex::new(Registered::No)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.settings().concurrency.clamp(1, 16).min(indices.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = indices.get(k) else { break };
                        let outcome = &outcomes[i];
                        let FileStatus::Uploaded { url } = &outcome.status else {
                            continue;
                        };
                        let mut found = Registered::No;
                        for look in 0..looks {
                            if look > 0
                                && let Err(cancelled) = crate::cancel::sleep(
                                    self.cancel_token(),
                                    self.settings()
                                        .retry
                                        .backoff(look)
                                        .max(std::time::Duration::from_millis(200)),
                                )
                            {
                                found = Registered::Unknown(cancelled.to_string());
                                break;
                            }
                            found = self.is_registered(project_id, &outcome.external_id, url);
                            if !matches!(found, Registered::No) {
                                break;
                            }
                        }
                        if let Ok(mut slot) = results[k].lock() {
                            *slot = found;
                        }
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|_| Registered::Unknown("the check did not run".into()))
            })
            .collect()
    }

    /// Whether an asset with `external_id` and `data` equal to `url` exists.
    fn is_registered(&self, project_id: &str, external_id: &str, url: &str) -> Registered {
        let mut filters = Map::new();
        filters.insert("externalId".into(), Value::from(external_id));
        let pages = match self.raw().iter_assets(project_id, &filters, Some(100)) {
            Ok(pages) => pages,
            Err(e) => return Registered::Unknown(e.to_string()),
        };
        let mut without_data = false;
        for asset in pages {
            let asset = match asset {
                Ok(asset) => asset,
                Err(e) => return Registered::Unknown(e.to_string()),
            };
            if asset.get("externalId").and_then(Value::as_str) != Some(external_id) {
                continue;
            }
            match asset.get("data").and_then(Value::as_str) {
                Some(data) if without_query(data) == url => return Registered::Yes,
                Some(_) => {} // an older asset with the same external id
                None => without_data = true,
            }
        }
        if without_data {
            Registered::Unknown("the assets found do not show their data URL".into())
        } else {
            Registered::No
        }
    }

    /// Gets an upload URL and PUTs one file; returns the stored file's URL.
    fn upload_one(
        &self,
        project_id: &str,
        path: &Path,
        storage_id: Option<&str>,
    ) -> Result<String> {
        let metadata = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if !metadata.is_file() {
            return Err(Error::invalid(format!("{} is not a file", path.display())));
        }
        let name = storage_file_name(path);
        let url = self.get_upload_url(&name, project_id, StorageFileType::Asset, storage_id)?;
        put_file_external(self, &url, path)?;
        Ok(without_query(&url))
    }

    /// Builds assets from a CSV file with one of the project's asset-builder templates and
    /// registers them (`POST /v2/project/{id}/cloud`); returns that call's response.
    ///
    /// As the official SDK: the project is read, the template found by id, the rows turned
    /// into HTML assets with pre-labels, missing batches created, and the assets imported
    /// with `uploadLocal: "true"`. Unlike it, batch names are really turned into ids (the
    /// official code crashes once a new batch is created) and the project's classifications
    /// fill the template's classification slots (the official code reads a path that
    /// does not exist).
    pub fn upload_files_with_asset_builder(
        &self,
        project_id: &str,
        template_id: &str,
        input_file_path: impl AsRef<Path>,
        parse_config: &ParseConfig,
        priority: i64,
    ) -> Result<Value> {
        let project = self.project_to_upload_into(project_id)?;
        let templates = project
            .get("assetBuilderTemplates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if templates.is_empty() {
            return Err(Error::NotFound(format!(
                "Project {project_id} does not have any Asset Builder templates."
            )));
        }
        let template = templates
            .iter()
            .find(|t| t.get("_id").and_then(Value::as_str) == Some(template_id))
            // The official message, double space included: callers may match on it.
            .ok_or_else(|| Error::NotFound("Template with  given ID does not exist.".into()))?;
        let classifications = project
            .get("categorySchema")
            .and_then(|c| c.get("classifications"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (assets, new_batches) = asset_builder::prepare_assets(
            input_file_path,
            parse_config,
            template,
            &classifications,
        )?;
        let new_batches: Vec<String> = new_batches.into_iter().collect();
        self.create_batches(project_id, &new_batches)?;
        let batch_list = if new_batches.is_empty() {
            Vec::new()
        } else {
            self.raw()
                .get_batches(project_id)?
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let assets = asset_builder::replace_batch_names_with_ids(assets, &batch_list)?;
        self.upload_files_cloud(project_id, assets, None, None, priority, Some("true"))
    }

    /// Uploads a project's instructions file (`POST /v2/project/{id}/instructions`, multipart).
    pub fn upload_instructions(
        &self,
        project_id: &str,
        file_path: impl AsRef<Path>,
        storage_id: Option<&str>,
        bucket: Option<&str>,
    ) -> Result<Value> {
        let path = file_path.as_ref();
        let content = std::fs::read(path)
            .map_err(|e| Error::io(format!("File not found: {}", path.display()), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.post(format!(
            "/v2/project/{}/instructions",
            encode_component(project_id)
        ))
        .query_opt("storageId", storage_id.filter(|s| !s.is_empty()))
        .query_opt("bucket", bucket.filter(|s| !s.is_empty()))
        .multipart(Multipart::new().file("file", &name, &content))
        .send()
    }

    /// Creates chat assets (`POST /v2/project/{id}/chat`), from a conversation file
    /// (multipart) or as empty conversations (form-encoded).
    ///
    /// As the official SDK, an error answer with a JSON body is returned, not raised.
    pub fn upload_chat_assets(
        &self,
        project_id: &str,
        config: &ChatAssetCreationConfig,
        priority: i64,
    ) -> Result<Value> {
        config.validate()?;
        let fields = config.form_fields(project_id, priority);
        let call = self.post(format!("/v2/project/{}/chat", encode_component(project_id)));
        let call = match &config.conversation_json {
            Some(path) => {
                let content = std::fs::read(path)
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut body = Multipart::new();
                for (k, v) in &fields {
                    body = body.text(k, v);
                }
                call.multipart(body.file("file", &name, &content))
            }
            None => call.form(fields),
        };
        match call.send() {
            Err(Error::Http {
                body,
                status,
                retry_after,
            }) => serde_json::from_str(&body).map_err(|_| Error::Http {
                status,
                body,
                retry_after,
            }),
            other => other,
        }
    }
}

/// The one serialized shape of an upload report (what the bindings and the CLI give):
/// `{ "response": <reply or null>, "registration_error": <message or null>, "files":
/// [{ "path", "external_id", "status": { "outcome", "url"?, "error"? } }] }`.
impl serde::Serialize for UploadReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut report = serializer.serialize_struct("UploadReport", 3)?;
        report.serialize_field("response", &self.response)?;
        report.serialize_field(
            "registration_error",
            &self.registration_error.as_ref().map(ToString::to_string),
        )?;
        report.serialize_field("files", &self.files)?;
        report.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_keep_the_extension() {
        let name = storage_file_name(Path::new("/data/scan.NII.GZ"));
        assert!(name.ends_with(".nii.gz") && name.len() == 32 + 7, "{name}");
        assert!(storage_file_name(Path::new("a/b/photo.jpeg")).ends_with(".jpeg"));
        assert_eq!(storage_file_name(Path::new("README")).len(), 32);
        assert_eq!(without_query("http://x/f.png?sig=1&b=2"), "http://x/f.png");
    }
}
