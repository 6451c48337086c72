//! The Python model objects (attribute holders of `imerit_ango.models`) as core models,
//! and the `_native` functions those classes call for ids, colours, flattening,
//! `toDict()` and the merge rule. The serialisation itself is always the core's.

use std::str::FromStr;

use ango_core as core;
use core::models::{
    self as cm, BatchFilter, CountFilter, DateRange, NumberRange, StageFilter, StringFilter,
    TaskFilter, TextFilter, TimeFilter, Timestamp,
};
use core::ontology::{
    self, CategorySchema, ClassificationCategory, RelationCategory, ToolCategory,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{from_py, to_py};
use crate::errors::IntoPyResult;

/// `obj.name`, or `None` when the attribute is missing or `None`.
pub fn attr<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    match obj.getattr(name) {
        Ok(value) if value.is_none() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyAttributeError>(obj.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An `Enum` member's value, or the object itself.
pub fn enum_value<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let enum_type = obj.py().import("enum")?.getattr("Enum")?;
    if obj.is_instance(&enum_type)? {
        obj.getattr("value")
    } else {
        Ok(obj.clone())
    }
}

/// A string attribute (an `Enum` member gives its value).
fn opt_str(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    attr(obj, name)?
        .map(|v| enum_value(&v)?.extract::<String>())
        .transpose()
}

fn str_or_default(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    Ok(opt_str(obj, name)?.unwrap_or_default())
}

/// A boolean attribute with Python truthiness (the official `toDict` copies values).
fn flag(obj: &Bound<'_, PyAny>, name: &str, default: bool) -> PyResult<bool> {
    attr(obj, name)?.map_or(Ok(default), |v| v.is_truthy())
}

fn opt_flag(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<bool>> {
    attr(obj, name)?.map(|v| v.is_truthy()).transpose()
}

fn opt_strings(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<Vec<String>>> {
    attr(obj, name)?.map(|v| strings_of(&v)).transpose()
}

/// A list of strings (enum members give their values).
pub fn strings_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("expected a list of strings, got str"));
    }
    obj.try_iter()?
        .map(|item| enum_value(&item?)?.extract::<String>())
        .collect()
}

/// A core wire enum from an `Enum` member or its value.
pub fn wire<T: FromStr<Err = core::Error>>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    let text: String = enum_value(obj)?.extract()?;
    text.parse().py_err(obj.py())
}

fn opt_wire<T: FromStr<Err = core::Error>>(
    obj: &Bound<'_, PyAny>,
    name: &str,
) -> PyResult<Option<T>> {
    attr(obj, name)?.map(|v| wire(&v)).transpose()
}

// ------------------------------------------------------------------------ time

/// A Python `datetime` as a core timestamp. Its wall-clock fields are used as given
/// (the official `strftime` ignores the time zone too).
pub fn timestamp(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let field = |name: &str| -> PyResult<i64> {
        obj.getattr(name).and_then(|v| v.extract()).map_err(|_| {
            PyTypeError::new_err(format!("expected a datetime, got {}", type_name(obj)))
        })
    };
    let (y, mo, d) = (field("year")?, field("month")?, field("day")?);
    // A `date` has no time fields: midnight, as `strftime` writes it.
    let time = |name: &str| -> PyResult<i64> {
        if obj.hasattr(name)? {
            field(name)
        } else {
            Ok(0)
        }
    };
    let (h, mi, s, us) = (
        time("hour")?,
        time("minute")?,
        time("second")?,
        time("microsecond")?,
    );
    let narrow =
        |v: i64| u8::try_from(v).map_err(|_| PyValueError::new_err("date field out of range"));
    Timestamp::new(
        i32::try_from(y).map_err(|_| PyValueError::new_err("year out of range"))?,
        narrow(mo)?,
        narrow(d)?,
        narrow(h)?,
        narrow(mi)?,
        narrow(s)?,
        u32::try_from(us).map_err(|_| PyValueError::new_err("microsecond out of range"))?,
    )
    .py_err(obj.py())
}

fn opt_timestamp(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<Timestamp>> {
    attr(obj, name)?.map(|v| timestamp(&v)).transpose()
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// `TimeFilter` (`from_date`, `to_date`).
pub fn time_filter(obj: &Bound<'_, PyAny>) -> PyResult<TimeFilter> {
    Ok(TimeFilter {
        from_date: opt_timestamp(obj, "from_date")?,
        to_date: opt_timestamp(obj, "to_date")?,
    })
}

// ---------------------------------------------------------------- task filter

fn date_range(obj: &Bound<'_, PyAny>) -> PyResult<DateRange> {
    Ok(DateRange {
        gt: opt_timestamp(obj, "gt")?,
        gte: opt_timestamp(obj, "gte")?,
        lt: opt_timestamp(obj, "lt")?,
        lte: opt_timestamp(obj, "lte")?,
    })
}

fn number(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Number> {
    match from_py(obj)? {
        Value::Number(n) => Ok(n),
        _ => Err(PyTypeError::new_err(format!(
            "expected a number, got {}",
            type_name(obj)
        ))),
    }
}

fn opt_number(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<serde_json::Number>> {
    attr(obj, name)?.map(|v| number(&v)).transpose()
}

fn number_range(obj: &Bound<'_, PyAny>) -> PyResult<NumberRange> {
    Ok(NumberRange {
        eq: opt_number(obj, "eq")?,
        ne: opt_number(obj, "ne")?,
        gt: opt_number(obj, "gt")?,
        gte: opt_number(obj, "gte")?,
        lt: opt_number(obj, "lt")?,
        lte: opt_number(obj, "lte")?,
    })
}

fn string_filter(obj: &Bound<'_, PyAny>) -> PyResult<StringFilter> {
    Ok(StringFilter {
        eq: opt_str(obj, "eq")?,
        ne: opt_str(obj, "ne")?,
        regex: opt_str(obj, "regex")?,
        in_list: opt_strings(obj, "in_list")?,
        nin: opt_strings(obj, "nin")?,
        exists: opt_flag(obj, "exists")?,
    })
}

fn is_string_filter(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("in_list")? && obj.hasattr("regex")?)
}

fn text_filter(obj: &Bound<'_, PyAny>) -> PyResult<TextFilter> {
    if is_string_filter(obj)? {
        Ok(TextFilter::Filter(string_filter(obj)?))
    } else {
        Ok(TextFilter::Is(
            enum_value(obj)?.str()?.to_cow()?.into_owned(),
        ))
    }
}

fn count_filter(obj: &Bound<'_, PyAny>) -> PyResult<CountFilter> {
    if obj.hasattr("lte")? {
        Ok(CountFilter::Range(number_range(obj)?))
    } else {
        Ok(CountFilter::Is(number(obj)?))
    }
}

fn opt_with<T>(
    obj: &Bound<'_, PyAny>,
    name: &str,
    convert: impl Fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    attr(obj, name)?.map(|v| convert(&v)).transpose()
}

/// `TaskFilter` as the core's filter.
pub fn task_filter(obj: &Bound<'_, PyAny>) -> PyResult<TaskFilter> {
    let stage = opt_with(obj, "stage", |v| {
        if is_string_filter(v)? {
            Ok(StageFilter::Filter(string_filter(v)?))
        } else if v.is_instance_of::<PyString>() {
            Ok(StageFilter::Is(v.extract()?))
        } else {
            Ok(StageFilter::AnyOf(strings_of(v)?))
        }
    })?;
    let batches = opt_with(obj, "batches", |v| {
        if is_string_filter(v)? {
            Ok(BatchFilter::Filter(string_filter(v)?))
        } else {
            Ok(BatchFilter::AnyOf(strings_of(v)?))
        }
    })?;
    Ok(TaskFilter {
        stage,
        batches,
        status: opt_with(obj, "status", text_filter)?,
        review_status: opt_with(obj, "review_status", text_filter)?,
        task_type: opt_with(obj, "task_type", text_filter)?,
        assignee: opt_with(obj, "assignee", text_filter)?,
        external_id: opt_with(obj, "external_id", text_filter)?,
        created_at: opt_with(obj, "created_at", date_range)?,
        updated_at: opt_with(obj, "updated_at", date_range)?,
        created_by: opt_with(obj, "created_by", text_filter)?,
        updated_by: opt_with(obj, "updated_by", text_filter)?,
        priority: opt_with(obj, "priority", count_filter)?,
        duration: opt_with(obj, "duration", number_range)?,
        total_duration: opt_with(obj, "total_duration", number_range)?,
        open_issues_count: opt_with(obj, "open_issues_count", count_filter)?,
        is_draft: opt_flag(obj, "is_draft")?,
        is_skipped: opt_flag(obj, "is_skipped")?,
        is_benchmark: opt_flag(obj, "is_benchmark")?,
    })
}

// -------------------------------------------------------------- export options

/// `ExportOptions` as the core's options.
pub fn export_options(obj: &Bound<'_, PyAny>) -> PyResult<cm::ExportOptions> {
    let task_types = match attr(obj, "task_types")? {
        Some(list) => list
            .try_iter()?
            .map(|t| wire::<cm::TaskType>(&t?))
            .collect::<PyResult<Vec<_>>>()?,
        None => vec![cm::TaskType::Default],
    };
    let defaults = cm::ExportOptions::new(None, None);
    Ok(cm::ExportOptions {
        stage: opt_strings(obj, "stage")?,
        batches: opt_strings(obj, "batches")?,
        task_types,
        export_format: opt_wire(obj, "export_format")?.unwrap_or(defaults.export_format),
        export_type: opt_wire(obj, "export_type")?.unwrap_or(defaults.export_type),
        include_key_frames_only: flag(obj, "include_key_frames_only", false)?,
        include_idle_blur_durations: flag(obj, "include_idle_blur_durations", false)?,
        send_email: flag(obj, "send_email", false)?,
        include_metadata: flag(obj, "include_metadata", true)?,
        include_history: flag(obj, "include_history", true)?,
        notify: flag(obj, "notify", false)?,
        updated_at: opt_with(obj, "updated_at", time_filter)?,
        created_at: opt_with(obj, "created_at", time_filter)?,
    })
}

// --------------------------------------------------------- organization models

fn project_assignment(obj: &Bound<'_, PyAny>) -> PyResult<cm::ProjectAssignment> {
    Ok(cm::ProjectAssignment {
        project_id: str_or_default(obj, "project_id")?,
        project_role: wire(&obj.getattr("project_role")?)?,
    })
}

/// `Invitation` as the core's invitation.
pub fn invitation(obj: &Bound<'_, PyAny>) -> PyResult<cm::Invitation> {
    let project_assignments = opt_with(obj, "project_assignments", |list| {
        list.try_iter()?
            .map(|a| project_assignment(&a?))
            .collect::<PyResult<Vec<_>>>()
    })?;
    Ok(cm::Invitation {
        to: opt_strings(obj, "to")?.unwrap_or_default(),
        organization_role: wire(&obj.getattr("organization_role")?)?,
        project_assignments,
    })
}

/// `RoleUpdate` as the core's role update.
pub fn role_update(obj: &Bound<'_, PyAny>) -> PyResult<cm::RoleUpdate> {
    Ok(cm::RoleUpdate {
        email: str_or_default(obj, "email")?,
        organization_role: wire(&obj.getattr("organization_role")?)?,
    })
}

/// `Storage` as the core's storage (attribute names as the official class keeps them).
pub fn storage(obj: &Bound<'_, PyAny>) -> PyResult<cm::Storage> {
    let mut storage = cm::Storage::new(
        str_or_default(obj, "name")?,
        wire(&obj.getattr("provider")?)?,
    );
    storage.public_key = opt_str(obj, "publicKey")?;
    storage.private_key = opt_str(obj, "privateKey")?;
    if let Some(region) = opt_str(obj, "region")? {
        storage.region = region;
    }
    storage.credentials = opt_str(obj, "credentials")?;
    Ok(storage)
}

/// `LLM` as the core's LLM configuration.
pub fn llm(obj: &Bound<'_, PyAny>) -> PyResult<cm::Llm> {
    Ok(cm::Llm {
        name: str_or_default(obj, "name")?,
        provider: wire(&obj.getattr("provider")?)?,
        model: str_or_default(obj, "model")?,
        api_key: str_or_default(obj, "api_key")?,
        base_url: opt_str(obj, "base_url")?,
        is_streamable: flag(obj, "is_streamable", false)?,
    })
}

// ------------------------------------------------------------------ annotations

fn value_items(obj: Option<Bound<'_, PyAny>>) -> PyResult<Vec<Value>> {
    match obj.map(|o| from_py(&o)).transpose()? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(PyTypeError::new_err("expected a list of dicts")),
    }
}

/// `Answer` (or a dict with `objects`/`classifications`/`relations`).
pub fn answer(obj: &Bound<'_, PyAny>) -> PyResult<cm::Answer> {
    if let Ok(dict) = obj.cast::<PyDict>() {
        return Ok(cm::Answer {
            objects: value_items(dict.get_item("objects")?)?,
            classifications: value_items(dict.get_item("classifications")?)?,
            relations: value_items(dict.get_item("relations")?)?,
        });
    }
    Ok(cm::Answer {
        objects: value_items(attr(obj, "objects")?)?,
        classifications: value_items(attr(obj, "classifications")?)?,
        relations: value_items(attr(obj, "relations")?)?,
    })
}

/// `AnnotationPayload` as the core's payload (raw brush arrays are not part of it).
pub fn annotation_payload(obj: &Bound<'_, PyAny>) -> PyResult<cm::AnnotationPayload> {
    Ok(cm::AnnotationPayload {
        answer: opt_with(obj, "answer", answer)?,
        brush_data_url: opt_str(obj, "brush_data_url")?,
        medical_brush_data_url: opt_str(obj, "medical_brush_data_url")?,
    })
}

// ------------------------------------------------------------ asset builder

/// `AssetBuilderTemplate` as the core's template (checked by the core when sent).
pub fn asset_builder_template(obj: &Bound<'_, PyAny>) -> PyResult<cm::AssetBuilderTemplate> {
    let mut data_config = Vec::new();
    if let Some(config) = attr(obj, "data_config")? {
        let config = config
            .cast::<PyDict>()
            .map_err(|_| PyValueError::new_err("data_config must be a dictionary"))?;
        for (key, item) in config.iter() {
            let kind = match item.cast::<PyDict>() {
                Ok(d) => d.get_item("type")?.map(|v| v.extract()).transpose()?,
                Err(_) => opt_str(&item, "type")?,
            };
            let (storage, include) = match item.cast::<PyDict>() {
                Ok(d) => (
                    d.get_item("storage")?
                        .filter(|v| !v.is_none())
                        .map(|v| v.extract())
                        .transpose()?,
                    d.get_item("includeInExport")?
                        .map(|v| v.is_truthy())
                        .transpose()?
                        .unwrap_or(false),
                ),
                Err(_) => (
                    opt_str(&item, "storage")?,
                    flag(&item, "include_in_export", false)?,
                ),
            };
            let item = cm::DataConfigItem::new(kind.unwrap_or_default(), storage, include)
                .py_err(obj.py())?;
            data_config.push((key.extract::<String>()?, item));
        }
    }
    let pre_label_config = match attr(obj, "pre_label_config")?
        .map(|v| from_py(&v))
        .transpose()?
    {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(PyValueError::new_err(
                "pre_label_config must be a dictionary",
            ));
        }
    };
    Ok(cm::AssetBuilderTemplate {
        name: str_or_default(obj, "name")?,
        template: str_or_default(obj, "template")?,
        external_id_column: str_or_default(obj, "external_id_column")?,
        data_config,
        description: str_or_default(obj, "description")?,
        batch_column: str_or_default(obj, "batch_column")?,
        pre_label_config,
    })
}

// ------------------------------------------------------------ chat assets

/// `ChatAssetCreationConfig` as the core's configuration.
pub fn chat_config(obj: &Bound<'_, PyAny>) -> PyResult<cm::ChatAssetCreationConfig> {
    let number_of_assets = match attr(obj, "number_of_assets")? {
        Some(n) => n.extract::<i64>().map(|n| u64::try_from(n).unwrap_or(0))?,
        None => 0,
    };
    let naming_strategy = match attr(obj, "naming_strategy")? {
        Some(s) => cm::NamingStrategy {
            kind: opt_str(&s, "type")?.unwrap_or_else(|| "random".into()),
        },
        None => cm::NamingStrategy::default(),
    };
    let conversation_json = match attr(obj, "conversation_json")? {
        Some(path) => Some(std::path::PathBuf::from(
            path.py()
                .import("os")?
                .call_method1("fspath", (path,))?
                .extract::<String>()?,
        )),
        None => None,
    };
    Ok(cm::ChatAssetCreationConfig {
        number_of_assets,
        storage_id: opt_str(obj, "storage_id")?,
        bucket_name: opt_str(obj, "bucket_name")?,
        llm_config_id: attr(obj, "llm_config")?
            .map(|c| opt_str(&c, "id"))
            .transpose()?
            .flatten(),
        naming_strategy,
        conversation_json,
    })
}

// ---------------------------------------------------------------- ontology

fn label_option_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_instance_of::<PyDict>() {
        return from_py(obj);
    }
    let mut map = Map::new();
    map.insert("value".into(), Value::from(str_or_default(obj, "value")?));
    map.insert(
        "schemaId".into(),
        Value::from(str_or_default(obj, "schemaId")?),
    );
    Ok(Value::Object(map))
}

fn tree_option_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_instance_of::<PyDict>() {
        return from_py(obj);
    }
    let mut map = Map::new();
    map.insert("title".into(), Value::from(str_or_default(obj, "title")?));
    map.insert(
        "children".into(),
        list_of(obj, "children", tree_option_value)?,
    );
    map.insert("key".into(), Value::from(str_or_default(obj, "key")?));
    map.insert("value".into(), Value::from(str_or_default(obj, "value")?));
    Ok(Value::Object(map))
}

fn list_of(
    obj: &Bound<'_, PyAny>,
    name: &str,
    convert: fn(&Bound<'_, PyAny>) -> PyResult<Value>,
) -> PyResult<Value> {
    let items = match attr(obj, name)? {
        Some(list) => list
            .try_iter()?
            .map(|item| convert(&item?))
            .collect::<PyResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    Ok(Value::Array(items))
}

/// A category object's attributes in its dict form, for the core's `from_value`.
fn category_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_instance_of::<PyDict>() {
        return from_py(obj);
    }
    let mut map = Map::new();
    let text = |v: Option<String>| v.map_or(Value::Null, Value::from);
    map.insert("tool".into(), text(opt_str(obj, "tool")?));
    map.insert("title".into(), Value::from(str_or_default(obj, "title")?));
    map.insert(
        "required".into(),
        Value::Bool(flag(obj, "required", false)?),
    );
    map.insert(
        "columnField".into(),
        Value::Bool(flag(obj, "columnField", false)?),
    );
    map.insert("color".into(), text(opt_str(obj, "color")?));
    map.insert(
        "shortcutKey".into(),
        Value::from(str_or_default(obj, "shortcutKey")?),
    );
    map.insert(
        "classifications".into(),
        list_of(obj, "classifications", category_value)?,
    );
    map.insert(
        "options".into(),
        list_of(obj, "options", label_option_value)?,
    );
    map.insert("schemaId".into(), text(opt_str(obj, "schemaId")?));
    if obj.hasattr("treeOptions")? {
        map.insert(
            "treeOptions".into(),
            list_of(obj, "treeOptions", tree_option_value)?,
        );
        for key in [
            "regex",
            "parentOptionId",
            "exportName",
            "displayName",
            "abbreviatedName",
            "attributeType",
        ] {
            map.insert(key.into(), text(opt_str(obj, key)?));
        }
        for key in ["frameSpecific", "showDropdown", "richText"] {
            map.insert(key.into(), Value::Bool(flag(obj, key, false)?));
        }
        map.insert(
            "defaultValue".into(),
            opt_flag(obj, "defaultValue")?.map_or(Value::Null, Value::Bool),
        );
    }
    Ok(Value::Object(map))
}

/// One ontology category, whichever kind its `tool` names.
pub enum Category {
    /// A tool.
    Tool(ToolCategory),
    /// A classification.
    Classification(ClassificationCategory),
    /// A relation.
    Relation(RelationCategory),
}

impl Category {
    fn to_value(&self) -> Value {
        match self {
            Category::Tool(c) => c.to_value(),
            Category::Classification(c) => c.to_value(),
            Category::Relation(c) => c.to_value(),
        }
    }
}

/// A `ToolCategory`, `ClassificationCategory` or `RelationCategory` (or its dict) as
/// the core's category.
pub fn category(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Category> {
    let value = category_value(obj)?;
    let kind = value
        .get("tool")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let category = if kind.parse::<ontology::Tool>().is_ok() {
        ToolCategory::from_value(&value).map(Category::Tool)
    } else if kind.parse::<ontology::Relation>().is_ok() {
        RelationCategory::from_value(&value).map(Category::Relation)
    } else {
        ClassificationCategory::from_value(&value).map(Category::Classification)
    };
    category.py_err(py)
}

fn categories<T>(
    py: Python<'_>,
    list: Option<&Bound<'_, PyAny>>,
    pick: fn(Category) -> Option<T>,
    what: &str,
) -> PyResult<Vec<T>> {
    let Some(list) = list.filter(|l| !l.is_none()) else {
        return Ok(Vec::new());
    };
    list.try_iter()?
        .map(|item| {
            pick(category(py, &item?)?)
                .ok_or_else(|| PyTypeError::new_err(format!("expected a {what} category")))
        })
        .collect()
}

/// The label set of `create_label_set`.
pub fn category_schema(
    py: Python<'_>,
    tools: Option<&Bound<'_, PyAny>>,
    classifications: Option<&Bound<'_, PyAny>>,
    relations: Option<&Bound<'_, PyAny>>,
) -> PyResult<CategorySchema> {
    Ok(CategorySchema {
        tools: categories(
            py,
            tools,
            |c| match c {
                Category::Tool(t) => Some(t),
                _ => None,
            },
            "tool",
        )?,
        classifications: categories(
            py,
            classifications,
            |c| match c {
                Category::Classification(t) => Some(t),
                _ => None,
            },
            "classification",
        )?,
        relations: categories(
            py,
            relations,
            |c| match c {
                Category::Relation(t) => Some(t),
                _ => None,
            },
            "relation",
        )?,
    })
}

// ------------------------------------------------------- `_native` functions

fn dict<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, value)
}

/// A new 32-hex schema id.
#[pyfunction]
pub fn new_schema_id() -> String {
    ontology::new_schema_id()
}

/// A random `#RRGGBB` colour.
#[pyfunction]
pub fn random_color() -> String {
    ontology::random_color()
}

/// Tree options flattened into `(path, schemaId)` pairs, paths prefixed with
/// `"{title} / "` when a title is given.
#[pyfunction]
#[pyo3(signature = (nodes, title=None))]
pub fn flatten_tree_options(
    nodes: &Bound<'_, PyAny>,
    title: Option<String>,
) -> PyResult<Vec<(String, String)>> {
    crate::blocking::shield(|| {
        let items: Vec<Bound<'_, PyAny>> =
            if nodes.is_instance_of::<PyList>() || nodes.is_instance_of::<PyTuple>() {
                nodes.try_iter()?.collect::<PyResult<_>>()?
            } else {
                vec![nodes.clone()]
            };
        let mut trees = Vec::with_capacity(items.len());
        for item in &items {
            let value = tree_option_value(item)?;
            trees.push(tree_from_value(&value));
        }
        let prefix = title.filter(|t| !t.is_empty()).map(|t| format!("{t} / "));
        Ok(ontology::flatten_tree_options(&trees)
            .into_iter()
            .map(|o| match &prefix {
                Some(p) => (format!("{p}{}", o.value), o.schema_id),
                None => (o.value, o.schema_id),
            })
            .collect())
    })
}

fn tree_from_value(value: &Value) -> ontology::TreeOption {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let children = value
        .get("children")
        .and_then(Value::as_array)
        .map(|c| c.iter().map(tree_from_value).collect())
        .unwrap_or_default();
    ontology::TreeOption::with_key(
        text("title").unwrap_or_default(),
        text("key"),
        text("value"),
    )
    .children(children)
}

/// `LabelOption.toDict()`.
#[pyfunction]
pub fn label_option_to_dict<'py>(
    py: Python<'py>,
    option: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let option = ontology::LabelOption::with_schema_id(
            str_or_default(option, "value")?,
            str_or_default(option, "schemaId")?,
        );
        dict(py, &option.to_value())
    })
}

/// `TreeOption.toDict()`.
#[pyfunction]
pub fn tree_option_to_dict<'py>(
    py: Python<'py>,
    option: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &tree_from_value(&tree_option_value(option)?).to_value()))
}

/// `Category.toDict()` for tools, classifications and relations.
#[pyfunction]
pub fn category_to_dict<'py>(
    py: Python<'py>,
    category: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &self::category(py, category)?.to_value()))
}

/// `TimeFilter.toDict()`.
#[pyfunction]
pub fn time_filter_to_dict<'py>(
    py: Python<'py>,
    filter: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &time_filter(filter)?.to_value()))
}

/// `ExportOptions.toDict()`: the export query parameters.
#[pyfunction]
pub fn export_options_to_dict<'py>(
    py: Python<'py>,
    options: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let out = PyDict::new(py);
        for (k, v) in export_options(options)?.to_query() {
            out.set_item(k, v)?;
        }
        Ok(out.into_any())
    })
}

/// `DateRange.toDict()`.
#[pyfunction]
pub fn date_range_to_dict<'py>(
    py: Python<'py>,
    range: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &date_range(range)?.to_value()))
}

/// `NumberRange.toDict()`.
#[pyfunction]
pub fn number_range_to_dict<'py>(
    py: Python<'py>,
    range: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &number_range(range)?.to_value()))
}

/// `StringFilter.toDict()`.
#[pyfunction]
pub fn string_filter_to_dict<'py>(
    py: Python<'py>,
    filter: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &string_filter(filter)?.to_value()))
}

/// `TaskFilter.toDict()`.
#[pyfunction]
pub fn task_filter_to_dict<'py>(
    py: Python<'py>,
    filter: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &task_filter(filter)?.to_value()))
}

/// `ProjectAssignment.toDict()`.
#[pyfunction]
pub fn project_assignment_to_dict<'py>(
    py: Python<'py>,
    assignment: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &project_assignment(assignment)?.to_value()))
}

/// `Invitation.toDict()`.
#[pyfunction]
pub fn invitation_to_dict<'py>(
    py: Python<'py>,
    invitation: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &self::invitation(invitation)?.to_value()))
}

/// `RoleUpdate.toDict()`.
#[pyfunction]
pub fn role_update_to_dict<'py>(
    py: Python<'py>,
    update: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &role_update(update)?.to_value()))
}

/// `Storage.to_dict()`.
#[pyfunction]
pub fn storage_to_dict<'py>(
    py: Python<'py>,
    storage: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &self::storage(storage)?.to_value()))
}

/// `LLM.to_dict()`.
#[pyfunction]
pub fn llm_to_dict<'py>(py: Python<'py>, llm: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &self::llm(llm)?.to_value()))
}

/// `AnnotationPayload.toDict()`.
#[pyfunction]
pub fn annotation_payload_to_dict<'py>(
    py: Python<'py>,
    payload: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &annotation_payload(payload)?.to_value()))
}

/// `AssetBuilderTemplate.to_dict()`.
#[pyfunction]
pub fn asset_builder_template_to_dict<'py>(
    py: Python<'py>,
    template: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| dict(py, &asset_builder_template(template)?.to_value()))
}

/// Checks an asset-builder template by the core's rules; `ValueError` when it is unusable.
#[pyfunction]
pub fn validate_asset_builder_template(template: &Bound<'_, PyAny>) -> PyResult<bool> {
    crate::blocking::shield(|| {
        asset_builder_template(template)?
            .validate()
            .py_err(template.py())?;
        Ok(true)
    })
}

/// `DataConfigItem.to_dict()`, checked by the core's rules (a known type; a storage for
/// media types): `ValueError` otherwise. Also what `DataConfigItem.__post_init__` runs.
#[pyfunction]
#[pyo3(signature = (kind, storage=None, include_in_export=false))]
pub fn data_config_item_to_dict<'py>(
    py: Python<'py>,
    kind: String,
    storage: Option<String>,
    include_in_export: bool,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let item = cm::DataConfigItem::new(kind, storage, include_in_export).py_err(py)?;
        dict(py, &item.to_value())
    })
}

/// Checks a chat-asset configuration by the core's rules.
#[pyfunction]
pub fn validate_chat_config(config: &Bound<'_, PyAny>) -> PyResult<()> {
    crate::blocking::shield(|| chat_config(config)?.validate().py_err(config.py()))
}

/// The official merge of a stored answer (`tools`/`classifications`/`relations`) into a
/// new one (`objects`/...): `{"objects", "classifications", "relations"}`.
#[pyfunction]
pub fn merge_annotations<'py>(
    py: Python<'py>,
    existing: &Bound<'py, PyAny>,
    new: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let merged = cm::merge_annotations(&from_py(existing)?, answer(new)?).py_err(py)?;
        dict(py, &merged.to_value())
    })
}

/// Registers the model functions on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(new_schema_id, m)?)?;
    m.add_function(wrap_pyfunction!(random_color, m)?)?;
    m.add_function(wrap_pyfunction!(flatten_tree_options, m)?)?;
    m.add_function(wrap_pyfunction!(label_option_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(tree_option_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(category_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(time_filter_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(export_options_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(date_range_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(number_range_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(string_filter_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(task_filter_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(project_assignment_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(invitation_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(role_update_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(storage_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(llm_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(annotation_payload_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(asset_builder_template_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(validate_asset_builder_template, m)?)?;
    m.add_function(wrap_pyfunction!(validate_chat_config, m)?)?;
    m.add_function(wrap_pyfunction!(data_config_item_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(merge_annotations, m)?)?;
    Ok(())
}

/// A numpy array (anything with `tolist()`) or nested sequences of numbers as a brush
/// mask: the shape is read from the nesting, the values row by row.
pub fn brush_mask(obj: &Bound<'_, PyAny>, medical: bool) -> PyResult<core::brush::BrushMask> {
    fn walk(
        obj: &Bound<'_, PyAny>,
        depth: usize,
        shape: &mut Vec<usize>,
        values: &mut Vec<f64>,
    ) -> PyResult<()> {
        if let Ok(number) = obj.extract::<f64>() {
            if depth != shape.len() {
                return Err(PyValueError::new_err("a brush array must be rectangular"));
            }
            values.push(number);
            return Ok(());
        }
        let items: Vec<Bound<'_, PyAny>> = obj
            .try_iter()
            .map_err(|_| PyTypeError::new_err("a brush array holds numbers in nested sequences"))?
            .collect::<PyResult<_>>()?;
        match shape.get(depth) {
            Some(&len) if len != items.len() => {
                return Err(PyValueError::new_err("a brush array must be rectangular"));
            }
            Some(_) => {}
            None if depth == shape.len() && values.is_empty() => shape.push(items.len()),
            None => return Err(PyValueError::new_err("a brush array must be rectangular")),
        }
        for item in &items {
            walk(item, depth + 1, shape, values)?;
        }
        Ok(())
    }
    let list = match attr(obj, "tolist")? {
        Some(tolist) => tolist.call0()?,
        None => obj.clone(),
    };
    let (mut shape, mut values) = (Vec::new(), Vec::new());
    walk(&list, 0, &mut shape, &mut values)?;
    core::brush::BrushMask::from_shape(&shape, values, medical).py_err(obj.py())
}
