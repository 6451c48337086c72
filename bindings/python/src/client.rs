//! `Client`: the core client, one method per core method. Arguments are converted,
//! the call runs without the GIL (interruptible by Ctrl-C on the main thread), and the
//! JSON result comes back as Python objects. Each method body runs inside
//! [`blocking::shield`], so that no Rust panic reaches Python as `PanicException`.

use ango_core as core;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{from_py, opt_value, to_py, value_list, value_map};
use crate::decode::{Decoded, decode_shared};
use crate::errors::to_pyerr;
use crate::{blocking, iter, models};

/// A blocking Ango Hub client (the core's `ango_core::Client`).
#[pyclass(module = "imerit_ango._native", name = "Client", frozen)]
pub struct Client {
    pub(crate) inner: core::Client,
    /// The key, for the SDK's `api_key` property (the official SDK exposes it): kept
    /// here so that it is not in the `SDK` object's `__dict__`. Never in `repr()`.
    api_key: std::sync::Arc<str>,
}

/// Runs a core call without the GIL, interruptible by Ctrl-C and with panics caught
/// (see [`blocking::call`]), and converts its JSON result.
pub(crate) fn run<F>(py: Python<'_>, call: F) -> PyResult<Py<PyAny>>
where
    F: FnOnce() -> core::Result<Value> + Send + 'static,
{
    let value = blocking::call(py, call)?;
    Ok(to_py(py, &value)?.unbind())
}

/// Runs a core method that sends one API request and returns its reply unchanged
/// (see [`core::Client::raw_reply`]) and decodes the reply's body straight into Python
/// objects, skipping the intermediate `serde_json::Value`. A body that is not JSON is
/// the same `AngoDecodeError` as on the `Value` path.
pub(crate) fn run_raw<F>(py: Python<'_>, client: core::Client, call: F) -> PyResult<Py<PyAny>>
where
    F: FnOnce(&core::Raw<'_>) -> core::Result<Value> + Send + 'static,
{
    let bytes = blocking::call(py, move || client.raw_reply(call))?;
    decode_document(py, &bytes, |e| core::Error::Decode {
        message: format!("invalid JSON: {e}"),
        body_snippet: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
    })
}

/// A JSON document (a response body, a whole export) as Python objects, built straight
/// from the bytes; what the fast decoder leaves (a syntax error, a lone surrogate) goes
/// through `serde_json`, whose error becomes `error(message)`.
pub(crate) fn decode_document(
    py: Python<'_>,
    bytes: &[u8],
    error: impl FnOnce(serde_json::Error) -> core::Error,
) -> PyResult<Py<PyAny>> {
    // Building millions of containers would set off the cyclic garbage collector over
    // and over (each pass walking every container built so far): what is built here
    // holds no cycles, so a large document is decoded with the collector paused.
    let paused = if bytes.len() >= 1 << 20 {
        let gc = py.import("gc")?;
        let enabled = gc.call_method0("isenabled")?.is_truthy()?;
        if enabled {
            gc.call_method0("disable")?;
        }
        enabled.then_some(gc)
    } else {
        None
    };
    let decoded = decode_shared(py, bytes);
    if let Some(gc) = paused {
        gc.call_method0("enable")?;
    }
    if let Decoded::Value(value) = decoded {
        return Ok(value.unbind());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => Ok(to_py(py, &value)?.unbind()),
        Err(e) => Err(to_pyerr(py, error(e))),
    }
}

/// The constructor's and `with_options`' keyword arguments as core overrides
/// (`timeout` in seconds, 0 meaning no limit).
fn overrides(
    timeout: Option<f64>,
    max_retries: Option<u32>,
    concurrency: Option<usize>,
    progress: Option<bool>,
) -> core::Result<core::SettingsOverrides> {
    Ok(core::SettingsOverrides {
        request_timeout: timeout
            .map(core::SettingsOverrides::timeout_from_secs)
            .transpose()?,
        max_retries,
        concurrency,
        progress: progress.map(|on| {
            if on {
                core::ProgressMode::On
            } else {
                core::ProgressMode::Off
            }
        }),
        ..core::SettingsOverrides::default()
    })
}

fn strings(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if obj.is_none() {
        return Ok(Vec::new());
    }
    obj.extract()
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (api_key, host, *, timeout=None, max_retries=None, concurrency=None, progress=None))]
    fn new(
        py: Python<'_>,
        api_key: String,
        host: String,
        timeout: Option<f64>,
        max_retries: Option<u32>,
        concurrency: Option<usize>,
        progress: Option<bool>,
    ) -> PyResult<Self> {
        // Options and `ANGO_*` variables are checked by the core; a panic on an absurd
        // value still becomes an `AngoInternalError`, never a `PanicException`.
        let inner = blocking::guard(py, || {
            let overrides = overrides(timeout, max_retries, concurrency, progress)?;
            let mut settings = core::Settings::from_env();
            overrides.apply(&mut settings);
            core::Client::builder(api_key.clone())
                .host(host)
                .settings(settings)
                .build()
        })?;
        Ok(Client {
            inner,
            api_key: api_key.into(),
        })
    }

    /// A client sharing this one's connections and key, with some settings changed.
    #[pyo3(signature = (*, timeout=None, max_retries=None, concurrency=None, progress=None))]
    fn with_options(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        max_retries: Option<u32>,
        concurrency: Option<usize>,
        progress: Option<bool>,
    ) -> PyResult<Self> {
        blocking::shield(|| {
            let inner = blocking::guard(py, || {
                let overrides = overrides(timeout, max_retries, concurrency, progress)?;
                Ok(self.inner.with_overrides(&overrides))
            })?;
            Ok(Client {
                inner,
                api_key: std::sync::Arc::clone(&self.api_key),
            })
        })
    }

    /// The API key this client sends.
    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API host, without a trailing slash.
    #[getter]
    fn host(&self) -> &str {
        self.inner.host()
    }

    fn __repr__(&self) -> String {
        format!("Client(host={:?})", self.inner.host())
    }

    // ---------------------------------------------------------------- projects

    fn list_projects(
        &self,
        py: Python<'_>,
        page: &Bound<'_, PyAny>,
        limit: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let (page, limit) = page_and_limit(page, limit)?;
            let c = self.inner.clone();
            run_raw(py, c, move |c| c.list_projects(page, limit))
        })
    }

    fn get_project(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run_raw(py, c, move |c| c.get_project(&project_id))
        })
    }

    fn purge_project(
        &self,
        py: Python<'_>,
        project_id: String,
        confirm_name: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.purge_project(&project_id, &confirm_name))
        })
    }

    #[pyo3(signature = (project_id, category_schema=true, assigned_to=true, batches=true, workflow=true, plugin_presets=true, project_general_settings=true))]
    #[allow(clippy::too_many_arguments)]
    fn clone_project(
        &self,
        py: Python<'_>,
        project_id: String,
        category_schema: bool,
        assigned_to: bool,
        batches: bool,
        workflow: bool,
        plugin_presets: bool,
        project_general_settings: bool,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let options = core::projects::CloneProjectOptions {
                category_schema,
                assigned_to,
                batches,
                workflow,
                plugin_presets,
                project_general_settings,
            };
            let c = self.inner.clone();
            run(py, move || c.raw().clone_project(&project_id, &options))
        })
    }

    fn delete_project(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.delete_project(&project_id))
        })
    }

    fn update_workflow_stages(
        &self,
        py: Python<'_>,
        project_id: String,
        stages: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let stages = value_list(stages)?;
            let c = self.inner.clone();
            run(py, move || c.update_workflow_stages(&project_id, &stages))
        })
    }

    #[pyo3(signature = (project_id, benchmark_enabled, benchmark_ratio=None, benchmark_cutoff=None))]
    fn update_benchmark_settings(
        &self,
        py: Python<'_>,
        project_id: String,
        benchmark_enabled: bool,
        benchmark_ratio: Option<i64>,
        benchmark_cutoff: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || {
                c.update_benchmark_settings(
                    &project_id,
                    benchmark_enabled,
                    benchmark_ratio,
                    benchmark_cutoff,
                )
            })
        })
    }

    #[pyo3(signature = (project_id, custom_validation_enabled=None, validation_function=None, external_validation=None))]
    fn update_label_validation(
        &self,
        py: Python<'_>,
        project_id: String,
        custom_validation_enabled: Option<bool>,
        validation_function: Option<String>,
        external_validation: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let params = core::projects::UpdateLabelValidationParams {
                custom_validation_enabled,
                validation_function,
                external_validation: opt_value(external_validation)?,
            };
            let c = self.inner.clone();
            run(py, move || c.update_label_validation(&project_id, &params))
        })
    }

    fn get_asset_builder_templates(
        &self,
        py: Python<'_>,
        project_id: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.get_asset_builder_templates(&project_id))
        })
    }

    fn rerun_webhook(
        &self,
        py: Python<'_>,
        project_id: String,
        webhook_stage_id: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.rerun_webhook(&project_id, &webhook_stage_id))
        })
    }

    // ------------------------------------------------------------------- tasks

    fn get_task(
        &self,
        py: Python<'_>,
        task_id: String,
        include_answer: bool,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run_raw(py, c, move |c| c.get_task(&task_id, include_answer))
        })
    }

    #[pyo3(signature = (task_history_id=None, task_id=None))]
    fn get_task_history(
        &self,
        py: Python<'_>,
        task_history_id: Option<String>,
        task_id: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || {
                c.get_task_history(task_history_id.as_deref(), task_id.as_deref())
            })
        })
    }

    fn assign_task(
        &self,
        py: Python<'_>,
        project_id: String,
        task_ids: &Bound<'_, PyAny>,
        stage_filter: String,
        email: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let task_ids = strings(task_ids)?;
            let c = self.inner.clone();
            run(py, move || {
                c.assign_task(&project_id, &task_ids, &stage_filter, &email)
            })
        })
    }

    fn import_labels(
        &self,
        py: Python<'_>,
        project_id: String,
        labels: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let labels = value_list(labels)?;
            let c = self.inner.clone();
            run(py, move || c.import_labels(&project_id, &labels))
        })
    }

    fn requeue_tasks(
        &self,
        py: Python<'_>,
        project_id: String,
        to_stage_id: String,
        filters: &Bound<'_, PyAny>,
        options: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let params = core::tasks::RequeueTasksParams {
                filters: value_map(filters)?,
                options: value_map(options)?,
            };
            let c = self.inner.clone();
            run(py, move || {
                c.requeue_tasks(&project_id, &to_stage_id, &params)
            })
        })
    }

    fn update_tasks_priority(
        &self,
        py: Python<'_>,
        project_id: String,
        priority: i64,
        filters: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let filters = value_map(filters)?;
            let c = self.inner.clone();
            run(py, move || {
                c.update_tasks_priority(&project_id, priority, &filters)
            })
        })
    }

    fn set_tasks_as_benchmark(
        &self,
        py: Python<'_>,
        project_id: String,
        task_ids: &Bound<'_, PyAny>,
        is_benchmark: bool,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let task_ids = strings(task_ids)?;
            let c = self.inner.clone();
            run(py, move || {
                c.set_tasks_as_benchmark(&project_id, &task_ids, is_benchmark)
            })
        })
    }

    #[pyo3(signature = (project_id, arr, medical=false))]
    fn upload_brush_array(
        &self,
        py: Python<'_>,
        project_id: String,
        arr: &Bound<'_, PyAny>,
        medical: bool,
    ) -> PyResult<String> {
        blocking::shield(|| {
            let mask = models::brush_mask(arr, medical)?;
            let c = self.inner.clone();
            blocking::call(py, move || {
                c.upload_brush_array(&project_id, &mask, medical)
            })
        })
    }

    #[pyo3(signature = (method, endpoint, payload=None))]
    fn make_request(
        &self,
        py: Python<'_>,
        method: String,
        endpoint: String,
        payload: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let payload = payload.map(from_py).transpose()?;
            let c = self.inner.clone();
            run(py, move || {
                c.make_request(&method, &endpoint, payload.as_ref())
            })
        })
    }

    fn plugin_log(&self, py: Python<'_>, log: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let log = from_py(log)?;
            let c = self.inner.clone();
            run(py, move || c.plugin_log(&log))
        })
    }

    fn plugin_response(&self, py: Python<'_>, response: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let response = from_py(response)?;
            let c = self.inner.clone();
            run(py, move || c.plugin_response(&response))
        })
    }

    // ----------------------------------------------------------------- batches

    fn get_batches(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.raw().get_batches(&project_id))
        })
    }

    fn create_batch(
        &self,
        py: Python<'_>,
        project_id: String,
        batch_name: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.create_batch(&project_id, &batch_name))
        })
    }

    fn create_batches(
        &self,
        py: Python<'_>,
        project_id: String,
        batch_names: Vec<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.create_batches(&project_id, &batch_names))
        })
    }

    fn assign_batches(
        &self,
        py: Python<'_>,
        project_id: String,
        asset_ids: &Bound<'_, PyAny>,
        batches: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let (asset_ids, batches) = (strings(asset_ids)?, strings(batches)?);
            let c = self.inner.clone();
            run(py, move || {
                c.assign_batches(&project_id, &asset_ids, &batches)
            })
        })
    }

    // ------------------------------------------------------------------ assets

    /// `filters=None` sends `filters=null`, as the official SDK does (`json.dumps(None)`).
    #[pyo3(signature = (project_id, page, limit, filters))]
    fn get_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        page: &Bound<'_, PyAny>,
        limit: &Bound<'_, PyAny>,
        filters: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let (page, limit) = page_and_limit(page, limit)?;
            if filters.is_none() {
                let c = self.inner.clone();
                return run_raw(py, c, move |c| {
                    c.get_assets_page(&project_id, page, limit, None)
                });
            }
            let params = core::assets::GetAssetsParams {
                page,
                limit,
                filters: value_map(filters)?,
            };
            let c = self.inner.clone();
            run_raw(py, c, move |c| c.get_assets(&project_id, &params))
        })
    }

    fn delete_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        asset_ids: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let asset_ids = strings(asset_ids)?;
            let c = self.inner.clone();
            run(py, move || c.delete_assets(&project_id, &asset_ids))
        })
    }

    fn create_attachment(
        &self,
        py: Python<'_>,
        project_id: String,
        attachments: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let attachments = value_list(attachments)?;
            let c = self.inner.clone();
            run(py, move || c.create_attachment(&project_id, &attachments))
        })
    }

    // ------------------------------------------------------------------ issues

    #[pyo3(signature = (task_id, content, content_mentions=None, object_id=None, position=None, error_codes=None, pct_details=None, page=None, page_end=None, data_index=None, plane=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_issue(
        &self,
        py: Python<'_>,
        task_id: String,
        content: String,
        content_mentions: Option<&Bound<'_, PyAny>>,
        object_id: Option<String>,
        position: Option<&Bound<'_, PyAny>>,
        error_codes: Option<&Bound<'_, PyAny>>,
        pct_details: Option<&Bound<'_, PyAny>>,
        page: Option<i64>,
        page_end: Option<i64>,
        data_index: Option<i64>,
        plane: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let plane = match opt_value(plane)? {
                None => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => Some(other.to_string()),
            };
            let params = core::issues::CreateIssueParams {
                content_mentions: opt_list(content_mentions)?,
                object_id,
                position: opt_value(position)?,
                error_codes: opt_list(error_codes)?,
                pct_details: opt_value(pct_details)?,
                page,
                page_end,
                data_index,
                plane,
            };
            let c = self.inner.clone();
            run(py, move || {
                c.raw().create_issue(&task_id, &content, &params)
            })
        })
    }

    #[pyo3(signature = (project_id, asset_id=None, task_id=None, stage_id=None, created_by=None))]
    fn get_issues(
        &self,
        py: Python<'_>,
        project_id: String,
        asset_id: Option<String>,
        task_id: Option<String>,
        stage_id: Option<String>,
        created_by: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let params = core::issues::GetIssuesParams {
                asset_id,
                task_id,
                stage_id,
                created_by,
            };
            let c = self.inner.clone();
            run(py, move || c.raw().get_issues(&project_id, &params))
        })
    }

    #[pyo3(signature = (issue_id, content=None, content_mentions=None, status=None, pct_details=None, error_codes=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_issue(
        &self,
        py: Python<'_>,
        issue_id: String,
        content: Option<String>,
        content_mentions: Option<&Bound<'_, PyAny>>,
        status: Option<&Bound<'_, PyAny>>,
        pct_details: Option<&Bound<'_, PyAny>>,
        error_codes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let status = match opt_value(status)? {
                None => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => Some(other.to_string()),
            };
            let params = core::issues::UpdateIssueParams {
                content,
                content_mentions: opt_list(content_mentions)?,
                status,
                pct_details: opt_value(pct_details)?,
                error_codes: opt_list(error_codes)?,
            };
            let c = self.inner.clone();
            run(py, move || c.raw().update_issue(&issue_id, &params))
        })
    }

    #[pyo3(signature = (issue_id, content, content_mentions=None))]
    fn add_comment_to_issue(
        &self,
        py: Python<'_>,
        issue_id: String,
        content: String,
        content_mentions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let mentions = opt_list(content_mentions)?;
            let c = self.inner.clone();
            run(py, move || {
                c.add_comment_to_issue(&issue_id, &content, mentions.as_deref())
            })
        })
    }

    fn delete_issue(
        &self,
        py: Python<'_>,
        project_id: String,
        issue_id: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.delete_issue(&project_id, &issue_id))
        })
    }

    // ---------------------------------------------------------------- storages

    #[pyo3(signature = (storage_id=None))]
    fn get_storages(&self, py: Python<'_>, storage_id: Option<String>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.raw().get_storages(storage_id.as_deref()))
        })
    }

    fn delete_storage(&self, py: Python<'_>, storage_id: String) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.delete_storage(&storage_id))
        })
    }

    #[pyo3(signature = (storage_id, bucket_name, path, get_signed_urls, retry_on_slow_down))]
    fn list_storage_files(
        &self,
        py: Python<'_>,
        storage_id: String,
        bucket_name: String,
        path: String,
        get_signed_urls: bool,
        retry_on_slow_down: bool,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let params = core::storage::ListStorageFilesParams {
                path,
                get_signed_urls,
                retry_on_slow_down,
            };
            let c = self.inner.clone();
            run(py, move || {
                c.list_storage_files(&storage_id, &bucket_name, &params)
            })
        })
    }

    fn file_explorer(
        &self,
        py: Python<'_>,
        bucket: String,
        storage_id: String,
        options: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let options = value_map(options)?;
            let c = self.inner.clone();
            run(py, move || c.file_explorer(&bucket, &storage_id, &options))
        })
    }

    // ------------------------------------------------------------ organization

    fn get_organization_members(
        &self,
        py: Python<'_>,
        organization_id: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || {
                c.raw().get_organization_members(&organization_id)
            })
        })
    }

    fn delete_organization_members(
        &self,
        py: Python<'_>,
        organization_id: String,
        member_emails: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let emails = strings(member_emails)?;
            let c = self.inner.clone();
            run(py, move || {
                c.delete_organization_members(&organization_id, &emails)
            })
        })
    }

    fn get_organization_invites(
        &self,
        py: Python<'_>,
        organization_id: String,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || {
                c.raw().get_organization_invites(&organization_id)
            })
        })
    }

    fn delete_organization_invites(
        &self,
        py: Python<'_>,
        organization_id: String,
        invite_emails: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let emails = strings(invite_emails)?;
            let c = self.inner.clone();
            run(py, move || {
                c.delete_organization_invites(&organization_id, &emails)
            })
        })
    }

    // ------------------------------------------------------------ now-bound calls

    #[pyo3(signature = (name, description=None, project_type=None))]
    fn create_project(
        &self,
        py: Python<'_>,
        name: String,
        description: Option<String>,
        project_type: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let kind = opt_enum::<core::models::ProjectType>(project_type)?;
            let c = self.inner.clone();
            run(py, move || {
                c.raw().create_project(&name, description.as_deref(), kind)
            })
        })
    }

    fn add_members_to_project(
        &self,
        py: Python<'_>,
        project_id: String,
        members: &Bound<'_, PyAny>,
        role: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let members = strings(members)?;
            let role: core::models::ProjectRole = models::wire(role)?;
            let c = self.inner.clone();
            run(py, move || {
                c.add_members_to_project(&project_id, &members, role)
            })
        })
    }

    #[pyo3(signature = (project_id, tools=None, classifications=None, relations=None, raw_category_schema=None))]
    fn create_label_set(
        &self,
        py: Python<'_>,
        project_id: String,
        tools: Option<&Bound<'_, PyAny>>,
        classifications: Option<&Bound<'_, PyAny>>,
        relations: Option<&Bound<'_, PyAny>>,
        raw_category_schema: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let schema = models::category_schema(py, tools, classifications, relations)?;
            let raw = opt_value(raw_category_schema)?;
            let c = self.inner.clone();
            run(py, move || {
                c.create_label_set(&project_id, &schema, raw.as_ref())
            })
        })
    }

    fn get_metrics(
        &self,
        py: Python<'_>,
        project_id: String,
        metric: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let metric: core::models::Metrics = models::wire(metric)?;
            let c = self.inner.clone();
            run(py, move || c.get_metrics(&project_id, metric))
        })
    }

    #[pyo3(signature = (project_id, interval=None, batches=None))]
    fn get_project_performance(
        &self,
        py: Python<'_>,
        project_id: String,
        interval: Option<&Bound<'_, PyAny>>,
        batches: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let interval = match interval.filter(|i| !i.is_none()) {
                None => None,
                Some(window) => {
                    let ends: Vec<Bound<'_, PyAny>> =
                        window.try_iter()?.collect::<PyResult<_>>()?;
                    match ends.as_slice() {
                        [] => None,
                        [start, end] => Some((models::timestamp(start)?, models::timestamp(end)?)),
                        _ => {
                            return Err(PyValueError::new_err(
                                "interval must be [start_datetime, end_datetime]",
                            ));
                        }
                    }
                }
            };
            let batches = match batches.filter(|b| !b.is_none()) {
                Some(b) => Some(models::strings_of(b)?),
                None => None,
            };
            let c = self.inner.clone();
            run(py, move || {
                c.get_project_performance(&project_id, interval, batches.as_deref())
            })
        })
    }

    fn create_asset_builder_template(
        &self,
        py: Python<'_>,
        project_id: String,
        template: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let template = models::asset_builder_template(template)?;
            let c = self.inner.clone();
            run(py, move || {
                c.create_asset_builder_template(&project_id, &template)
            })
        })
    }

    #[pyo3(signature = (project_id, page=None, limit=None, status=None, stage=None, batches=None, include_answer=false, task_filter=None, sort=None, fields=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_tasks(
        &self,
        py: Python<'_>,
        project_id: String,
        page: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
        status: Option<&Bound<'_, PyAny>>,
        stage: Option<String>,
        batches: Option<&Bound<'_, PyAny>>,
        include_answer: bool,
        task_filter: Option<&Bound<'_, PyAny>>,
        sort: Option<String>,
        fields: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let page = page.map_or(Ok(1), |p| count_arg("page", p))?;
            let limit = limit.map_or(Ok(10), |l| count_arg("limit", l))?;
            let params = tasks_params(
                page,
                limit,
                status,
                stage,
                batches,
                include_answer,
                task_filter,
                sort,
                fields,
            )?;
            let c = self.inner.clone();
            run_raw(py, c, move |c| c.get_tasks(&project_id, &params))
        })
    }

    #[pyo3(signature = (task_id, payload, overwrite=false, send_to_next_stage=false, is_plugin=false))]
    fn annotate_task(
        &self,
        py: Python<'_>,
        task_id: String,
        payload: &Bound<'_, PyAny>,
        overwrite: bool,
        send_to_next_stage: bool,
        is_plugin: bool,
    ) -> PyResult<bool> {
        blocking::shield(|| {
            let payload = models::annotation_payload(payload)?;
            let options = core::AnnotateOptions {
                overwrite,
                send_to_next_stage,
                is_plugin,
            };
            let c = self.inner.clone();
            blocking::call(py, move || c.annotate_task(&task_id, &payload, options))
        })
    }

    #[pyo3(signature = (task_id, review_status, pct_details=None))]
    fn review_task(
        &self,
        py: Python<'_>,
        task_id: String,
        review_status: &Bound<'_, PyAny>,
        pct_details: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let status: core::models::ReviewStatus = models::wire(review_status)?;
            let pct = opt_value(pct_details)?;
            let c = self.inner.clone();
            run(py, move || c.review_task(&task_id, status, pct.as_ref()))
        })
    }

    fn invite_members_to_org(
        &self,
        py: Python<'_>,
        organization_id: String,
        invitation: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let invitation = models::invitation(invitation)?;
            let c = self.inner.clone();
            run(py, move || {
                c.invite_members_to_org(&organization_id, &invitation)
            })
        })
    }

    fn update_organization_members_role(
        &self,
        py: Python<'_>,
        organization_id: String,
        role_updates: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let updates = role_updates
                .try_iter()?
                .map(|u| models::role_update(&u?))
                .collect::<PyResult<Vec<_>>>()?;
            let c = self.inner.clone();
            run(py, move || {
                c.update_organization_members_role(&organization_id, &updates)
            })
        })
    }

    #[pyo3(signature = (receivers, message, title=None, clickable_link=None))]
    fn send_notification(
        &self,
        py: Python<'_>,
        receivers: &Bound<'_, PyAny>,
        message: String,
        title: Option<String>,
        clickable_link: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let receivers = strings(receivers)?;
            let c = self.inner.clone();
            run(py, move || {
                c.send_notification(
                    &receivers,
                    &message,
                    title.as_deref(),
                    clickable_link.as_deref(),
                )
            })
        })
    }

    fn create_storage(&self, py: Python<'_>, storage: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let storage = models::storage(storage)?;
            let c = self.inner.clone();
            run(py, move || c.raw().create_storage(&storage))
        })
    }

    fn create_llm(&self, py: Python<'_>, llm: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let llm = models::llm(llm)?;
            let c = self.inner.clone();
            run(py, move || c.raw().create_llm(&llm))
        })
    }

    fn delete_llm(&self, py: Python<'_>, llm_id: String) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.delete_llm(&llm_id))
        })
    }

    #[pyo3(signature = (llm_id=None))]
    fn get_llms(&self, py: Python<'_>, llm_id: Option<String>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || c.raw().get_llms(llm_id.as_deref()))
        })
    }

    // ------------------------------------------------------------------ export

    /// The official `exportV3` result: the parsed JSON; for NDJSON a `(rows, count)`
    /// tuple whose rows stream from the downloaded file; `None` when saved to `path`.
    #[pyo3(signature = (project_id, options, path=None))]
    fn export(
        &self,
        py: Python<'_>,
        project_id: String,
        options: &Bound<'_, PyAny>,
        path: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let options = models::export_options(options)?;
            let c = self.inner.clone();
            if let Some(path) = path {
                blocking::call(py, move || c.export_to_file(&project_id, &options, &path))?;
                return Ok(py.None());
            }
            if options.export_format == core::models::ExportFormat::Ndjson {
                let (rows, count) = blocking::call(py, move || {
                    let archive = c.export_archive(&project_id, &options)?;
                    let count = archive.count_lines()?;
                    Ok::<_, core::Error>((archive.rows(options.export_format)?, count))
                })?;
                let rows = Py::new(py, iter::Rows::from_export(rows))?;
                return Ok((rows, count).into_pyobject(py)?.into_any().unbind());
            }
            let bytes = blocking::call(py, move || c.export_bytes(&project_id, &options))?;
            decode_document(py, &bytes, |e| core::Error::Decode {
                message: format!("the export is not valid JSON: {e}"),
                body_snippet: String::new(),
            })
        })
    }

    /// The export's rows, one at a time, read from the downloaded file as you iterate.
    fn export_iter(
        &self,
        py: Python<'_>,
        project_id: String,
        options: &Bound<'_, PyAny>,
    ) -> PyResult<iter::Rows> {
        blocking::shield(|| {
            let options = models::export_options(options)?;
            let c = self.inner.clone();
            let rows = blocking::call(py, move || c.raw().export_rows(&project_id, &options))?;
            Ok(iter::Rows::from_export(rows))
        })
    }

    // ----------------------------------------------------------------- uploads

    #[pyo3(signature = (file_name, project, file_type, storage_id=None))]
    fn get_upload_url(
        &self,
        py: Python<'_>,
        file_name: String,
        project: String,
        file_type: &Bound<'_, PyAny>,
        storage_id: Option<String>,
    ) -> PyResult<String> {
        blocking::shield(|| {
            let kind: core::models::StorageFileType = models::wire(file_type)?;
            let c = self.inner.clone();
            blocking::call(py, move || {
                c.get_upload_url(&file_name, &project, kind, storage_id.as_deref())
            })
        })
    }

    #[pyo3(signature = (asset_url, project, file_type, storage_id=None))]
    fn get_signed_url(
        &self,
        py: Python<'_>,
        asset_url: String,
        project: String,
        file_type: &Bound<'_, PyAny>,
        storage_id: Option<String>,
    ) -> PyResult<String> {
        blocking::shield(|| {
            let kind: core::models::StorageFileType = models::wire(file_type)?;
            let c = self.inner.clone();
            blocking::call(py, move || {
                c.get_signed_url(&asset_url, &project, kind, storage_id.as_deref())
            })
        })
    }

    #[pyo3(signature = (project_id, assets, storage_id=None, batches=None, priority=0, upload_local=None))]
    #[allow(clippy::too_many_arguments)]
    fn upload_files_cloud(
        &self,
        py: Python<'_>,
        project_id: String,
        assets: &Bound<'_, PyAny>,
        storage_id: Option<String>,
        batches: Option<&Bound<'_, PyAny>>,
        priority: i64,
        upload_local: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let assets = value_list(assets)?;
            let batches = match batches.filter(|b| !b.is_none()) {
                Some(b) => Some(models::strings_of(b)?),
                None => None,
            };
            let c = self.inner.clone();
            run(py, move || {
                c.upload_files_cloud(
                    &project_id,
                    assets,
                    storage_id.as_deref().filter(|s| !s.is_empty()),
                    batches.as_deref(),
                    priority,
                    upload_local.as_deref(),
                )
            })
        })
    }

    /// Uploads local files; returns `{"response", "registration_error", "files"}` with
    /// one `{"path", "external_id", "ok", "url" | "error"}` per file, in input order.
    #[pyo3(signature = (project_id, files, storage_id=None, batches=None, priority=0, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn upload_files(
        &self,
        py: Python<'_>,
        project_id: String,
        files: &Bound<'_, PyAny>,
        storage_id: Option<String>,
        batches: Option<&Bound<'_, PyAny>>,
        priority: i64,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let files = files
                .try_iter()?
                .map(|f| upload_file(&f?))
                .collect::<PyResult<Vec<_>>>()?;
            let options = core::upload::UploadOptions {
                storage_id,
                batches: match batches.filter(|b| !b.is_none()) {
                    Some(b) => Some(models::strings_of(b)?),
                    None => None,
                },
                priority,
                progress: progress_reporter(progress)?,
                concurrency: None,
            };
            let c = self.inner.clone();
            let report = blocking::call(py, move || c.upload_files(&project_id, &files, &options))?;
            upload_report(py, report)
        })
    }

    #[pyo3(signature = (project_id, template_id, input_file_path, parse_config=None, priority=0))]
    fn upload_files_with_asset_builder(
        &self,
        py: Python<'_>,
        project_id: String,
        template_id: String,
        input_file_path: String,
        parse_config: Option<&Bound<'_, PyAny>>,
        priority: i64,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let parse_config = match parse_config {
                Some(obj) => core::models::asset_builder::ParseConfig::from_value(&from_py(obj)?),
                None => Ok(core::models::asset_builder::ParseConfig::default()),
            }
            .map_err(|e| crate::errors::to_pyerr(py, e))?;
            let c = self.inner.clone();
            run(py, move || {
                c.upload_files_with_asset_builder(
                    &project_id,
                    &template_id,
                    &input_file_path,
                    &parse_config,
                    priority,
                )
            })
        })
    }

    #[pyo3(signature = (project_id, file_path, storage_id=None, bucket=None))]
    fn upload_instructions(
        &self,
        py: Python<'_>,
        project_id: String,
        file_path: String,
        storage_id: Option<String>,
        bucket: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let c = self.inner.clone();
            run(py, move || {
                c.upload_instructions(
                    &project_id,
                    &file_path,
                    storage_id.as_deref(),
                    bucket.as_deref(),
                )
            })
        })
    }

    #[pyo3(signature = (project_id, config, priority=0))]
    fn upload_chat_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        config: &Bound<'_, PyAny>,
        priority: i64,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let config = models::chat_config(config)?;
            let c = self.inner.clone();
            run(py, move || {
                c.upload_chat_assets(&project_id, &config, priority)
            })
        })
    }

    // -------------------------------------------------------------- pagination

    #[pyo3(signature = (project_id, page_size=None, status=None, stage=None, batches=None, include_answer=false, task_filter=None, sort=None, fields=None))]
    #[allow(clippy::too_many_arguments)]
    fn iter_tasks(
        &self,
        py: Python<'_>,
        project_id: String,
        page_size: Option<u64>,
        status: Option<&Bound<'_, PyAny>>,
        stage: Option<String>,
        batches: Option<&Bound<'_, PyAny>>,
        include_answer: bool,
        task_filter: Option<&Bound<'_, PyAny>>,
        sort: Option<String>,
        fields: Option<String>,
    ) -> PyResult<iter::Rows> {
        blocking::shield(|| {
            let params = tasks_params(
                1,
                10,
                status,
                stage,
                batches,
                include_answer,
                task_filter,
                sort,
                fields,
            )?;
            let pages = blocking::guard(py, || {
                self.inner.raw().iter_tasks(&project_id, &params, page_size)
            })?;
            Ok(iter::Rows::from_pages(pages.with_raw_items()))
        })
    }

    #[pyo3(signature = (project_id, page_size=None, filters=None))]
    fn iter_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        page_size: Option<u64>,
        filters: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<iter::Rows> {
        blocking::shield(|| {
            let filters = match filters {
                Some(f) => value_map(f)?,
                None => serde_json::Map::new(),
            };
            let pages = blocking::guard(py, || {
                self.inner
                    .raw()
                    .iter_assets(&project_id, &filters, page_size)
            })?;
            Ok(iter::Rows::from_pages(pages.with_raw_items()))
        })
    }

    #[pyo3(signature = (page_size=None))]
    fn iter_projects(&self, py: Python<'_>, page_size: Option<u64>) -> PyResult<iter::Rows> {
        blocking::shield(|| {
            let pages = blocking::guard(py, || self.inner.raw().iter_projects(page_size))?;
            Ok(iter::Rows::from_pages(pages.with_raw_items()))
        })
    }
}

/// A `page` or `limit` argument as the core takes it: a non-negative integer. Anything
/// else that is an `int` (negative, or too large) is refused with
/// `AngoInvalidArgumentError` (a `ValueError`) before any request, instead of
/// pyo3's `OverflowError`; a non-integer keeps its `TypeError`.
fn count_arg(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(n) = obj.extract::<u64>() {
        return Ok(n);
    }
    if !obj.is_instance_of::<pyo3::types::PyInt>() {
        return obj.extract::<u64>(); // the TypeError of a non-integer
    }
    let error = match obj.extract::<i64>() {
        // A negative int: the core's rule and message.
        Ok(value) => core::page_param(name, value).err(),
        Err(_) => None,
    }
    .unwrap_or_else(|| {
        core::Error::InvalidArgument(format!("{name} does not fit in 64 bits, got {obj}"))
    });
    Err(crate::errors::to_pyerr(obj.py(), error))
}

fn page_and_limit(page: &Bound<'_, PyAny>, limit: &Bound<'_, PyAny>) -> PyResult<(u64, u64)> {
    Ok((count_arg("page", page)?, count_arg("limit", limit)?))
}

fn opt_list(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Value>>> {
    match obj {
        Some(o) if !o.is_none() => value_list(o).map(Some),
        _ => Ok(None),
    }
}

fn opt_enum<T: std::str::FromStr<Err = core::Error>>(
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<T>> {
    match obj {
        Some(o) if !o.is_none() => models::wire(o).map(Some),
        _ => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
fn tasks_params(
    page: u64,
    limit: u64,
    status: Option<&Bound<'_, PyAny>>,
    stage: Option<String>,
    batches: Option<&Bound<'_, PyAny>>,
    include_answer: bool,
    task_filter: Option<&Bound<'_, PyAny>>,
    sort: Option<String>,
    fields: Option<String>,
) -> PyResult<core::GetTasksParams> {
    let status = match status.filter(|s| !s.is_none()) {
        Some(s) => Some(models::enum_value(s)?.str()?.to_cow()?.into_owned()),
        None => None,
    };
    let batches = match batches.filter(|b| !b.is_none()) {
        Some(b) => Some(models::strings_of(b)?),
        None => None,
    };
    let task_filter = match task_filter.filter(|f| !f.is_none()) {
        Some(f) => Some(models::task_filter(f)?),
        None => None,
    };
    Ok(core::GetTasksParams {
        page,
        limit,
        status,
        stage,
        batches,
        include_answer,
        task_filter,
        sort,
        fields,
    })
}

/// A path, or a dict `{"data", "externalId"?, "contextData"?, "metadata"?}`.
fn upload_file(obj: &Bound<'_, PyAny>) -> PyResult<core::upload::UploadFile> {
    let fspath = |o: &Bound<'_, PyAny>| -> PyResult<String> {
        o.py().import("os")?.call_method1("fspath", (o,))?.extract()
    };
    let Ok(dict) = obj.cast::<pyo3::types::PyDict>() else {
        return Ok(core::upload::UploadFile::new(fspath(obj)?));
    };
    let data = dict
        .get_item("data")?
        .ok_or_else(|| PyValueError::new_err("a file dict needs a 'data' path"))?;
    let mut file = core::upload::UploadFile::new(fspath(&data)?);
    file.external_id = dict
        .get_item("externalId")?
        .filter(|v| !v.is_none())
        .map(|v| v.extract())
        .transpose()?;
    file.context_data = opt_value(dict.get_item("contextData")?.as_ref())?;
    file.metadata = opt_value(dict.get_item("metadata")?.as_ref())?;
    Ok(file)
}

/// `True`/`False` for the core's bar or none, a callable `(done, total)` for callbacks,
/// `None` for the client's setting.
fn progress_reporter(
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<std::sync::Arc<dyn core::progress::Progress>>> {
    let Some(progress) = progress.filter(|p| !p.is_none()) else {
        return Ok(None);
    };
    if progress.is_callable() {
        let callback: Py<PyAny> = progress.clone().unbind();
        let reporter = core::progress::FnProgress::new(move |done, total| {
            Python::attach(|py| {
                if let Err(error) = callback.call1(py, (done, total)) {
                    // A failing callback must not abort the upload; Python reports it.
                    error.write_unraisable(py, Some(callback.bind(py)));
                }
            });
        });
        return Ok(Some(std::sync::Arc::new(reporter)));
    }
    let mode = if progress.is_truthy()? {
        core::ProgressMode::On
    } else {
        core::ProgressMode::Off
    };
    Ok(Some(core::progress::for_mode(mode)))
}

fn upload_report(py: Python<'_>, report: core::upload::UploadReport) -> PyResult<Py<PyAny>> {
    use pyo3::types::{PyDict, PyList};
    let out = PyDict::new(py);
    match &report.response {
        Some(response) => out.set_item("response", to_py(py, response)?)?,
        None => out.set_item("response", py.None())?,
    }
    out.set_item(
        "registration_error",
        report.registration_error.as_ref().map(|e| e.to_string()),
    )?;
    let files = PyList::empty(py);
    for outcome in &report.files {
        let item = PyDict::new(py);
        item.set_item("path", outcome.path.to_string_lossy())?;
        item.set_item("external_id", &outcome.external_id)?;
        match &outcome.status {
            core::upload::FileStatus::Uploaded { url } => {
                item.set_item("ok", true)?;
                item.set_item("url", url)?;
                item.set_item("error", py.None())?;
            }
            core::upload::FileStatus::Failed { error } => {
                item.set_item("ok", false)?;
                item.set_item("url", py.None())?;
                item.set_item("error", error)?;
            }
            core::upload::FileStatus::Unknown { url, error } => {
                item.set_item("ok", false)?;
                item.set_item("url", url)?;
                item.set_item("error", error)?;
            }
        }
        item.set_item("registration", outcome.status.registration())?;
        files.append(item)?;
    }
    out.set_item("files", files)?;
    if let Some(error) = report.registration_error {
        out.set_item("_error", crate::errors::to_pyerr(py, error).into_value(py))?;
    }
    Ok(out.into_any().unbind())
}
