//! `AngoClient`: every method of `ango_core::Client`, camelCased, each returning a
//! Promise computed on the libuv thread pool.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{IntoNapi, guard, invalid};
use crate::models::{self, export_options, object, parse};
use crate::stream::RowStream;
use crate::task::{Call, call, call_with};

/// How to reach Ango Hub. Missing `apiKey`/`host` are read from `ANGO_API_KEY` /
/// `ANGO_HOST`; other settings default to the core's (and its `ANGO_*` variables).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ClientOptions {
    /// The API key.
    pub api_key: Option<String>,
    /// The API host, such as `https://imeritapi.ango.ai`.
    pub host: Option<String>,
    /// Time allowed for one request, in milliseconds (0: no limit).
    pub timeout_ms: Option<f64>,
    /// Time allowed to connect, in milliseconds (0: no limit).
    pub connect_timeout_ms: Option<f64>,
    /// Retries after a failed attempt (0: none).
    pub max_retries: Option<f64>,
    /// Parallel transfers for bulk work (uploads, page prefetch).
    pub concurrency: Option<f64>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// Draw progress bars on stderr for bulk work (default false).
    pub progress: Option<bool>,
}

fn millis(value: f64) -> Result<Option<Duration>> {
    // The core refuses negative and non-finite values; `guard` turns any panic on an
    // absurd one (such as 1e25) into an `INTERNAL` error instead of aborting Node.
    guard(|| ango_core::SettingsOverrides::timeout_from_secs(value / 1000.0).napi())
}

/// `maxRetries` and `concurrency`: whole numbers that fit a `u32`.
fn small_count(name: &str, value: Option<f64>) -> Result<Option<u32>> {
    Ok(models::whole(name, value, u64::from(u32::MAX))?.map(|n| n as u32))
}

/// A JS `(done, total) => void` called from the upload workers through the event loop.
type ProgressCallback =
    ThreadsafeFunction<FnArgs<(f64, f64)>, Unknown<'static>, FnArgs<(f64, f64)>, Status, false>;

/// An Ango Hub client. Every method returns a Promise and runs on the libuv thread
/// pool; results are the server's JSON answers as plain objects.
#[napi]
pub struct AngoClient {
    pub(crate) inner: ango_core::Client,
}

/// Options of `getAssets` (defaults: page 1, limit 10, no filter) and `iterAssets`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct GetAssetsOptions {
    /// The page, from 1.
    pub page: Option<f64>,
    /// Assets per page.
    pub limit: Option<f64>,
    /// Server-side filters, such as `{ externalId: 'a.jpg' }`.
    #[napi(ts_type = "Record<string, any>")]
    pub filters: Option<Value>,
    /// `iterAssets` only: assets per request (default 100, at most 1000).
    pub page_size: Option<f64>,
}

/// What `cloneProject` copies; everything by default.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CloneProjectOptions {
    /// The label set.
    pub category_schema: Option<bool>,
    /// The members.
    pub assigned_to: Option<bool>,
    /// The batches.
    pub batches: Option<bool>,
    /// The workflow.
    pub workflow: Option<bool>,
    /// The plugin presets.
    pub plugin_presets: Option<bool>,
    /// The general settings.
    pub project_general_settings: Option<bool>,
}

/// Changes of `updateLabelValidation`; absent fields stay as they are.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct LabelValidationOptions {
    /// Custom validation on or off.
    pub custom_validation_enabled: Option<bool>,
    /// The validation function's source.
    pub validation_function: Option<String>,
    /// External validation settings.
    pub external_validation: Option<Value>,
}

/// How `annotateTask` applies an answer; all off by default.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct AnnotateOptions {
    /// Replace the stored answer instead of merging into it.
    pub overwrite: Option<bool>,
    /// Submit the task to its next stage.
    pub send_to_next_stage: Option<bool>,
    /// Mark the call as made by a plugin.
    pub is_plugin: Option<bool>,
}

/// Optional parts of `createIssue`: an issue sits on an object or at a location.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CreateIssueOptions {
    /// Mentions in the content.
    pub content_mentions: Option<Vec<Value>>,
    /// The object the issue is about.
    pub object_id: Option<String>,
    /// Where on the asset.
    pub position: Option<Value>,
    /// Error codes.
    pub error_codes: Option<Vec<Value>>,
    /// Point-cloud details.
    pub pct_details: Option<Value>,
    /// PDF page.
    pub page: Option<i64>,
    /// Last PDF page of a range.
    pub page_end: Option<i64>,
    /// Index in a multi-asset task.
    pub data_index: Option<i64>,
    /// Medical plane (`MedicalPlane`).
    pub plane: Option<String>,
}

/// Changes of `updateIssue`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct UpdateIssueOptions {
    /// New content.
    pub content: Option<String>,
    /// Mentions in the new content.
    pub content_mentions: Option<Vec<Value>>,
    /// New status.
    pub status: Option<String>,
    /// Point-cloud details.
    pub pct_details: Option<Value>,
    /// Error codes.
    pub error_codes: Option<Vec<Value>>,
}

/// Filters of `getIssues`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct GetIssuesOptions {
    /// On this asset.
    pub asset_id: Option<String>,
    /// On this task.
    pub task_id: Option<String>,
    /// In this stage.
    pub stage_id: Option<String>,
    /// Created by this user.
    pub created_by: Option<String>,
}

/// Options of `listStorageFiles`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ListStorageFilesOptions {
    /// A folder path in the bucket.
    pub path: Option<String>,
    /// Include signed URLs (default true).
    pub get_signed_urls: Option<bool>,
    /// Let the server retry on S3 SlowDown (default true).
    pub retry_on_slow_down: Option<bool>,
}

/// Options of `iterProjects`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct PageOptions {
    /// Items per request (default 100, at most 1000).
    pub page_size: Option<f64>,
}

#[napi]
impl AngoClient {
    /// A client; throws `INVALID_ARGUMENT` for a missing key or a malformed host.
    #[napi(catch_unwind, constructor)]
    pub fn new(options: Option<ClientOptions>) -> Result<Self> {
        let o = options.unwrap_or_default();
        let api_key = match o.api_key.filter(|k| !k.is_empty()) {
            Some(key) => key,
            None => std::env::var("ANGO_API_KEY")
                .map_err(|_| invalid("no API key: pass { apiKey } or set ANGO_API_KEY"))?,
        };
        let mut builder =
            ango_core::Client::builder(api_key).progress(if o.progress.unwrap_or(false) {
                ango_core::ProgressMode::On
            } else {
                ango_core::ProgressMode::Off
            });
        let host = o
            .host
            .or_else(|| std::env::var("ANGO_HOST").ok())
            .filter(|h| !h.trim().is_empty());
        if let Some(host) = host {
            builder = builder.host(host);
        }
        if let Some(ms) = o.timeout_ms {
            builder = builder.request_timeout(millis(ms)?);
        }
        if let Some(ms) = o.connect_timeout_ms {
            builder = builder.connect_timeout(millis(ms)?);
        }
        if let Some(retries) = small_count("maxRetries", o.max_retries)? {
            builder = builder.max_retries(retries);
        }
        if let Some(n) = small_count("concurrency", o.concurrency)? {
            builder = builder.concurrency(n as usize);
        }
        if let Some(agent) = o.user_agent {
            builder = builder.user_agent(agent);
        }
        Ok(AngoClient {
            inner: guard(|| builder.build().napi())?,
        })
    }

    /// A client sharing this one's connections and key, with some settings changed
    /// (`timeoutMs`, `connectTimeoutMs`, `maxRetries`, `concurrency`, `progress`; the
    /// key and host of `options` are ignored): for a few calls that need other limits.
    #[napi(catch_unwind)]
    pub fn with_options(&self, options: ClientOptions) -> Result<AngoClient> {
        let overrides = ango_core::SettingsOverrides {
            request_timeout: options.timeout_ms.map(millis).transpose()?,
            connect_timeout: options.connect_timeout_ms.map(millis).transpose()?,
            max_retries: small_count("maxRetries", options.max_retries)?,
            concurrency: small_count("concurrency", options.concurrency)?.map(|n| n as usize),
            progress: options.progress.map(|on| {
                if on {
                    ango_core::ProgressMode::On
                } else {
                    ango_core::ProgressMode::Off
                }
            }),
        };
        Ok(AngoClient {
            inner: guard(|| Ok(self.inner.with_overrides(&overrides)))?,
        })
    }

    /// The API host in use, without a trailing slash.
    #[napi(catch_unwind, getter)]
    pub fn host(&self) -> String {
        self.inner.host().to_string()
    }

    /// Sends any API request (as the official `make_request`): `endpoint` is the path
    /// and query, such as `/v2/project/ID`; `payload` the JSON body. For endpoints
    /// without a method of their own.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn make_request(
        &self,
        method: String,
        endpoint: String,
        payload: Option<Value>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.make_request(&method, &endpoint, payload.as_ref()))
    }

    // ------------------------------------------------------------ projects

    /// Lists projects, a page at a time (defaults: page 1, limit 10).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn list_projects(
        &self,
        page: Option<f64>,
        limit: Option<f64>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let page = models::whole("page", page, models::MAX_SAFE)?.unwrap_or(1);
        let limit = models::whole("limit", limit, models::MAX_SAFE)?.unwrap_or(10);
        let c = self.inner.clone();
        Ok(call(move || c.raw().list_projects(page, limit)))
    }

    /// Reads one project.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_project(&self, project_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_project(&project_id))
    }

    /// Creates a project.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_project(
        &self,
        name: String,
        description: Option<String>,
        #[napi(ts_arg_type = "ProjectType")] project_type: Option<String>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let kind = project_type.as_deref().map(parse).transpose()?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.raw().create_project(&name, description.as_deref(), kind)
        }))
    }

    /// Copies a project's settings into a new project.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn clone_project(
        &self,
        project_id: String,
        options: Option<CloneProjectOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let d = ango_core::CloneProjectOptions::default();
        let options = ango_core::CloneProjectOptions {
            category_schema: o.category_schema.unwrap_or(d.category_schema),
            assigned_to: o.assigned_to.unwrap_or(d.assigned_to),
            batches: o.batches.unwrap_or(d.batches),
            workflow: o.workflow.unwrap_or(d.workflow),
            plugin_presets: o.plugin_presets.unwrap_or(d.plugin_presets),
            project_general_settings: o
                .project_general_settings
                .unwrap_or(d.project_general_settings),
        };
        let c = self.inner.clone();
        call(move || c.raw().clone_project(&project_id, &options))
    }

    /// Soft-deletes a project.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_project(&self, project_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_project(&project_id))
    }

    /// Purges a project and its files; `confirmName` must be its name.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn purge_project(
        &self,
        project_id: String,
        confirm_name: String,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.purge_project(&project_id, &confirm_name))
    }

    /// Sets a project's ontology, serialised by the core; a non-empty
    /// `rawCategorySchema` is sent as is instead.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_label_set(
        &self,
        project_id: String,
        label_set: Option<models::LabelSet>,
        raw_category_schema: Option<Value>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let schema = label_set.unwrap_or_default().into_core()?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.create_label_set(&project_id, &schema, raw_category_schema.as_ref())
        }))
    }

    /// Replaces a project's workflow stages.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_workflow_stages(
        &self,
        project_id: String,
        stages: Vec<Value>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.update_workflow_stages(&project_id, &stages))
    }

    /// Sets benchmark sampling.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_benchmark_settings(
        &self,
        project_id: String,
        benchmark_enabled: bool,
        benchmark_ratio: Option<i64>,
        benchmark_cutoff: Option<bool>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || {
            c.update_benchmark_settings(
                &project_id,
                benchmark_enabled,
                benchmark_ratio,
                benchmark_cutoff,
            )
        })
    }

    /// Changes a project's label validation.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_label_validation(
        &self,
        project_id: String,
        options: Option<LabelValidationOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let params = ango_core::UpdateLabelValidationParams {
            custom_validation_enabled: o.custom_validation_enabled,
            validation_function: o.validation_function,
            external_validation: o.external_validation,
        };
        let c = self.inner.clone();
        call(move || c.update_label_validation(&project_id, &params))
    }

    /// Adds people, by email, to a project with one role.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn add_members_to_project(
        &self,
        project_id: String,
        members: Vec<String>,
        #[napi(ts_arg_type = "ProjectRole")] role: String,
    ) -> Result<AsyncTask<Call<Value>>> {
        let role = parse(&role)?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.add_members_to_project(&project_id, &members, role)
        }))
    }

    /// Reads one overview metric.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_metrics(
        &self,
        project_id: String,
        #[napi(ts_arg_type = "Metrics")] metric: String,
    ) -> Result<AsyncTask<Call<Value>>> {
        let metric = parse(&metric)?;
        let c = self.inner.clone();
        Ok(call(move || c.get_metrics(&project_id, metric)))
    }

    /// Reads performance data, optionally for `[start, end]` and some batches
    /// (names or ids).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_project_performance(
        &self,
        project_id: String,
        #[napi(ts_arg_type = "[Date | number | string, Date | number | string] | null")]
        interval: Option<Vec<models::DateLike>>,
        batches: Option<Vec<String>>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let interval = match interval {
            None => None,
            Some(pair) => match <[models::DateLike; 2]>::try_from(pair) {
                Ok([start, end]) => Some((start.into_timestamp(), end.into_timestamp())),
                Err(_) => return Err(invalid("interval must be [start, end]")),
            },
        };
        let c = self.inner.clone();
        Ok(call(move || {
            c.get_project_performance(&project_id, interval, batches.as_deref())
        }))
    }

    /// The project's asset-builder templates.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_asset_builder_templates(&self, project_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.get_asset_builder_templates(&project_id))
    }

    /// Creates an asset-builder template (checked by the core first).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_asset_builder_template(
        &self,
        project_id: String,
        template: models::AssetBuilderTemplate,
    ) -> Result<AsyncTask<Call<Value>>> {
        let template = template.into_core()?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.create_asset_builder_template(&project_id, &template)
        }))
    }

    /// Runs a webhook stage again.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn rerun_webhook(
        &self,
        project_id: String,
        webhook_stage_id: String,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.rerun_webhook(&project_id, &webhook_stage_id))
    }

    // ------------------------------------------------------------ tasks

    /// Reads one task.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_task(
        &self,
        task_id: String,
        include_answer: Option<bool>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_task(&task_id, include_answer.unwrap_or(false)))
    }

    /// Lists a project's tasks, a page at a time.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_tasks(
        &self,
        project_id: String,
        options: Option<models::GetTasksOptions>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let (params, _) = options.unwrap_or_default().into_core()?;
        let c = self.inner.clone();
        Ok(call(move || c.raw().get_tasks(&project_id, &params)))
    }

    /// Every task of a project matching `options`, as an async iterable.
    #[napi(catch_unwind)]
    pub fn iter_tasks(
        &self,
        project_id: String,
        options: Option<models::GetTasksOptions>,
    ) -> Result<RowStream> {
        let (params, page_size) = options.unwrap_or_default().into_core()?;
        Ok(RowStream::new(
            self.inner
                .raw()
                .iter_tasks(&project_id, &params, page_size)
                .napi()?,
        ))
    }

    /// A task's history: one entry by `taskHistoryId`, else all of `taskId`'s.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_task_history(
        &self,
        task_history_id: Option<String>,
        task_id: Option<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.get_task_history(task_history_id.as_deref(), task_id.as_deref()))
    }

    /// Assigns tasks in a stage to a user.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn assign_task(
        &self,
        project_id: String,
        task_ids: Vec<String>,
        stage_filter: String,
        email: String,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.assign_task(&project_id, &task_ids, &stage_filter, &email))
    }

    /// Imports labels in the Ango import format.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn import_labels(&self, project_id: String, labels: Vec<Value>) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.import_labels(&project_id, &labels))
    }

    /// Saves an answer on a task (merged into the stored one unless `overwrite`);
    /// resolves to whether the server answered.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn annotate_task(
        &self,
        task_id: String,
        payload: models::AnnotationPayload,
        options: Option<AnnotateOptions>,
    ) -> AsyncTask<Call<bool>> {
        let o = options.unwrap_or_default();
        let d = ango_core::AnnotateOptions::default();
        let options = ango_core::AnnotateOptions {
            overwrite: o.overwrite.unwrap_or(d.overwrite),
            send_to_next_stage: o.send_to_next_stage.unwrap_or(d.send_to_next_stage),
            is_plugin: o.is_plugin.unwrap_or(d.is_plugin),
        };
        let payload = payload.into();
        let c = self.inner.clone();
        call_with(move || c.annotate_task(&task_id, &payload, options))
    }

    /// Records a review decision.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn review_task(
        &self,
        task_id: String,
        #[napi(ts_arg_type = "ReviewStatus")] review_status: String,
        pct_details: Option<Value>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let status = parse(&review_status)?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.review_task(&task_id, status, pct_details.as_ref())
        }))
    }

    /// Sends tasks back to a stage; `filters` selects them (`taskIds`, `externalIds`,
    /// ...), `options` says what to clear.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn requeue_tasks(
        &self,
        project_id: String,
        to_stage_id: String,
        #[napi(ts_arg_type = "Record<string, any>")] filters: Option<Value>,
        #[napi(ts_arg_type = "Record<string, any>")] options: Option<Value>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let params = ango_core::RequeueTasksParams {
            filters: object(filters, "filters")?,
            options: object(options, "options")?,
        };
        let c = self.inner.clone();
        Ok(call(move || {
            c.requeue_tasks(&project_id, &to_stage_id, &params)
        }))
    }

    /// Sets the priority of the tasks `filters` selects (`{}`: all).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_tasks_priority(
        &self,
        project_id: String,
        priority: i64,
        #[napi(ts_arg_type = "Record<string, any>")] filters: Option<Value>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let filters = object(filters, "filters")?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.update_tasks_priority(&project_id, priority, &filters)
        }))
    }

    /// Marks tasks as benchmarks (or unmarks them with `isBenchmark` false).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn set_tasks_as_benchmark(
        &self,
        project_id: String,
        task_ids: Vec<String>,
        is_benchmark: Option<bool>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.set_tasks_as_benchmark(&project_id, &task_ids, is_benchmark.unwrap_or(true)))
    }

    /// For plugins: sends a log record.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn plugin_log(&self, log: Value) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.plugin_log(&log))
    }

    /// For plugins: sends a run's result.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn plugin_response(&self, response: Value) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.plugin_response(&response))
    }

    // ------------------------------------------------------------ assets and batches

    /// Lists a project's assets, a page at a time.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_assets(
        &self,
        project_id: String,
        options: Option<GetAssetsOptions>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let o = options.unwrap_or_default();
        let d = ango_core::GetAssetsParams::default();
        let params = ango_core::GetAssetsParams {
            page: models::whole("page", o.page, models::MAX_SAFE)?.unwrap_or(d.page),
            limit: models::whole("limit", o.limit, models::MAX_SAFE)?.unwrap_or(d.limit),
            filters: object(o.filters, "filters")?,
        };
        let c = self.inner.clone();
        Ok(call(move || c.raw().get_assets(&project_id, &params)))
    }

    /// Every asset of a project matching `options.filters`, as an async iterable.
    #[napi(catch_unwind)]
    pub fn iter_assets(
        &self,
        project_id: String,
        options: Option<GetAssetsOptions>,
    ) -> Result<RowStream> {
        let o = options.unwrap_or_default();
        let filters = object(o.filters, "filters")?;
        let page_size = models::whole("pageSize", o.page_size, models::MAX_SAFE)?;
        let pages = self
            .inner
            .raw()
            .iter_assets(&project_id, &filters, page_size)
            .napi()?;
        Ok(RowStream::new(pages))
    }

    /// Every project visible to the key, as an async iterable.
    #[napi(catch_unwind)]
    pub fn iter_projects(&self, options: Option<PageOptions>) -> Result<RowStream> {
        let page_size = models::whole(
            "pageSize",
            options.unwrap_or_default().page_size,
            models::MAX_SAFE,
        )?;
        Ok(RowStream::new(
            self.inner.raw().iter_projects(page_size).napi()?,
        ))
    }

    /// Deletes assets.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_assets(
        &self,
        project_id: String,
        asset_ids: Vec<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_assets(&project_id, &asset_ids))
    }

    /// Attaches files or links to assets.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_attachment(
        &self,
        project_id: String,
        attachments: Vec<Value>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.create_attachment(&project_id, &attachments))
    }

    /// A project's batches.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_batches(&self, project_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_batches(&project_id))
    }

    /// Creates a batch.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_batch(&self, project_id: String, batch_name: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.create_batch(&project_id, &batch_name))
    }

    /// Creates the batches that do not exist yet.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_batches(
        &self,
        project_id: String,
        batch_names: Vec<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.create_batches(&project_id, &batch_names))
    }

    /// Puts assets in batches (by id).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn assign_batches(
        &self,
        project_id: String,
        asset_ids: Vec<String>,
        batches: Vec<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.assign_batches(&project_id, &asset_ids, &batches))
    }

    // ------------------------------------------------------------ issues

    /// Opens an issue on a task.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_issue(
        &self,
        task_id: String,
        content: String,
        options: Option<CreateIssueOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let params = ango_core::CreateIssueParams {
            content_mentions: o.content_mentions,
            object_id: o.object_id,
            position: o.position,
            error_codes: o.error_codes,
            pct_details: o.pct_details,
            page: o.page,
            page_end: o.page_end,
            data_index: o.data_index,
            plane: o.plane,
        };
        let c = self.inner.clone();
        call(move || c.raw().create_issue(&task_id, &content, &params))
    }

    /// A project's issues.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_issues(
        &self,
        project_id: String,
        options: Option<GetIssuesOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let params = ango_core::GetIssuesParams {
            asset_id: o.asset_id,
            task_id: o.task_id,
            stage_id: o.stage_id,
            created_by: o.created_by,
        };
        let c = self.inner.clone();
        call(move || c.raw().get_issues(&project_id, &params))
    }

    /// Changes an issue.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_issue(
        &self,
        issue_id: String,
        options: Option<UpdateIssueOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let params = ango_core::UpdateIssueParams {
            content: o.content,
            content_mentions: o.content_mentions,
            status: o.status,
            pct_details: o.pct_details,
            error_codes: o.error_codes,
        };
        let c = self.inner.clone();
        call(move || c.raw().update_issue(&issue_id, &params))
    }

    /// Comments on an issue.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn add_comment_to_issue(
        &self,
        issue_id: String,
        content: String,
        content_mentions: Option<Vec<Value>>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.add_comment_to_issue(&issue_id, &content, content_mentions.as_deref()))
    }

    /// Deletes an issue.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_issue(&self, project_id: String, issue_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_issue(&project_id, &issue_id))
    }

    // ------------------------------------------------------------ organization

    /// The organization's members.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_organization_members(&self, organization_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_organization_members(&organization_id))
    }

    /// Changes members' organization roles.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn update_organization_members_role(
        &self,
        organization_id: String,
        role_updates: Vec<models::RoleUpdate>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let updates = role_updates
            .into_iter()
            .map(models::RoleUpdate::into_core)
            .collect::<Result<Vec<_>>>()?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.update_organization_members_role(&organization_id, &updates)
        }))
    }

    /// Removes members, by email.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_organization_members(
        &self,
        organization_id: String,
        member_emails: Vec<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_organization_members(&organization_id, &member_emails))
    }

    /// Pending invitations.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_organization_invites(&self, organization_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_organization_invites(&organization_id))
    }

    /// Invites people to the organization.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn invite_members_to_org(
        &self,
        organization_id: String,
        invitation: models::Invitation,
    ) -> Result<AsyncTask<Call<Value>>> {
        let invitation = invitation.into_core()?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.invite_members_to_org(&organization_id, &invitation)
        }))
    }

    /// Withdraws invitations, by email.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_organization_invites(
        &self,
        organization_id: String,
        invite_emails: Vec<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_organization_invites(&organization_id, &invite_emails))
    }

    /// Sends an in-app notification.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn send_notification(
        &self,
        receivers: Vec<String>,
        message: String,
        title: Option<String>,
        clickable_link: Option<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || {
            c.send_notification(
                &receivers,
                &message,
                title.as_deref(),
                clickable_link.as_deref(),
            )
        })
    }

    /// LLM connections (one, by id, or all).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_llms(&self, llm_id: Option<String>) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_llms(llm_id.as_deref()))
    }

    /// Creates an LLM connection.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_llm(&self, llm: models::Llm) -> Result<AsyncTask<Call<Value>>> {
        let llm = llm.into_core()?;
        let c = self.inner.clone();
        Ok(call(move || c.raw().create_llm(&llm)))
    }

    /// Deletes an LLM connection.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_llm(&self, llm_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_llm(&llm_id))
    }

    // ------------------------------------------------------------ storage

    /// Storage connections (one, by id, or all).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn get_storages(&self, storage_id: Option<String>) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.raw().get_storages(storage_id.as_deref()))
    }

    /// Creates a storage connection.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn create_storage(&self, storage: models::Storage) -> Result<AsyncTask<Call<Value>>> {
        let storage = storage.into_core()?;
        let c = self.inner.clone();
        Ok(call(move || c.raw().create_storage(&storage)))
    }

    /// Deletes a storage connection.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn delete_storage(&self, storage_id: String) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || c.delete_storage(&storage_id))
    }

    /// Lists files in a storage bucket.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn list_storage_files(
        &self,
        storage_id: String,
        bucket_name: String,
        options: Option<ListStorageFilesOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let d = ango_core::ListStorageFilesParams::default();
        let params = ango_core::ListStorageFilesParams {
            path: o.path.unwrap_or(d.path),
            get_signed_urls: o.get_signed_urls.unwrap_or(d.get_signed_urls),
            retry_on_slow_down: o.retry_on_slow_down.unwrap_or(d.retry_on_slow_down),
        };
        let c = self.inner.clone();
        call(move || c.list_storage_files(&storage_id, &bucket_name, &params))
    }

    /// Browses a bucket (`options` are sent along).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn file_explorer(
        &self,
        bucket: String,
        storage_id: String,
        #[napi(ts_arg_type = "Record<string, any>")] options: Option<Value>,
    ) -> Result<AsyncTask<Call<Value>>> {
        let options = object(options, "options")?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.file_explorer(&bucket, &storage_id, &options)
        }))
    }

    // ------------------------------------------------------------ uploads

    /// A signed URL to PUT a new file to.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn get_upload_url(
        &self,
        file_name: String,
        project_id: String,
        #[napi(ts_arg_type = "StorageFileType")] file_type: String,
        storage_id: Option<String>,
    ) -> Result<AsyncTask<Call<String>>> {
        let kind = parse(&file_type)?;
        let c = self.inner.clone();
        Ok(call_with(move || {
            c.get_upload_url(&file_name, &project_id, kind, storage_id.as_deref())
        }))
    }

    /// A signed URL to read a stored file.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn get_signed_url(
        &self,
        asset_url: String,
        project_id: String,
        #[napi(ts_arg_type = "StorageFileType")] file_type: String,
        storage_id: Option<String>,
    ) -> Result<AsyncTask<Call<String>>> {
        let kind = parse(&file_type)?;
        let c = self.inner.clone();
        Ok(call_with(move || {
            c.get_signed_url(&asset_url, &project_id, kind, storage_id.as_deref())
        }))
    }

    /// Uploads local files in parallel and registers them as assets; resolves to each
    /// file's outcome and the registration answer.
    #[napi(catch_unwind, ts_return_type = "Promise<UploadReport>")]
    pub fn upload_files(
        &self,
        project_id: String,
        files: Vec<Either<String, models::UploadFile>>,
        options: Option<models::UploadOptions>,
        #[napi(ts_arg_type = "(done: number, total: number) => void")] on_progress: Option<
            ProgressCallback,
        >,
    ) -> Result<AsyncTask<Call<models::UploadReport>>> {
        let files: Vec<ango_core::upload::UploadFile> =
            files.into_iter().map(models::upload_file).collect();
        let mut options = options.unwrap_or_default().into_core()?;
        if let Some(callback) = on_progress {
            // Events are queued to the event loop; the upload never waits for JS.
            options.progress = Some(std::sync::Arc::new(ango_core::progress::FnProgress::new(
                move |done, total| {
                    callback.call(
                        (done as f64, total as f64).into(),
                        ThreadsafeFunctionCallMode::NonBlocking,
                    );
                },
            )));
        }
        let c = self.inner.clone();
        Ok(call_with(move || {
            c.upload_files(&project_id, &files, &options)
                .map(Into::into)
        }))
    }

    /// Registers assets by URL (`data`, `externalId`, ...).
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn upload_files_cloud(
        &self,
        project_id: String,
        assets: Vec<Value>,
        options: Option<models::UploadCloudOptions>,
    ) -> AsyncTask<Call<Value>> {
        let o = options.unwrap_or_default();
        let c = self.inner.clone();
        call(move || {
            c.upload_files_cloud(
                &project_id,
                assets,
                o.storage_id.as_deref(),
                o.batches.as_deref(),
                o.priority.unwrap_or(0),
                o.upload_local.as_deref(),
            )
        })
    }

    /// Uploads a project's instructions file.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn upload_instructions(
        &self,
        project_id: String,
        file_path: String,
        storage_id: Option<String>,
        bucket: Option<String>,
    ) -> AsyncTask<Call<Value>> {
        let c = self.inner.clone();
        call(move || {
            c.upload_instructions(
                &project_id,
                &file_path,
                storage_id.as_deref(),
                bucket.as_deref(),
            )
        })
    }

    /// Builds assets from a CSV file with one of the project's asset-builder templates
    /// and registers them; `delimiter` defaults to `,`.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn upload_files_with_asset_builder(
        &self,
        project_id: String,
        template_id: String,
        input_file_path: String,
        delimiter: Option<String>,
        priority: Option<i64>,
    ) -> napi::Result<AsyncTask<Call<Value>>> {
        // The core reads and checks the official `{"delimiter": ...}` form.
        let parse_config = ango_core::models::asset_builder::ParseConfig::from_value(
            &serde_json::json!({ "delimiter": delimiter }),
        )
        .map_err(crate::errors::to_napi)?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.upload_files_with_asset_builder(
                &project_id,
                &template_id,
                &input_file_path,
                &parse_config,
                priority.unwrap_or(0),
            )
        }))
    }

    /// Encodes a brush mask (`shape` `[h, w]`, `[h, w, 3]`, `[h, w, 4]`, or with
    /// `medical` a `[z, y, x]` volume; `values` row by row) as PNG or NRRD, uploads it
    /// and resolves to its URL for `brushDataUrl` / `medicalBrushDataUrl`.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn upload_brush_array(
        &self,
        project_id: String,
        shape: Vec<u32>,
        values: Vec<f64>,
        medical: Option<bool>,
    ) -> napi::Result<AsyncTask<Call<Value>>> {
        let medical = medical.unwrap_or(false);
        let shape: Vec<usize> = shape.into_iter().map(|n| n as usize).collect();
        let mask = ango_core::brush::BrushMask::from_shape(&shape, values, medical)
            .map_err(crate::errors::to_napi)?;
        let c = self.inner.clone();
        Ok(call(move || {
            c.upload_brush_array(&project_id, &mask, medical)
                .map(Value::String)
        }))
    }

    /// Creates chat assets.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn upload_chat_assets(
        &self,
        project_id: String,
        config: models::ChatAssetCreationConfig,
        priority: Option<i64>,
    ) -> AsyncTask<Call<Value>> {
        let config = config.into_core();
        let c = self.inner.clone();
        call(move || c.upload_chat_assets(&project_id, &config, priority.unwrap_or(0)))
    }

    // ------------------------------------------------------------ export

    /// Exports a project: the parsed JSON for the JSON format, a row stream (async
    /// iterable, read from disk as it goes) for NDJSON; with `zipFilePath`, saves the
    /// archive there and resolves to `null`.
    #[napi(catch_unwind, js_name = "exportV3", ts_return_type = "Promise<any>")]
    pub fn export_v3(
        &self,
        project_id: String,
        options: Option<models::ExportOptions>,
        zip_file_path: Option<String>,
    ) -> Result<AsyncTask<Call<Either<Value, RowStream>>>> {
        let options = export_options(options)?;
        let c = self.inner.clone();
        Ok(call_with(move || {
            if let Some(path) = zip_file_path {
                c.export_to_file(&project_id, &options, path)?;
                return Ok(Either::A(Value::Null));
            }
            match options.export_format {
                ango_core::models::ExportFormat::Ndjson => Ok(Either::B(RowStream::new(
                    c.raw().export_rows(&project_id, &options)?,
                ))),
                _ => c.raw().export_json(&project_id, &options).map(Either::A),
            }
        }))
    }

    /// The same as `exportV3`.
    #[napi(catch_unwind, ts_return_type = "Promise<any>")]
    pub fn export(
        &self,
        project_id: String,
        options: Option<models::ExportOptions>,
        zip_file_path: Option<String>,
    ) -> Result<AsyncTask<Call<Either<Value, RowStream>>>> {
        self.export_v3(project_id, options, zip_file_path)
    }

    /// Exports a project as a stream of rows (tasks), in either format, without
    /// holding the export in memory.
    #[napi(catch_unwind, ts_return_type = "Promise<RowStream>")]
    pub fn export_rows(
        &self,
        project_id: String,
        options: Option<models::ExportOptions>,
    ) -> Result<AsyncTask<Call<RowStream>>> {
        let options = export_options(options)?;
        let c = self.inner.clone();
        Ok(call_with(move || {
            Ok(RowStream::new(c.raw().export_rows(&project_id, &options)?))
        }))
    }

    /// Exports a project's archive (zip) to `path`; resolves to its size in bytes.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn export_to_file(
        &self,
        project_id: String,
        path: String,
        options: Option<models::ExportOptions>,
    ) -> Result<AsyncTask<Call<f64>>> {
        let options = export_options(options)?;
        let c = self.inner.clone();
        Ok(call_with(move || {
            Ok(c.export_to_file(&project_id, &options, path)? as f64)
        }))
    }

    /// Asks for an export; resolves to the archive's signed URL.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn request_export(
        &self,
        project_id: String,
        options: Option<models::ExportOptions>,
    ) -> Result<AsyncTask<Call<String>>> {
        let options = export_options(options)?;
        let c = self.inner.clone();
        Ok(call_with(move || c.request_export(&project_id, &options)))
    }
}
