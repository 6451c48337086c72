//! `TaskFilter` and its parts: the Mongo-style task filter of `get_tasks`.

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::Timestamp;
use super::enums::{ReviewStatus, TaskStatus, TaskType};
use crate::pyjson;

/// A date range on a task field, written with millisecond precision.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DateRange {
    /// Strictly after.
    pub gt: Option<Timestamp>,
    /// At or after.
    pub gte: Option<Timestamp>,
    /// Strictly before.
    pub lt: Option<Timestamp>,
    /// At or before.
    pub lte: Option<Timestamp>,
}

impl DateRange {
    /// The operators as a JSON object (`$gt`, `$gte`, `$lt`, `$lte`).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        for (op, value) in [
            ("$gt", &self.gt),
            ("$gte", &self.gte),
            ("$lt", &self.lt),
            ("$lte", &self.lte),
        ] {
            if let Some(t) = value {
                map.insert(op.into(), Value::String(t.format_millis()));
            }
        }
        Value::Object(map)
    }

    /// True when no bound is set.
    pub fn is_empty(&self) -> bool {
        self.gt.is_none() && self.gte.is_none() && self.lt.is_none() && self.lte.is_none()
    }
}

/// A numeric comparison on a task field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NumberRange {
    /// Equal to.
    pub eq: Option<Number>,
    /// Not equal to.
    pub ne: Option<Number>,
    /// Greater than.
    pub gt: Option<Number>,
    /// Greater than or equal to.
    pub gte: Option<Number>,
    /// Less than.
    pub lt: Option<Number>,
    /// Less than or equal to.
    pub lte: Option<Number>,
}

impl NumberRange {
    /// The operators as a JSON object.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        for (op, value) in [
            ("$eq", &self.eq),
            ("$ne", &self.ne),
            ("$gt", &self.gt),
            ("$gte", &self.gte),
            ("$lt", &self.lt),
            ("$lte", &self.lte),
        ] {
            if let Some(n) = value {
                map.insert(op.into(), Value::Number(n.clone()));
            }
        }
        Value::Object(map)
    }

    /// True when no comparison is set.
    pub fn is_empty(&self) -> bool {
        self.to_value().as_object().is_none_or(Map::is_empty)
    }
}

/// A string comparison on a task field (`in_list` is also read as `inList`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StringFilter {
    /// Equal to.
    pub eq: Option<String>,
    /// Not equal to.
    pub ne: Option<String>,
    /// Matches this regular expression.
    pub regex: Option<String>,
    /// One of these.
    #[serde(alias = "inList")]
    pub in_list: Option<Vec<String>>,
    /// None of these.
    pub nin: Option<Vec<String>>,
    /// The field exists (or not).
    pub exists: Option<bool>,
}

impl StringFilter {
    /// The operators as a JSON object (`$eq`, `$ne`, `$regex`, `$in`, `$nin`, `$exists`).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(v) = &self.eq {
            map.insert("$eq".into(), Value::from(v.as_str()));
        }
        if let Some(v) = &self.ne {
            map.insert("$ne".into(), Value::from(v.as_str()));
        }
        if let Some(v) = &self.regex {
            map.insert("$regex".into(), Value::from(v.as_str()));
        }
        if let Some(v) = &self.in_list {
            map.insert("$in".into(), Value::from(v.clone()));
        }
        if let Some(v) = &self.nin {
            map.insert("$nin".into(), Value::from(v.clone()));
        }
        if let Some(v) = self.exists {
            map.insert("$exists".into(), Value::Bool(v));
        }
        Value::Object(map)
    }

    /// True when no comparison is set.
    pub fn is_empty(&self) -> bool {
        self.eq.is_none()
            && self.ne.is_none()
            && self.regex.is_none()
            && self.in_list.is_none()
            && self.nin.is_none()
            && self.exists.is_none()
    }
}

/// The `stage` criterion: one stage (sent as is), any of several, or a full filter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum StageFilter {
    /// One stage id or name, sent as a bare string (as the official SDK does).
    Is(String),
    /// Any of these stages (`$in`).
    AnyOf(Vec<String>),
    /// A full string filter.
    Filter(StringFilter),
}

/// The `batches` criterion: any of several batches, or a full filter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum BatchFilter {
    /// Any of these batches (`$in`).
    AnyOf(Vec<String>),
    /// A full string filter.
    Filter(StringFilter),
}

/// A string field criterion: equality or a full filter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TextFilter {
    /// Equal to (`$eq`).
    Is(String),
    /// A full string filter.
    Filter(StringFilter),
}

impl From<&str> for TextFilter {
    fn from(value: &str) -> Self {
        TextFilter::Is(value.to_string())
    }
}

impl From<String> for TextFilter {
    fn from(value: String) -> Self {
        TextFilter::Is(value)
    }
}

impl From<StringFilter> for TextFilter {
    fn from(value: StringFilter) -> Self {
        TextFilter::Filter(value)
    }
}

/// Enum criteria compare with the enum's wire value, as the official SDK does.
macro_rules! text_filter_from_enum {
    ($($ty:ty),+) => {$(
        impl From<$ty> for TextFilter {
            fn from(value: $ty) -> Self {
                TextFilter::Is(value.as_str().to_string())
            }
        }
    )+};
}
text_filter_from_enum!(TaskStatus, ReviewStatus, TaskType);

impl From<&str> for StageFilter {
    fn from(value: &str) -> Self {
        StageFilter::Is(value.to_string())
    }
}

impl From<Vec<String>> for StageFilter {
    fn from(value: Vec<String>) -> Self {
        StageFilter::AnyOf(value)
    }
}

impl From<StringFilter> for StageFilter {
    fn from(value: StringFilter) -> Self {
        StageFilter::Filter(value)
    }
}

impl From<Vec<String>> for BatchFilter {
    fn from(value: Vec<String>) -> Self {
        BatchFilter::AnyOf(value)
    }
}

impl From<StringFilter> for BatchFilter {
    fn from(value: StringFilter) -> Self {
        BatchFilter::Filter(value)
    }
}

impl From<i64> for CountFilter {
    fn from(value: i64) -> Self {
        CountFilter::Is(value.into())
    }
}

impl From<NumberRange> for CountFilter {
    fn from(value: NumberRange) -> Self {
        CountFilter::Range(value)
    }
}

/// A numeric field criterion: equality or a range.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum CountFilter {
    /// Equal to (`$eq`).
    Is(Number),
    /// A range.
    Range(NumberRange),
}

/// Server-side task filtering for `get_tasks` and `iter_tasks`.
///
/// Deserialises from the Python attribute names (`review_status`, `created_at`, ...)
/// or their camelCase forms (`reviewStatus`, `createdAt`, ...); `null` is "not set".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskFilter {
    /// Stage.
    pub stage: Option<StageFilter>,
    /// Batches.
    pub batches: Option<BatchFilter>,
    /// Task status (`TODO`, `Completed`, ...).
    pub status: Option<TextFilter>,
    /// Review status.
    #[serde(alias = "reviewStatus")]
    pub review_status: Option<TextFilter>,
    /// Task type (`default`, `consensus`, `benchmark`).
    #[serde(alias = "taskType")]
    pub task_type: Option<TextFilter>,
    /// Assignee email.
    pub assignee: Option<TextFilter>,
    /// Asset external id.
    #[serde(alias = "externalId")]
    pub external_id: Option<TextFilter>,
    /// Creation time.
    #[serde(alias = "createdAt")]
    pub created_at: Option<DateRange>,
    /// Last update time.
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<DateRange>,
    /// Creator.
    #[serde(alias = "createdBy")]
    pub created_by: Option<TextFilter>,
    /// Last updater.
    #[serde(alias = "updatedBy")]
    pub updated_by: Option<TextFilter>,
    /// Priority.
    pub priority: Option<CountFilter>,
    /// Duration.
    pub duration: Option<NumberRange>,
    /// Total duration.
    #[serde(alias = "totalDuration")]
    pub total_duration: Option<NumberRange>,
    /// Open issue count.
    #[serde(alias = "openIssuesCount")]
    pub open_issues_count: Option<CountFilter>,
    /// Draft flag.
    #[serde(alias = "isDraft")]
    pub is_draft: Option<bool>,
    /// Skipped flag.
    #[serde(alias = "isSkipped")]
    pub is_skipped: Option<bool>,
    /// Benchmark flag.
    #[serde(alias = "isBenchmark")]
    pub is_benchmark: Option<bool>,
}

fn text_value(filter: &TextFilter) -> Option<Value> {
    match filter {
        TextFilter::Is(v) => Some(serde_json::json!({ "$eq": v })),
        TextFilter::Filter(f) => (!f.is_empty()).then(|| f.to_value()),
    }
}

fn count_value(filter: &CountFilter) -> Option<Value> {
    match filter {
        CountFilter::Is(n) => Some(serde_json::json!({ "$eq": n })),
        CountFilter::Range(r) => (!r.is_empty()).then(|| r.to_value()),
    }
}

impl TaskFilter {
    /// The filter object, keys in the official order; empty criteria are left out.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                map.insert(key.to_string(), v);
            }
        };
        put(
            "stage",
            self.stage.as_ref().and_then(|s| match s {
                StageFilter::Is(name) => Some(Value::from(name.as_str())),
                StageFilter::AnyOf(list) => Some(serde_json::json!({ "$in": list })),
                StageFilter::Filter(f) => (!f.is_empty()).then(|| f.to_value()),
            }),
        );
        put(
            "batches",
            self.batches.as_ref().and_then(|b| match b {
                BatchFilter::AnyOf(list) => Some(serde_json::json!({ "$in": list })),
                BatchFilter::Filter(f) => (!f.is_empty()).then(|| f.to_value()),
            }),
        );
        put("status", self.status.as_ref().and_then(text_value));
        put(
            "reviewStatus",
            self.review_status.as_ref().and_then(text_value),
        );
        put("type", self.task_type.as_ref().and_then(text_value));
        put("assignee", self.assignee.as_ref().and_then(text_value));
        put("externalId", self.external_id.as_ref().and_then(text_value));
        let date = |d: &Option<DateRange>| {
            d.as_ref()
                .filter(|d| !d.is_empty())
                .map(DateRange::to_value)
        };
        put("createdAt", date(&self.created_at));
        put("updatedAt", date(&self.updated_at));
        put("createdBy", self.created_by.as_ref().and_then(text_value));
        put("updatedBy", self.updated_by.as_ref().and_then(text_value));
        put("priority", self.priority.as_ref().and_then(count_value));
        let range = |r: &Option<NumberRange>| {
            r.as_ref()
                .filter(|r| !r.is_empty())
                .map(NumberRange::to_value)
        };
        put("duration", range(&self.duration));
        put("totalDuration", range(&self.total_duration));
        put(
            "openIssuesCount",
            self.open_issues_count.as_ref().and_then(count_value),
        );
        let flag = |b: Option<bool>| b.map(|b| serde_json::json!({ "$eq": b }));
        put("isDraft", flag(self.is_draft));
        put("isSkipped", flag(self.is_skipped));
        put("isBenchmark", flag(self.is_benchmark));
        Value::Object(map)
    }

    /// The filter as Python's `json.dumps` writes it (the `filter` query parameter).
    pub fn to_json(&self) -> String {
        pyjson::to_string(&self.to_value())
    }

    /// True when the filter would constrain nothing.
    pub fn is_empty(&self) -> bool {
        self.to_value().as_object().is_none_or(Map::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i32, m: u8, d: u8) -> Timestamp {
        Timestamp::new(y, m, d, 0, 0, 0, 0).unwrap()
    }

    #[test]
    fn empty_filters_serialise_to_nothing() {
        assert!(TaskFilter::default().is_empty());
        let f = TaskFilter {
            status: Some(TextFilter::Filter(StringFilter::default())),
            duration: Some(NumberRange::default()),
            created_at: Some(DateRange::default()),
            ..TaskFilter::default()
        };
        assert!(f.is_empty());
        assert_eq!(f.to_json(), "{}");
    }

    #[test]
    fn every_field_in_official_order_and_format() {
        let f = TaskFilter {
            stage: Some(StageFilter::AnyOf(vec!["Label".into(), "Review".into()])),
            batches: Some(BatchFilter::AnyOf(vec!["b1".into()])),
            status: Some("TODO".into()),
            review_status: Some(TextFilter::Filter(StringFilter {
                ne: Some("Rejected".into()),
                ..Default::default()
            })),
            task_type: Some("default".into()),
            assignee: Some(TextFilter::Filter(StringFilter {
                regex: Some("@x.com$".into()),
                exists: Some(true),
                ..Default::default()
            })),
            external_id: Some("a.jpg".into()),
            created_at: Some(DateRange {
                gte: Some(ts(2024, 1, 1)),
                lt: Some(ts(2024, 2, 1)),
                ..Default::default()
            }),
            updated_at: None,
            created_by: None,
            updated_by: Some("u@x.com".into()),
            priority: Some(CountFilter::Is(5.into())),
            duration: Some(NumberRange {
                gt: Number::from_f64(1.5),
                ..Default::default()
            }),
            total_duration: None,
            open_issues_count: Some(CountFilter::Range(NumberRange {
                gte: Some(1.into()),
                ..Default::default()
            })),
            is_draft: Some(false),
            is_skipped: None,
            is_benchmark: Some(true),
        };
        assert_eq!(
            f.to_json(),
            r#"{"stage": {"$in": ["Label", "Review"]}, "batches": {"$in": ["b1"]}, "status": {"$eq": "TODO"}, "reviewStatus": {"$ne": "Rejected"}, "type": {"$eq": "default"}, "assignee": {"$regex": "@x.com$", "$exists": true}, "externalId": {"$eq": "a.jpg"}, "createdAt": {"$gte": "2024-01-01T00:00:00.000Z", "$lt": "2024-02-01T00:00:00.000Z"}, "updatedBy": {"$eq": "u@x.com"}, "priority": {"$eq": 5}, "duration": {"$gt": 1.5}, "openIssuesCount": {"$gte": 1}, "isDraft": {"$eq": false}, "isBenchmark": {"$eq": true}}"#
        );
    }

    #[test]
    fn a_single_stage_is_sent_bare() {
        let f = TaskFilter {
            stage: Some(StageFilter::Is("Complete".into())),
            ..Default::default()
        };
        assert_eq!(f.to_json(), r#"{"stage": "Complete"}"#);
        let g = TaskFilter {
            stage: Some(StageFilter::Filter(StringFilter {
                nin: Some(vec!["A".into()]),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(g.to_json(), r#"{"stage": {"$nin": ["A"]}}"#);
    }

    /// The expected text is the official `TaskFilter(...).to_json()` for the same
    /// arguments.
    #[test]
    fn filters_and_enums_match_the_official_json() {
        let f = TaskFilter {
            stage: Some(
                StringFilter {
                    eq: Some("Label".into()),
                    in_list: Some(vec!["a".into(), "b".into()]),
                    exists: Some(false),
                    ..Default::default()
                }
                .into(),
            ),
            batches: Some(
                StringFilter {
                    nin: Some(vec!["x".into()]),
                    ..Default::default()
                }
                .into(),
            ),
            status: Some(TaskStatus::Ready.into()),
            review_status: Some(ReviewStatus::Accepted.into()),
            task_type: Some(
                StringFilter {
                    regex: Some("^d".into()),
                    ..Default::default()
                }
                .into(),
            ),
            assignee: Some("a@b.c".into()),
            external_id: Some(
                StringFilter {
                    ne: Some("e".into()),
                    ..Default::default()
                }
                .into(),
            ),
            created_at: Some(DateRange {
                gt: Some(Timestamp::new(2024, 1, 2, 3, 4, 5, 678_901).unwrap()),
                lte: Some(Timestamp::new(2024, 12, 31, 23, 59, 59, 999_999).unwrap()),
                ..Default::default()
            }),
            updated_at: Some(DateRange {
                lt: Some(ts(2023, 1, 1)),
                ..Default::default()
            }),
            created_by: Some(
                StringFilter {
                    eq: Some("c".into()),
                    ..Default::default()
                }
                .into(),
            ),
            updated_by: Some("u".into()),
            priority: Some(CountFilter::Range(NumberRange {
                eq: Some(0.into()),
                ne: Number::from_f64(1.0),
                gt: Some((-2).into()),
                gte: Number::from_f64(2.5),
                lt: Some(10.into()),
                lte: None,
            })),
            duration: Some(NumberRange {
                gte: Number::from_f64(0.1),
                ..Default::default()
            }),
            total_duration: Some(NumberRange {
                lt: Some(3.into()),
                ..Default::default()
            }),
            open_issues_count: Some(0.into()),
            is_draft: Some(true),
            is_skipped: Some(false),
            is_benchmark: Some(false),
        };
        assert_eq!(
            f.to_json(),
            r#"{"stage": {"$eq": "Label", "$in": ["a", "b"], "$exists": false}, "batches": {"$nin": ["x"]}, "status": {"$eq": "READY"}, "reviewStatus": {"$eq": "Accepted"}, "type": {"$regex": "^d"}, "assignee": {"$eq": "a@b.c"}, "externalId": {"$ne": "e"}, "createdAt": {"$gt": "2024-01-02T03:04:05.678Z", "$lte": "2024-12-31T23:59:59.999Z"}, "updatedAt": {"$lt": "2023-01-01T00:00:00.000Z"}, "createdBy": {"$eq": "c"}, "updatedBy": {"$eq": "u"}, "priority": {"$eq": 0, "$ne": 1.0, "$gt": -2, "$gte": 2.5, "$lt": 10}, "duration": {"$gte": 0.1}, "totalDuration": {"$lt": 3}, "openIssuesCount": {"$eq": 0}, "isDraft": {"$eq": true}, "isSkipped": {"$eq": false}, "isBenchmark": {"$eq": false}}"#
        );
        // Empty lists are still criteria; an empty range is none.
        let g = TaskFilter {
            stage: Some(Vec::<String>::new().into()),
            batches: Some(Vec::<String>::new().into()),
            priority: Some(NumberRange::default().into()),
            ..Default::default()
        };
        assert_eq!(
            g.to_json(),
            r#"{"stage": {"$in": []}, "batches": {"$in": []}}"#
        );
        assert!(!g.is_empty());
    }
}
