//! Typed option and model objects (`#[napi(object)]`) and their conversion into the
//! core's types. Enumerations are strings checked by the core's parsers; their unions
//! are declared in `node/types-header.d.ts`.

use ango_core::models as core;
use ango_core::ontology;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Number, Value};

use crate::errors::{IntoNapi, invalid};

/// The largest whole number a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE: u64 = ango_core::args::MAX_SAFE_INTEGER;

/// A count option given as a JavaScript number, checked by the core
/// ([`ango_core::args::whole_number`]).
pub fn whole(name: &str, value: Option<f64>, max: u64) -> Result<Option<u64>> {
    value
        .map(|v| ango_core::args::whole_number(name, v, max))
        .transpose()
        .napi()
}

/// Parses an enumeration value with the core's parser (an `INVALID_ARGUMENT` error
/// lists the accepted values).
pub fn parse<T: std::str::FromStr<Err = ango_core::Error>>(text: &str) -> Result<T> {
    text.parse::<T>().napi()
}

fn parse_opt<T: std::str::FromStr<Err = ango_core::Error>>(
    text: Option<&str>,
) -> Result<Option<T>> {
    text.map(parse).transpose()
}

/// A JSON object argument (`Record<string, any>`), refusing other JSON values.
pub fn object(value: Option<Value>, what: &str) -> Result<Map<String, Value>> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(invalid(format!("{what} must be an object, got {other}"))),
    }
}

/// A JS number as a JSON number: integral values stay integers (`5`, not `5.0`).
fn number(value: f64) -> Result<Number> {
    if value.fract() == 0.0 && value.abs() < 9.007_199_254_740_992e15 {
        Ok(Number::from(value as i64))
    } else {
        Number::from_f64(value).ok_or_else(|| invalid(format!("{value} is not a finite number")))
    }
}

// ---------------------------------------------------------------- dates

/// A point in time from JavaScript: a `Date`, epoch milliseconds, or an ISO 8601 string.
pub struct DateLike(core::Timestamp);

impl DateLike {
    /// The core timestamp.
    pub fn into_timestamp(self) -> core::Timestamp {
        self.0
    }
}

impl FromNapiValue for DateLike {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut is_date = false;
        // SAFETY: `env` and `value` come from napi for this call.
        unsafe { check_status!(sys::napi_is_date(env, value, &mut is_date))? };
        let timestamp = if is_date {
            let mut millis = 0f64;
            // SAFETY: `value` was just checked to be a Date.
            unsafe { check_status!(sys::napi_get_date_value(env, value, &mut millis))? };
            from_millis(millis)?
        } else {
            // SAFETY: as above; the either conversion checks the JS type itself.
            match unsafe { Either::<String, f64>::from_napi_value(env, value) } {
                Ok(Either::A(text)) => core::Timestamp::parse(&text).napi()?,
                Ok(Either::B(millis)) => from_millis(millis)?,
                Err(_) => {
                    return Err(invalid(
                        "a date must be a Date, epoch milliseconds or an ISO 8601 string",
                    ));
                }
            }
        };
        Ok(DateLike(timestamp))
    }
}

impl TypeName for DateLike {
    fn type_name() -> &'static str {
        "Date | number | string"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for DateLike {}

fn from_millis(millis: f64) -> Result<core::Timestamp> {
    if !millis.is_finite() {
        return Err(invalid("invalid date"));
    }
    core::Timestamp::from_unix_micros((millis * 1000.0).round() as i64).napi()
}

// ---------------------------------------------------------------- task filter

/// A string comparison on a task field.
#[napi(object, object_to_js = false)]
pub struct StringFilter {
    /// Equal to.
    pub eq: Option<String>,
    /// Not equal to.
    pub ne: Option<String>,
    /// Matches this regular expression.
    pub regex: Option<String>,
    /// One of these.
    #[napi(js_name = "in")]
    pub in_list: Option<Vec<String>>,
    /// None of these.
    pub nin: Option<Vec<String>>,
    /// The field exists (or not).
    pub exists: Option<bool>,
}

impl From<StringFilter> for core::StringFilter {
    fn from(f: StringFilter) -> Self {
        core::StringFilter {
            eq: f.eq,
            ne: f.ne,
            regex: f.regex,
            in_list: f.in_list,
            nin: f.nin,
            exists: f.exists,
        }
    }
}

/// A numeric range on a task field.
#[napi(object, object_to_js = false)]
pub struct NumberRange {
    /// Equal to.
    pub eq: Option<f64>,
    /// Not equal to.
    pub ne: Option<f64>,
    /// Greater than.
    pub gt: Option<f64>,
    /// At least.
    pub gte: Option<f64>,
    /// Less than.
    pub lt: Option<f64>,
    /// At most.
    pub lte: Option<f64>,
}

impl NumberRange {
    fn into_core(self) -> Result<core::NumberRange> {
        let n = |v: Option<f64>| v.map(number).transpose();
        Ok(core::NumberRange {
            eq: n(self.eq)?,
            ne: n(self.ne)?,
            gt: n(self.gt)?,
            gte: n(self.gte)?,
            lt: n(self.lt)?,
            lte: n(self.lte)?,
        })
    }
}

/// A date range on a task field.
#[napi(object, object_to_js = false)]
pub struct DateRange {
    /// Strictly after.
    #[napi(ts_type = "Date | number | string")]
    pub gt: Option<DateLike>,
    /// At or after.
    #[napi(ts_type = "Date | number | string")]
    pub gte: Option<DateLike>,
    /// Strictly before.
    #[napi(ts_type = "Date | number | string")]
    pub lt: Option<DateLike>,
    /// At or before.
    #[napi(ts_type = "Date | number | string")]
    pub lte: Option<DateLike>,
}

impl From<DateRange> for core::DateRange {
    fn from(r: DateRange) -> Self {
        core::DateRange {
            gt: r.gt.map(|d| d.0),
            gte: r.gte.map(|d| d.0),
            lt: r.lt.map(|d| d.0),
            lte: r.lte.map(|d| d.0),
        }
    }
}

type Text = Either<String, StringFilter>;

fn text(value: Option<Text>) -> Option<core::TextFilter> {
    value.map(|t| match t {
        Either::A(s) => core::TextFilter::Is(s),
        Either::B(f) => core::TextFilter::Filter(f.into()),
    })
}

fn count(value: Option<Either<f64, NumberRange>>) -> Result<Option<core::CountFilter>> {
    value
        .map(|c| match c {
            Either::A(n) => Ok(core::CountFilter::Is(number(n)?)),
            Either::B(r) => Ok(core::CountFilter::Range(r.into_core()?)),
        })
        .transpose()
}

/// Server-side task filter of `getTasks` and `iterTasks`; a string compares for
/// equality, an object is a full comparison.
#[napi(object, object_to_js = false)]
pub struct TaskFilter {
    /// One stage (id or name), any of several, or a comparison.
    pub stage: Option<Either3<String, Vec<String>, StringFilter>>,
    /// Any of these batches, or a comparison.
    pub batches: Option<Either<Vec<String>, StringFilter>>,
    /// Task status (`TaskStatus`).
    pub status: Option<Text>,
    /// Review status (`ReviewStatus`).
    pub review_status: Option<Text>,
    /// Task type (`TaskType`).
    pub task_type: Option<Text>,
    /// Assignee email.
    pub assignee: Option<Text>,
    /// The asset's external id.
    pub external_id: Option<Text>,
    /// Creation time.
    pub created_at: Option<DateRange>,
    /// Last update time.
    pub updated_at: Option<DateRange>,
    /// Creator.
    pub created_by: Option<Text>,
    /// Last updater.
    pub updated_by: Option<Text>,
    /// Priority.
    pub priority: Option<Either<f64, NumberRange>>,
    /// Duration.
    pub duration: Option<NumberRange>,
    /// Total duration.
    pub total_duration: Option<NumberRange>,
    /// Open issue count.
    pub open_issues_count: Option<Either<f64, NumberRange>>,
    /// Draft flag.
    pub is_draft: Option<bool>,
    /// Skipped flag.
    pub is_skipped: Option<bool>,
    /// Benchmark flag.
    pub is_benchmark: Option<bool>,
}

impl TaskFilter {
    /// The core filter.
    pub fn into_core(self) -> Result<core::TaskFilter> {
        Ok(core::TaskFilter {
            stage: self.stage.map(|s| match s {
                Either3::A(one) => core::StageFilter::Is(one),
                Either3::B(list) => core::StageFilter::AnyOf(list),
                Either3::C(f) => core::StageFilter::Filter(f.into()),
            }),
            batches: self.batches.map(|b| match b {
                Either::A(list) => core::BatchFilter::AnyOf(list),
                Either::B(f) => core::BatchFilter::Filter(f.into()),
            }),
            status: text(self.status),
            review_status: text(self.review_status),
            task_type: text(self.task_type),
            assignee: text(self.assignee),
            external_id: text(self.external_id),
            created_at: self.created_at.map(Into::into),
            updated_at: self.updated_at.map(Into::into),
            created_by: text(self.created_by),
            updated_by: text(self.updated_by),
            priority: count(self.priority)?,
            duration: self.duration.map(NumberRange::into_core).transpose()?,
            total_duration: self
                .total_duration
                .map(NumberRange::into_core)
                .transpose()?,
            open_issues_count: count(self.open_issues_count)?,
            is_draft: self.is_draft,
            is_skipped: self.is_skipped,
            is_benchmark: self.is_benchmark,
        })
    }
}

/// Paging, filters and fields of `getTasks` (defaults: page 1, limit 10, no answers).
/// `iterTasks` ignores `page`/`limit` and reads `pageSize` instead.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct GetTasksOptions {
    /// The page, from 1.
    pub page: Option<f64>,
    /// Tasks per page.
    pub limit: Option<f64>,
    /// Deprecated (use `taskFilter.status`): status equal to this.
    pub status: Option<String>,
    /// Deprecated (use `taskFilter.stage`): in this stage.
    pub stage: Option<String>,
    /// Deprecated (use `taskFilter.batches`): in these batches.
    pub batches: Option<Vec<String>>,
    /// Include each task's answer.
    pub include_answer: Option<bool>,
    /// Server-side filter.
    pub task_filter: Option<TaskFilter>,
    /// Sort keys, such as `-createdAt,priority`.
    pub sort: Option<String>,
    /// Comma-separated fields to return (`_id`, `project` and `asset` are added).
    pub fields: Option<String>,
    /// `iterTasks` only: tasks per request (default 100, at most 1000).
    pub page_size: Option<f64>,
}

impl GetTasksOptions {
    /// The core parameters and the page size.
    pub fn into_core(self) -> Result<(ango_core::GetTasksParams, Option<u64>)> {
        let defaults = ango_core::GetTasksParams::default();
        let params = ango_core::GetTasksParams {
            page: whole("page", self.page, MAX_SAFE)?.unwrap_or(defaults.page),
            limit: whole("limit", self.limit, MAX_SAFE)?.unwrap_or(defaults.limit),
            status: self.status,
            stage: self.stage,
            batches: self.batches,
            include_answer: self.include_answer.unwrap_or(defaults.include_answer),
            task_filter: self.task_filter.map(TaskFilter::into_core).transpose()?,
            sort: self.sort,
            fields: self.fields,
        };
        Ok((params, whole("pageSize", self.page_size, MAX_SAFE)?))
    }
}

// ---------------------------------------------------------------- export

/// A time window on `updatedAt` / `createdAt`.
#[napi(object, object_to_js = false)]
pub struct TimeFilter {
    /// Strictly after this time.
    #[napi(ts_type = "Date | number | string")]
    pub from_date: Option<DateLike>,
    /// Strictly before this time.
    #[napi(ts_type = "Date | number | string")]
    pub to_date: Option<DateLike>,
}

impl From<TimeFilter> for core::TimeFilter {
    fn from(t: TimeFilter) -> Self {
        core::TimeFilter {
            from_date: t.from_date.map(|d| d.0),
            to_date: t.to_date.map(|d| d.0),
        }
    }
}

/// What an export contains and its format. Defaults as the official SDK: JSON, tasks
/// of type `default` in the `Complete` stage, with metadata and history.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ExportOptions {
    /// Stages to export (default `['Complete']` for the `default` task type).
    pub stage: Option<Vec<String>>,
    /// Batches to export.
    pub batches: Option<Vec<String>>,
    /// The task type to export.
    #[napi(ts_type = "TaskType")]
    pub task_type: Option<String>,
    /// `'json'` (default) or `'ndjson'`.
    #[napi(ts_type = "ExportFormat")]
    pub export_format: Option<String>,
    /// `'task'` (default) or `'issue'`.
    #[napi(ts_type = "ExportType")]
    pub export_type: Option<String>,
    /// Keep only key frames of videos.
    pub include_key_frames_only: Option<bool>,
    /// Include idle and blur durations.
    pub include_idle_blur_durations: Option<bool>,
    /// Also e-mail the export.
    pub send_email: Option<bool>,
    /// Include asset metadata (default true).
    pub include_metadata: Option<bool>,
    /// Include the stage history (default true).
    pub include_history: Option<bool>,
    /// Notify the project's members.
    pub notify: Option<bool>,
    /// Only tasks updated in this window.
    pub updated_at: Option<TimeFilter>,
    /// Only tasks created in this window.
    pub created_at: Option<TimeFilter>,
}

impl ExportOptions {
    /// The core options.
    pub fn into_core(self) -> Result<core::ExportOptions> {
        let mut o = core::ExportOptions::new(self.stage, parse_opt(self.task_type.as_deref())?);
        o.batches = self.batches;
        if let Some(format) = self.export_format.as_deref() {
            o.export_format = parse(format)?;
        }
        if let Some(kind) = self.export_type.as_deref() {
            o.export_type = parse(kind)?;
        }
        let flag = |value: Option<bool>, default: bool| value.unwrap_or(default);
        o.include_key_frames_only = flag(self.include_key_frames_only, o.include_key_frames_only);
        o.include_idle_blur_durations = flag(
            self.include_idle_blur_durations,
            o.include_idle_blur_durations,
        );
        o.send_email = flag(self.send_email, o.send_email);
        o.include_metadata = flag(self.include_metadata, o.include_metadata);
        o.include_history = flag(self.include_history, o.include_history);
        o.notify = flag(self.notify, o.notify);
        o.updated_at = self.updated_at.map(Into::into);
        o.created_at = self.created_at.map(Into::into);
        Ok(o)
    }
}

/// Optional export options into the core's (defaults when absent).
pub fn export_options(options: Option<ExportOptions>) -> Result<core::ExportOptions> {
    options.unwrap_or_default().into_core()
}

// ---------------------------------------------------------------- ontology

/// One option of a classification.
#[napi(object, object_to_js = false)]
pub struct LabelOption {
    /// The option's text.
    pub value: String,
    /// The option's id (generated when absent).
    pub schema_id: Option<String>,
}

impl From<LabelOption> for ontology::LabelOption {
    fn from(o: LabelOption) -> Self {
        ontology::LabelOption::with_schema_id(o.value, o.schema_id.unwrap_or_default())
    }
}

/// A node of a tree-dropdown.
#[napi(object, object_to_js = false)]
pub struct TreeOption {
    /// The node's label.
    pub title: String,
    /// The node's id (generated when absent); the flattened option's schema id.
    pub key: Option<String>,
    /// The node's value (defaults to the key).
    pub value: Option<String>,
    /// Child nodes.
    pub children: Option<Vec<TreeOption>>,
}

impl From<TreeOption> for ontology::TreeOption {
    fn from(t: TreeOption) -> Self {
        let children = t
            .children
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        ontology::TreeOption::with_key(t.title, t.key, t.value).children(children)
    }
}

/// Applies the fields every category shares, through the core's setters.
macro_rules! apply_base {
    ($category:expr, $js:expr) => {{
        let mut c = $category;
        if let Some(v) = $js.required {
            c = c.required(v);
        }
        if let Some(v) = $js.schema_id {
            c = c.schema_id(v);
        }
        if let Some(v) = $js.color {
            c = c.color(v);
        }
        if let Some(v) = $js.shortcut_key {
            c = c.shortcut_key(v);
        }
        if let Some(v) = $js.column_field {
            c = c.column_field(v);
        }
        if let Some(v) = $js.classifications {
            c = c.classifications(
                v.into_iter()
                    .map(ClassificationCategory::into_core)
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        if let Some(v) = $js.options {
            c = c.options(v.into_iter().map(Into::into).collect());
        }
        c
    }};
}

/// A labeling tool of the ontology.
#[napi(object, object_to_js = false)]
pub struct ToolCategory {
    /// The tool.
    #[napi(ts_type = "Tool")]
    pub tool: String,
    /// Title shown to annotators.
    pub title: Option<String>,
    /// Whether an answer is required.
    pub required: Option<bool>,
    /// The category's id (generated when absent).
    pub schema_id: Option<String>,
    /// `#RRGGBB` (random when absent).
    pub color: Option<String>,
    /// Keyboard shortcut.
    pub shortcut_key: Option<String>,
    /// Shown as a task-table column.
    pub column_field: Option<bool>,
    /// Nested classifications.
    pub classifications: Option<Vec<ClassificationCategory>>,
    /// Options.
    pub options: Option<Vec<LabelOption>>,
}

impl ToolCategory {
    fn into_core(self) -> Result<ontology::ToolCategory> {
        let base =
            ontology::ToolCategory::new(parse(&self.tool)?, self.title.clone().unwrap_or_default());
        Ok(apply_base!(base, self))
    }
}

/// A relation of the ontology.
#[napi(object, object_to_js = false)]
pub struct RelationCategory {
    /// The relation type.
    #[napi(ts_type = "Relation")]
    pub tool: String,
    /// Title shown to annotators.
    pub title: Option<String>,
    /// Whether an answer is required.
    pub required: Option<bool>,
    /// The category's id (generated when absent).
    pub schema_id: Option<String>,
    /// `#RRGGBB` (random when absent).
    pub color: Option<String>,
    /// Keyboard shortcut.
    pub shortcut_key: Option<String>,
    /// Shown as a task-table column.
    pub column_field: Option<bool>,
    /// Nested classifications.
    pub classifications: Option<Vec<ClassificationCategory>>,
    /// Options.
    pub options: Option<Vec<LabelOption>>,
}

impl RelationCategory {
    fn into_core(self) -> Result<ontology::RelationCategory> {
        let base = ontology::RelationCategory::new(
            parse(&self.tool)?,
            self.title.clone().unwrap_or_default(),
        );
        Ok(apply_base!(base, self))
    }
}

/// A classification (question), global or nested in a tool or another classification.
#[napi(object, object_to_js = false)]
pub struct ClassificationCategory {
    /// The question type.
    #[napi(ts_type = "Classification")]
    pub tool: String,
    /// Title shown to annotators.
    pub title: Option<String>,
    /// Whether an answer is required.
    pub required: Option<bool>,
    /// The category's id (generated when absent).
    pub schema_id: Option<String>,
    /// `#RRGGBB` (random when absent).
    pub color: Option<String>,
    /// Keyboard shortcut.
    pub shortcut_key: Option<String>,
    /// Shown as a task-table column.
    pub column_field: Option<bool>,
    /// Nested classifications.
    pub classifications: Option<Vec<ClassificationCategory>>,
    /// Options.
    pub options: Option<Vec<LabelOption>>,
    /// The option tree of a tree-dropdown (replaces `options` with its flattening).
    pub tree_options: Option<Vec<TreeOption>>,
    /// Shown only when this option (its schemaId) of the parent is picked.
    pub parent_option_id: Option<String>,
    /// Answered per frame (video).
    pub frame_specific: Option<bool>,
    /// A pattern text answers must match.
    pub regex: Option<String>,
    /// Show options as a dropdown.
    pub show_dropdown: Option<bool>,
    /// Rich-text answers.
    pub rich_text: Option<bool>,
    /// Name used in exports.
    pub export_name: Option<String>,
    /// Name shown to annotators.
    pub display_name: Option<String>,
    /// Short name.
    pub abbreviated_name: Option<String>,
    /// Attribute type.
    pub attribute_type: Option<String>,
    /// Default answer of a boolean.
    pub default_value: Option<bool>,
}

impl ClassificationCategory {
    fn into_core(self) -> Result<ontology::ClassificationCategory> {
        let base = ontology::ClassificationCategory::new(
            parse(&self.tool)?,
            self.title.clone().unwrap_or_default(),
        );
        let mut c = apply_base!(base, self);
        if let Some(trees) = self.tree_options {
            c = c.tree_options(trees.into_iter().map(Into::into).collect());
        }
        if let Some(v) = self.parent_option_id {
            c = c.parent_option_id(v);
        }
        if let Some(v) = self.frame_specific {
            c = c.frame_specific(v);
        }
        if let Some(v) = self.regex {
            c = c.regex(v);
        }
        if let Some(v) = self.show_dropdown {
            c = c.show_dropdown(v);
        }
        if let Some(v) = self.rich_text {
            c = c.rich_text(v);
        }
        if let Some(v) = self.export_name {
            c = c.export_name(v);
        }
        if let Some(v) = self.display_name {
            c = c.display_name(v);
        }
        if let Some(v) = self.abbreviated_name {
            c = c.abbreviated_name(v);
        }
        if let Some(v) = self.attribute_type {
            c = c.attribute_type(v);
        }
        if let Some(v) = self.default_value {
            c = c.default_value(v);
        }
        Ok(c)
    }
}

/// A whole ontology (a project's category schema).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct LabelSet {
    /// Tools.
    pub tools: Option<Vec<ToolCategory>>,
    /// Global classifications.
    pub classifications: Option<Vec<ClassificationCategory>>,
    /// Relations.
    pub relations: Option<Vec<RelationCategory>>,
}

impl LabelSet {
    /// The core schema.
    pub fn into_core(self) -> Result<ontology::CategorySchema> {
        Ok(ontology::CategorySchema {
            tools: self
                .tools
                .unwrap_or_default()
                .into_iter()
                .map(ToolCategory::into_core)
                .collect::<Result<_>>()?,
            classifications: self
                .classifications
                .unwrap_or_default()
                .into_iter()
                .map(ClassificationCategory::into_core)
                .collect::<Result<_>>()?,
            relations: self
                .relations
                .unwrap_or_default()
                .into_iter()
                .map(RelationCategory::into_core)
                .collect::<Result<_>>()?,
        })
    }
}

// ---------------------------------------------------------------- annotation

/// An answer: objects, classifications and relations in the Ango format.
#[napi(object, object_to_js = false)]
pub struct Answer {
    /// Objects (tool annotations).
    pub objects: Option<Vec<Value>>,
    /// Classifications.
    pub classifications: Option<Vec<Value>>,
    /// Relations.
    pub relations: Option<Vec<Value>>,
}

/// What `annotateTask` saves.
#[napi(object, object_to_js = false)]
pub struct AnnotationPayload {
    /// The answer.
    pub answer: Option<Answer>,
    /// URL of an uploaded brush mask.
    pub brush_data_url: Option<String>,
    /// URL of an uploaded medical brush mask.
    pub medical_brush_data_url: Option<String>,
}

impl From<AnnotationPayload> for core::AnnotationPayload {
    fn from(p: AnnotationPayload) -> Self {
        core::AnnotationPayload {
            answer: p.answer.map(|a| core::Answer {
                objects: a.objects.unwrap_or_default(),
                classifications: a.classifications.unwrap_or_default(),
                relations: a.relations.unwrap_or_default(),
            }),
            brush_data_url: p.brush_data_url,
            medical_brush_data_url: p.medical_brush_data_url,
        }
    }
}

// ---------------------------------------------------------------- organization, storage, LLM

/// A project and role given to invitees.
#[napi(object, object_to_js = false)]
pub struct ProjectAssignment {
    /// The project.
    pub project_id: String,
    /// The role in it.
    #[napi(ts_type = "ProjectRole")]
    pub project_role: String,
}

/// An invitation to the organization.
#[napi(object, object_to_js = false)]
pub struct Invitation {
    /// Emails to invite.
    pub to: Vec<String>,
    /// Their organization role.
    #[napi(ts_type = "OrganizationRole")]
    pub organization_role: String,
    /// Projects to add them to.
    pub project_assignments: Option<Vec<ProjectAssignment>>,
}

impl Invitation {
    /// The core invitation.
    pub fn into_core(self) -> Result<core::Invitation> {
        Ok(core::Invitation {
            to: self.to,
            organization_role: parse(&self.organization_role)?,
            project_assignments: self
                .project_assignments
                .map(|list| {
                    list.into_iter()
                        .map(|a| {
                            Ok(core::ProjectAssignment {
                                project_id: a.project_id,
                                project_role: parse(&a.project_role)?,
                            })
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?,
        })
    }
}

/// A change of a member's organization role.
#[napi(object, object_to_js = false)]
pub struct RoleUpdate {
    /// The member's email.
    pub email: String,
    /// The new role.
    #[napi(ts_type = "OrganizationRole")]
    pub organization_role: String,
}

impl RoleUpdate {
    /// The core role update.
    pub fn into_core(self) -> Result<core::RoleUpdate> {
        Ok(core::RoleUpdate {
            email: self.email,
            organization_role: parse(&self.organization_role)?,
        })
    }
}

/// An external storage connection.
#[napi(object, object_to_js = false)]
pub struct Storage {
    /// Name.
    pub name: String,
    /// Provider.
    #[napi(ts_type = "StorageProvider")]
    pub provider: String,
    /// Access key id.
    pub public_key: Option<String>,
    /// Secret key.
    pub private_key: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Credentials (GCP JSON, Azure connection string).
    pub credentials: Option<String>,
}

impl Storage {
    /// The core storage.
    pub fn into_core(self) -> Result<core::Storage> {
        let mut s = core::Storage::new(self.name, parse(&self.provider)?);
        s.public_key = self.public_key;
        s.private_key = self.private_key;
        if let Some(region) = self.region {
            s.region = region;
        }
        s.credentials = self.credentials;
        Ok(s)
    }
}

/// An LLM connection.
#[napi(object, object_to_js = false)]
pub struct Llm {
    /// Name.
    pub name: String,
    /// Provider.
    #[napi(ts_type = "LlmProvider")]
    pub provider: String,
    /// Model id.
    pub model: String,
    /// The provider's API key.
    pub api_key: String,
    /// Custom endpoint.
    pub base_url: Option<String>,
    /// Streaming answers.
    pub is_streamable: Option<bool>,
}

impl Llm {
    /// The core LLM.
    pub fn into_core(self) -> Result<core::Llm> {
        Ok(core::Llm {
            name: self.name,
            provider: parse(&self.provider)?,
            model: self.model,
            api_key: self.api_key,
            base_url: self.base_url,
            is_streamable: self.is_streamable.unwrap_or(false),
        })
    }
}

// ---------------------------------------------------------------- chat assets, templates

/// How chat assets are created by `uploadChatAssets`.
#[napi(object, object_to_js = false)]
pub struct ChatAssetCreationConfig {
    /// Conversations to create (at least 1).
    pub number_of_assets: u32,
    /// Storage to put them in.
    pub storage_id: Option<String>,
    /// Bucket in that storage.
    pub bucket_name: Option<String>,
    /// The LLM configuration's id.
    pub llm_config_id: Option<String>,
    /// The naming strategy's type.
    pub naming_strategy: Option<String>,
    /// A local conversation JSON file to upload.
    pub conversation_json: Option<String>,
}

impl ChatAssetCreationConfig {
    /// The core config (checked by the core when the call runs).
    pub fn into_core(self) -> core::ChatAssetCreationConfig {
        core::ChatAssetCreationConfig {
            number_of_assets: u64::from(self.number_of_assets),
            storage_id: self.storage_id,
            bucket_name: self.bucket_name,
            llm_config_id: self.llm_config_id,
            naming_strategy: self
                .naming_strategy
                .map(core::NamingStrategy::new)
                .unwrap_or_default(),
            conversation_json: self.conversation_json.map(Into::into),
        }
    }
}

/// One data column of an asset-builder template (the type of
/// `AssetBuilderTemplate.dataConfig` values).
#[napi(object, object_to_js = false)]
// Declared for the TypeScript types only: the core reads `dataConfig` from JSON.
#[allow(dead_code)]
pub struct DataConfigItem {
    /// The column type.
    #[napi(js_name = "type")]
    pub kind: String,
    /// Storage id (required by some types).
    pub storage: Option<String>,
    /// Include the column in exports.
    pub include_in_export: Option<bool>,
}

/// An asset-builder template.
#[napi(object, object_to_js = false)]
pub struct AssetBuilderTemplate {
    /// Name.
    pub name: String,
    /// The HTML template.
    pub template: String,
    /// The column holding external ids.
    pub external_id_column: String,
    /// The data columns, by name (kept in the given order).
    #[napi(ts_type = "Record<string, DataConfigItem>")]
    pub data_config: Value,
    /// Description.
    pub description: Option<String>,
    /// The column holding batch names.
    pub batch_column: Option<String>,
    /// Pre-label configuration.
    #[napi(ts_type = "Record<string, any>")]
    pub pre_label_config: Option<Value>,
}

impl AssetBuilderTemplate {
    /// The core template, read by the core from its dict form.
    pub fn into_core(self) -> Result<core::AssetBuilderTemplate> {
        let dict = serde_json::json!({
            "name": self.name,
            "template": self.template,
            "selectedExternalId": self.external_id_column,
            "dataConfig": self.data_config,
            "description": self.description,
            "batchColumn": self.batch_column,
            "preLabelConfig": self.pre_label_config,
        });
        core::AssetBuilderTemplate::from_value(&dict).napi()
    }
}

// ---------------------------------------------------------------- uploads

/// A local file to upload, with what to attach to its asset.
#[napi(object, object_to_js = false)]
pub struct UploadFile {
    /// The file's path.
    pub path: String,
    /// The asset's external id (default: the file name).
    pub external_id: Option<String>,
    /// Context data attached to the asset.
    pub context_data: Option<Value>,
    /// Metadata attached to the asset.
    pub metadata: Option<Value>,
}

/// A file argument (a path or an `UploadFile`) as the core's.
pub fn upload_file(file: Either<String, UploadFile>) -> ango_core::upload::UploadFile {
    {
        match file {
            Either::A(path) => ango_core::upload::UploadFile::new(path),
            Either::B(f) => ango_core::upload::UploadFile {
                path: f.path.into(),
                external_id: f.external_id,
                context_data: f.context_data,
                metadata: f.metadata,
            },
        }
    }
}

/// Options of `uploadFiles`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct UploadOptions {
    /// Upload to this external storage instead of Ango's.
    pub storage_id: Option<String>,
    /// Batches (names or ids) to put the assets in.
    pub batches: Option<Vec<String>>,
    /// Task priority.
    pub priority: Option<i64>,
    /// Parallel file uploads (default: the client's `concurrency`).
    pub concurrency: Option<f64>,
}

impl UploadOptions {
    /// The core options; `concurrency` must be a whole number.
    pub fn into_core(self) -> Result<ango_core::upload::UploadOptions> {
        let defaults = ango_core::upload::UploadOptions::default();
        Ok(ango_core::upload::UploadOptions {
            storage_id: self.storage_id,
            batches: self.batches,
            priority: self.priority.unwrap_or(defaults.priority),
            progress: None,
            concurrency: whole("concurrency", self.concurrency, u64::from(u32::MAX))?
                .map(|c| c.max(1) as usize),
        })
    }
}

/// Options of `uploadFilesCloud`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct UploadCloudOptions {
    /// The external storage holding the files.
    pub storage_id: Option<String>,
    /// Batches (names or ids) to put the assets in.
    pub batches: Option<Vec<String>>,
    /// Task priority.
    pub priority: Option<i64>,
    /// The `uploadLocal` flag the official SDK sends.
    pub upload_local: Option<String>,
}

/// An error as data (in an upload report).
#[napi(object)]
pub struct ErrorInfo {
    /// `ango_core::Error::code()`, as on thrown errors.
    pub code: String,
    /// The message (the server's body for HTTP errors).
    pub message: String,
    /// The HTTP status, if any.
    pub status: Option<u32>,
}

/// What happened to one file of an upload.
#[napi(object)]
pub struct FileOutcome {
    /// The local path.
    pub path: String,
    /// The asset's external id.
    pub external_id: String,
    /// Whether it was stored (and, unless `registrationError`, registered).
    pub uploaded: bool,
    /// Where it was stored.
    pub url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The result of `uploadFiles`: the server's answer to the registration and each
/// file's outcome.
#[napi(object)]
pub struct UploadReport {
    /// The registration call's answer, as the server sent it.
    pub response: Option<Value>,
    /// Why registering the uploaded files failed, if it did.
    pub registration_error: Option<ErrorInfo>,
    /// Per-file outcomes, in the given order.
    pub files: Vec<FileOutcome>,
    /// Every file uploaded and registered.
    pub complete: bool,
}

impl From<ango_core::upload::UploadReport> for UploadReport {
    fn from(report: ango_core::upload::UploadReport) -> Self {
        let complete = report.is_complete();
        UploadReport {
            response: report.response,
            registration_error: report.registration_error.map(|e| ErrorInfo {
                code: e.code().to_string(),
                message: e.to_string(),
                status: e.status().map(u32::from),
            }),
            files: report
                .files
                .into_iter()
                .map(|f| {
                    let (uploaded, url, error) = match f.status {
                        ango_core::upload::FileStatus::Uploaded { url } => (true, Some(url), None),
                        ango_core::upload::FileStatus::Failed { error } => {
                            (false, None, Some(error))
                        }
                        ango_core::upload::FileStatus::Unknown { url, error } => {
                            (false, Some(url), Some(error))
                        }
                    };
                    FileOutcome {
                        path: f.path.to_string_lossy().into_owned(),
                        external_id: f.external_id,
                        uploaded,
                        url,
                        error,
                    }
                })
                .collect(),
            complete,
        }
    }
}
