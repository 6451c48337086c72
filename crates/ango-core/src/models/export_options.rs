//! `ExportOptions` and `TimeFilter`: what an export contains and in which format.

use serde_json::{Map, Value};

use super::Timestamp;
use super::enums::{ExportFormat, ExportType, TaskType};
use crate::pyjson;

/// A time window on `updatedAt` / `createdAt`, written with microsecond precision.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimeFilter {
    /// Strictly after this time.
    #[serde(alias = "fromDate")]
    pub from_date: Option<Timestamp>,
    /// Strictly before this time.
    #[serde(alias = "toDate")]
    pub to_date: Option<Timestamp>,
}

impl TimeFilter {
    /// `{"$gt": ..., "$lt": ...}` with the bounds that are set.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(from) = &self.from_date {
            map.insert("$gt".into(), Value::String(from.format_micros()));
        }
        if let Some(to) = &self.to_date {
            map.insert("$lt".into(), Value::String(to.format_micros()));
        }
        Value::Object(map)
    }

    /// The window as Python's `json.dumps` writes it.
    pub fn to_json(&self) -> String {
        pyjson::to_string(&self.to_value())
    }
}

/// What to export. `Default` matches the official defaults: JSON, tasks of the default
/// type in the `Complete` stage, with metadata and history, no e-mail, no notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Stages to export; `None` means every stage.
    pub stage: Option<Vec<String>>,
    /// Batches to export (ids or names as the server accepts them).
    pub batches: Option<Vec<String>>,
    /// Task types to export.
    pub task_types: Vec<TaskType>,
    /// JSON or NDJSON.
    pub export_format: ExportFormat,
    /// Tasks or issues.
    pub export_type: ExportType,
    /// Keep only key frames of videos.
    pub include_key_frames_only: bool,
    /// Include idle and blur durations.
    pub include_idle_blur_durations: bool,
    /// Also e-mail the export.
    pub send_email: bool,
    /// Include asset metadata.
    pub include_metadata: bool,
    /// Include the stage history.
    pub include_history: bool,
    /// Notify the project's members.
    pub notify: bool,
    /// Only tasks updated in this window.
    pub updated_at: Option<TimeFilter>,
    /// Only tasks created in this window.
    pub created_at: Option<TimeFilter>,
}

/// `ExportOptions` as the bindings pass it: the Python attribute names or their
/// camelCase forms; a missing or `null` field takes the official default, and a missing
/// `stage` is the official stage default of [`ExportOptions::new`] (`null` means every
/// stage). `task_type` (one type) is read as well as `task_types`.
#[derive(serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct ExportOptionsFields {
    #[serde(default, deserialize_with = "present")]
    stage: Option<Option<Vec<String>>>,
    #[serde(default)]
    batches: Option<Vec<String>>,
    #[serde(default, alias = "taskTypes")]
    task_types: Option<Vec<TaskType>>,
    #[serde(default, alias = "taskType")]
    task_type: Option<TaskType>,
    #[serde(default, alias = "exportFormat")]
    export_format: Option<ExportFormat>,
    #[serde(default, alias = "exportType")]
    export_type: Option<ExportType>,
    #[serde(default, alias = "includeKeyFramesOnly")]
    include_key_frames_only: Option<bool>,
    #[serde(default, alias = "includeIdleBlurDurations")]
    include_idle_blur_durations: Option<bool>,
    #[serde(default, alias = "sendEmail")]
    send_email: Option<bool>,
    #[serde(default, alias = "includeMetadata")]
    include_metadata: Option<bool>,
    #[serde(default, alias = "includeHistory")]
    include_history: Option<bool>,
    #[serde(default)]
    notify: Option<bool>,
    #[serde(default, alias = "updatedAt")]
    updated_at: Option<TimeFilter>,
    #[serde(default, alias = "createdAt")]
    created_at: Option<TimeFilter>,
}

/// A field that is present (possibly `null`), told apart from a missing one.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

impl<'de> serde::Deserialize<'de> for ExportOptions {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let f = ExportOptionsFields::deserialize(deserializer)?;
        let first_type = f
            .task_types
            .as_ref()
            .and_then(|t| t.first().copied())
            .or(f.task_type);
        let mut options = ExportOptions::new(None, first_type);
        if let Some(stage) = f.stage {
            options.stage = stage;
        }
        if let Some(types) = f.task_types {
            options.task_types = types;
        }
        options.batches = f.batches;
        options.export_format = f.export_format.unwrap_or(options.export_format);
        options.export_type = f.export_type.unwrap_or(options.export_type);
        let flag = |given: Option<bool>, default: bool| given.unwrap_or(default);
        options.include_key_frames_only =
            flag(f.include_key_frames_only, options.include_key_frames_only);
        options.include_idle_blur_durations = flag(
            f.include_idle_blur_durations,
            options.include_idle_blur_durations,
        );
        options.send_email = flag(f.send_email, options.send_email);
        options.include_metadata = flag(f.include_metadata, options.include_metadata);
        options.include_history = flag(f.include_history, options.include_history);
        options.notify = flag(f.notify, options.notify);
        options.updated_at = f.updated_at;
        options.created_at = f.created_at;
        Ok(options)
    }
}

/// The schema of what deserialises (every field optional).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ExportOptions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExportOptions".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ExportOptionsFields::json_schema(generator)
    }
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions::new(None, None)
    }
}

impl ExportOptions {
    /// Options for one task type with the official stage default: when no stage is
    /// given and the type is `default`, only the `Complete` stage is exported.
    pub fn new(stage: Option<Vec<String>>, task_type: Option<TaskType>) -> Self {
        let task_type = task_type.unwrap_or(TaskType::Default);
        let stage = match stage {
            None if task_type == TaskType::Default => Some(vec!["Complete".to_string()]),
            other => other,
        };
        ExportOptions {
            stage,
            batches: None,
            task_types: vec![task_type],
            export_format: ExportFormat::Json,
            export_type: ExportType::Task,
            include_key_frames_only: false,
            include_idle_blur_durations: false,
            send_email: false,
            include_metadata: true,
            include_history: true,
            notify: false,
            updated_at: None,
            created_at: None,
        }
    }

    /// The export format.
    pub fn export_format(&self) -> ExportFormat {
        self.export_format
    }

    /// The query parameters, in the official order (`project` is added by the caller).
    pub fn to_query(&self) -> Vec<(String, String)> {
        let flag = |b: bool| if b { "true" } else { "false" }.to_string();
        let mut query = vec![
            ("sendEmail".to_string(), flag(self.send_email)),
            ("includeMetadata".to_string(), flag(self.include_metadata)),
            ("includeHistory".to_string(), flag(self.include_history)),
            ("doNotNotify".to_string(), flag(!self.notify)),
            (
                "format".to_string(),
                self.export_format.as_str().to_string(),
            ),
            ("type".to_string(), self.export_type.as_str().to_string()),
            (
                "includeOnlyKeyFrames".to_string(),
                flag(self.include_key_frames_only),
            ),
            (
                "includeIdleBlurDurations".to_string(),
                flag(self.include_idle_blur_durations),
            ),
        ];
        if let Some(batches) = self.batches.as_ref().filter(|b| !b.is_empty()) {
            query.push(("batches".into(), pyjson::to_string(batches)));
        }
        if !self.task_types.is_empty() {
            let types: Vec<&str> = self.task_types.iter().map(TaskType::as_str).collect();
            query.push(("taskTypes".into(), pyjson::to_string(&types)));
        }
        if let Some(stage) = self.stage.as_ref().filter(|s| !s.is_empty())
            && self.export_type == ExportType::Task
        {
            query.push(("stage".into(), pyjson::to_string(stage)));
        }
        if let Some(t) = &self.updated_at {
            query.push(("updatedAt".into(), t.to_json()));
        }
        if let Some(t) = &self.created_at {
            query.push(("createdAt".into(), t.to_json()));
        }
        query
    }

    /// The query parameters as a JSON object (what the official `toDict()` returns).
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.to_query()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_official_query() {
        let q = ExportOptions::default().to_query();
        let text: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            vec![
                "sendEmail=false",
                "includeMetadata=true",
                "includeHistory=true",
                "doNotNotify=true",
                "format=json",
                "type=task",
                "includeOnlyKeyFrames=false",
                "includeIdleBlurDurations=false",
                r#"taskTypes=["default"]"#,
                r#"stage=["Complete"]"#,
            ]
        );
    }

    #[test]
    fn issue_exports_drop_the_stage_and_windows_use_microseconds() {
        let mut o = ExportOptions::new(None, Some(TaskType::Benchmark));
        assert_eq!(o.stage, None);
        o.export_type = ExportType::Issue;
        o.stage = Some(vec!["Label".into()]);
        o.batches = Some(vec!["b1".into(), "b2".into()]);
        o.updated_at = Some(TimeFilter {
            from_date: Some(Timestamp::new(2024, 3, 1, 12, 0, 0, 5).unwrap()),
            to_date: None,
        });
        let q = o.to_query();
        assert!(q.iter().all(|(k, _)| k != "stage"));
        assert!(q.contains(&("batches".into(), r#"["b1", "b2"]"#.into())));
        assert!(q.contains(&("taskTypes".into(), r#"["benchmark"]"#.into())));
        assert!(q.contains(&(
            "updatedAt".into(),
            r#"{"$gt": "2024-03-01T12:00:00.000005Z"}"#.into()
        )));
    }

    /// Expected pairs are the official `ExportOptions(...).toDict().items()`.
    #[test]
    fn every_option_matches_the_official_query() {
        let mut o = ExportOptions::new(
            Some(vec!["Label".into(), "Review".into()]),
            Some(TaskType::Consensus),
        );
        o.batches = Some(vec!["b".into()]);
        o.export_format = ExportFormat::Ndjson;
        o.include_key_frames_only = true;
        o.include_idle_blur_durations = true;
        o.send_email = true;
        o.include_metadata = false;
        o.include_history = false;
        o.notify = true;
        o.updated_at = Some(TimeFilter {
            from_date: Some(Timestamp::new(2024, 1, 1, 0, 0, 0, 0).unwrap()),
            to_date: Some(Timestamp::new(2024, 2, 1, 1, 2, 3, 4).unwrap()),
        });
        o.created_at = Some(TimeFilter {
            from_date: None,
            to_date: Some(Timestamp::new(2024, 3, 1, 0, 0, 0, 0).unwrap()),
        });
        let pairs: Vec<(String, String)> = o.to_query();
        let expected = [
            ("sendEmail", "true"),
            ("includeMetadata", "false"),
            ("includeHistory", "false"),
            ("doNotNotify", "false"),
            ("format", "ndjson"),
            ("type", "task"),
            ("includeOnlyKeyFrames", "true"),
            ("includeIdleBlurDurations", "true"),
            ("batches", r#"["b"]"#),
            ("taskTypes", r#"["consensus"]"#),
            ("stage", r#"["Label", "Review"]"#),
            (
                "updatedAt",
                r#"{"$gt": "2024-01-01T00:00:00.000000Z", "$lt": "2024-02-01T01:02:03.000004Z"}"#,
            ),
            ("createdAt", r#"{"$lt": "2024-03-01T00:00:00.000000Z"}"#),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expected);
        assert_eq!(o.export_format(), ExportFormat::Ndjson);

        // Consensus exports have no default stage; an explicit empty stage sends none.
        let consensus = ExportOptions::new(None, Some(TaskType::Consensus)).to_query();
        assert!(consensus.iter().all(|(k, _)| k != "stage"));
        let empty = ExportOptions::new(Some(vec![]), None).to_query();
        assert!(empty.iter().all(|(k, _)| k != "stage"));
        // An empty window is still sent, as `{}`.
        let blank = ExportOptions {
            updated_at: Some(TimeFilter::default()),
            ..ExportOptions::default()
        };
        assert!(
            blank
                .to_query()
                .contains(&("updatedAt".into(), "{}".into()))
        );
    }
}
