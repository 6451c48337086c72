//! `Client`: the core client, one method per core method. Arguments are converted,
//! the call runs without the GIL, and the JSON result comes back as Python objects.

use std::time::Duration;

use ango_core as core;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{from_py, opt_value, to_py, value_list, value_map};
use crate::errors::IntoPyResult;

/// A blocking Ango Hub client (the core's `ango_core::Client`).
#[pyclass(module = "imerit_ango._native", name = "Client", frozen)]
pub struct Client {
    pub(crate) inner: core::Client,
}

/// Runs a core call without the GIL and converts its JSON result.
pub(crate) fn run<F>(py: Python<'_>, call: F) -> PyResult<Py<PyAny>>
where
    F: FnOnce() -> core::Result<Value> + Send,
{
    let value = py.detach(call).py_err(py)?;
    Ok(to_py(py, &value)?.unbind())
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
        let mut builder = core::Client::builder(api_key).host(host);
        if let Some(seconds) = timeout {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(PyValueError::new_err(format!(
                    "timeout must be a non-negative number of seconds, got {seconds}"
                )));
            }
            // 0 means "no limit", as ANGO_TIMEOUT=0 does in the core.
            builder =
                builder.request_timeout((seconds > 0.0).then(|| Duration::from_secs_f64(seconds)));
        }
        if let Some(retries) = max_retries {
            builder = builder.max_retries(retries);
        }
        if let Some(n) = concurrency {
            builder = builder.concurrency(n);
        }
        if let Some(on) = progress {
            builder = builder.progress(if on {
                core::ProgressMode::On
            } else {
                core::ProgressMode::Off
            });
        }
        let inner = builder.build().py_err(py)?;
        Ok(Client { inner })
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

    fn list_projects(&self, py: Python<'_>, page: u64, limit: u64) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.list_projects(page, limit))
    }

    fn get_project(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_project(&project_id))
    }

    fn purge_project(
        &self,
        py: Python<'_>,
        project_id: String,
        confirm_name: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.purge_project(&project_id, &confirm_name))
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
        let options = core::projects::CloneProjectOptions {
            category_schema,
            assigned_to,
            batches,
            workflow,
            plugin_presets,
            project_general_settings,
        };
        let c = &self.inner;
        run(py, || c.clone_project(&project_id, &options))
    }

    fn delete_project(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.delete_project(&project_id))
    }

    fn update_workflow_stages(
        &self,
        py: Python<'_>,
        project_id: String,
        stages: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let stages = value_list(stages)?;
        let c = &self.inner;
        run(py, || c.update_workflow_stages(&project_id, &stages))
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
        let c = &self.inner;
        run(py, || {
            c.update_benchmark_settings(
                &project_id,
                benchmark_enabled,
                benchmark_ratio,
                benchmark_cutoff,
            )
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
        let params = core::projects::UpdateLabelValidationParams {
            custom_validation_enabled,
            validation_function,
            external_validation: opt_value(external_validation)?,
        };
        let c = &self.inner;
        run(py, || c.update_label_validation(&project_id, &params))
    }

    fn get_asset_builder_templates(
        &self,
        py: Python<'_>,
        project_id: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_asset_builder_templates(&project_id))
    }

    fn rerun_webhook(
        &self,
        py: Python<'_>,
        project_id: String,
        webhook_stage_id: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.rerun_webhook(&project_id, &webhook_stage_id))
    }

    // ------------------------------------------------------------------- tasks

    fn get_task(
        &self,
        py: Python<'_>,
        task_id: String,
        include_answer: bool,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_task(&task_id, include_answer))
    }

    #[pyo3(signature = (task_history_id=None, task_id=None))]
    fn get_task_history(
        &self,
        py: Python<'_>,
        task_history_id: Option<String>,
        task_id: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || {
            c.get_task_history(task_history_id.as_deref(), task_id.as_deref())
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
        let task_ids = strings(task_ids)?;
        let c = &self.inner;
        run(py, || {
            c.assign_task(&project_id, &task_ids, &stage_filter, &email)
        })
    }

    fn import_labels(
        &self,
        py: Python<'_>,
        project_id: String,
        labels: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let labels = value_list(labels)?;
        let c = &self.inner;
        run(py, || c.import_labels(&project_id, &labels))
    }

    fn requeue_tasks(
        &self,
        py: Python<'_>,
        project_id: String,
        to_stage_id: String,
        filters: &Bound<'_, PyAny>,
        options: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let params = core::tasks::RequeueTasksParams {
            filters: value_map(filters)?,
            options: value_map(options)?,
        };
        let c = &self.inner;
        run(py, || c.requeue_tasks(&project_id, &to_stage_id, &params))
    }

    fn update_tasks_priority(
        &self,
        py: Python<'_>,
        project_id: String,
        priority: i64,
        filters: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let filters = value_map(filters)?;
        let c = &self.inner;
        run(py, || {
            c.update_tasks_priority(&project_id, priority, &filters)
        })
    }

    fn set_tasks_as_benchmark(
        &self,
        py: Python<'_>,
        project_id: String,
        task_ids: &Bound<'_, PyAny>,
        is_benchmark: bool,
    ) -> PyResult<Py<PyAny>> {
        let task_ids = strings(task_ids)?;
        let c = &self.inner;
        run(py, || {
            c.set_tasks_as_benchmark(&project_id, &task_ids, is_benchmark)
        })
    }

    fn plugin_log(&self, py: Python<'_>, log: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let log = from_py(log)?;
        let c = &self.inner;
        run(py, || c.plugin_log(&log))
    }

    fn plugin_response(&self, py: Python<'_>, response: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let response = from_py(response)?;
        let c = &self.inner;
        run(py, || c.plugin_response(&response))
    }

    // ----------------------------------------------------------------- batches

    fn get_batches(&self, py: Python<'_>, project_id: String) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_batches(&project_id))
    }

    fn create_batch(
        &self,
        py: Python<'_>,
        project_id: String,
        batch_name: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.create_batch(&project_id, &batch_name))
    }

    fn create_batches(
        &self,
        py: Python<'_>,
        project_id: String,
        batch_names: Vec<String>,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.create_batches(&project_id, &batch_names))
    }

    fn assign_batches(
        &self,
        py: Python<'_>,
        project_id: String,
        asset_ids: &Bound<'_, PyAny>,
        batches: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (asset_ids, batches) = (strings(asset_ids)?, strings(batches)?);
        let c = &self.inner;
        run(py, || c.assign_batches(&project_id, &asset_ids, &batches))
    }

    // ------------------------------------------------------------------ assets

    #[pyo3(signature = (project_id, page, limit, filters))]
    fn get_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        page: u64,
        limit: u64,
        filters: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let params = core::assets::GetAssetsParams {
            page,
            limit,
            filters: value_map(filters)?,
        };
        let c = &self.inner;
        run(py, || c.get_assets(&project_id, &params))
    }

    fn delete_assets(
        &self,
        py: Python<'_>,
        project_id: String,
        asset_ids: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let asset_ids = strings(asset_ids)?;
        let c = &self.inner;
        run(py, || c.delete_assets(&project_id, &asset_ids))
    }

    fn create_attachment(
        &self,
        py: Python<'_>,
        project_id: String,
        attachments: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let attachments = value_list(attachments)?;
        let c = &self.inner;
        run(py, || c.create_attachment(&project_id, &attachments))
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
        let c = &self.inner;
        run(py, || c.create_issue(&task_id, &content, &params))
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
        let params = core::issues::GetIssuesParams {
            asset_id,
            task_id,
            stage_id,
            created_by,
        };
        let c = &self.inner;
        run(py, || c.get_issues(&project_id, &params))
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
        let c = &self.inner;
        run(py, || c.update_issue(&issue_id, &params))
    }

    #[pyo3(signature = (issue_id, content, content_mentions=None))]
    fn add_comment_to_issue(
        &self,
        py: Python<'_>,
        issue_id: String,
        content: String,
        content_mentions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mentions = opt_list(content_mentions)?;
        let c = &self.inner;
        run(py, || {
            c.add_comment_to_issue(&issue_id, &content, mentions.as_deref())
        })
    }

    fn delete_issue(
        &self,
        py: Python<'_>,
        project_id: String,
        issue_id: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.delete_issue(&project_id, &issue_id))
    }

    // ---------------------------------------------------------------- storages

    #[pyo3(signature = (storage_id=None))]
    fn get_storages(&self, py: Python<'_>, storage_id: Option<String>) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_storages(storage_id.as_deref()))
    }

    fn delete_storage(&self, py: Python<'_>, storage_id: String) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.delete_storage(&storage_id))
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
        let params = core::storage::ListStorageFilesParams {
            path,
            get_signed_urls,
            retry_on_slow_down,
        };
        let c = &self.inner;
        run(py, || {
            c.list_storage_files(&storage_id, &bucket_name, &params)
        })
    }

    fn file_explorer(
        &self,
        py: Python<'_>,
        bucket: String,
        storage_id: String,
        options: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let options = value_map(options)?;
        let c = &self.inner;
        run(py, || c.file_explorer(&bucket, &storage_id, &options))
    }

    // ------------------------------------------------------------ organization

    fn get_organization_members(
        &self,
        py: Python<'_>,
        organization_id: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_organization_members(&organization_id))
    }

    fn delete_organization_members(
        &self,
        py: Python<'_>,
        organization_id: String,
        member_emails: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let emails = strings(member_emails)?;
        let c = &self.inner;
        run(py, || {
            c.delete_organization_members(&organization_id, &emails)
        })
    }

    fn get_organization_invites(
        &self,
        py: Python<'_>,
        organization_id: String,
    ) -> PyResult<Py<PyAny>> {
        let c = &self.inner;
        run(py, || c.get_organization_invites(&organization_id))
    }

    fn delete_organization_invites(
        &self,
        py: Python<'_>,
        organization_id: String,
        invite_emails: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let emails = strings(invite_emails)?;
        let c = &self.inner;
        run(py, || {
            c.delete_organization_invites(&organization_id, &emails)
        })
    }
}

fn opt_list(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Value>>> {
    match obj {
        Some(o) if !o.is_none() => value_list(o).map(Some),
        _ => Ok(None),
    }
}
