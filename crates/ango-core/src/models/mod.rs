//! Request models: filters, export options, enums and the bodies of organization,
//! storage, LLM, annotation and asset-builder calls. Each serialises exactly as the
//! official SDK's `toDict()`/`to_dict()` (same keys, same order, same formats).

pub mod annotate;
pub mod asset_builder;
pub mod asset_builder_template;
mod asset_html;
pub mod chat_asset_creation_config;
pub mod enums;
pub mod export_options;
mod html_entities;
pub mod invite;
pub mod llm;
pub mod storage;
pub mod task_filter;
mod timestamp;

pub use annotate::{AnnotationPayload, Answer, merge_annotations};
pub use asset_builder::{AssetBuilderInput, ParseConfig, replace_batch_names_with_ids};
pub use asset_builder_template::{AssetBuilderTemplate, DataConfigItem};
pub use chat_asset_creation_config::{ChatAssetCreationConfig, NamingStrategy};
pub use enums::*;
pub use export_options::{ExportOptions, TimeFilter};
pub use invite::{Invitation, ProjectAssignment, RoleUpdate};
pub use llm::Llm;
pub use storage::Storage;
pub use task_filter::{
    BatchFilter, CountFilter, DateRange, NumberRange, StageFilter, StringFilter, TaskFilter,
    TextFilter,
};
pub use timestamp::Timestamp;

/// A field whose `null` means its default (as a missing field does): Python objects
/// carry every attribute, `None` included.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}

/// `value` with the keys of `renames` (`(from, to)`) renamed, when `to` is not there:
/// how the models whose dict form is camelCase also read the Python attribute names.
pub(crate) fn renamed(value: serde_json::Value, renames: &[(&str, &str)]) -> serde_json::Value {
    match value {
        serde_json::Value::Object(mut map) => {
            for (from, to) in renames {
                if !map.contains_key(*to)
                    && let Some(v) = map.remove(*from)
                {
                    map.insert((*to).to_string(), v);
                }
            }
            serde_json::Value::Object(map)
        }
        other => other,
    }
}

/// Serialises a model as its wire form (`to_value()`, the official `toDict()`).
macro_rules! serialize_via_value {
    ($($ty:ty),+ $(,)?) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                self.to_value().serialize(serializer)
            }
        }
    )+};
}

serialize_via_value!(
    TaskFilter,
    DateRange,
    NumberRange,
    StringFilter,
    TimeFilter,
    ExportOptions,
    Invitation,
    ProjectAssignment,
    RoleUpdate,
    Storage,
    Llm,
    Answer,
    AnnotationPayload,
    AssetBuilderTemplate,
    DataConfigItem,
);

/// The JSON Schema of a model read through its dict form (an object; its keys are
/// described by the type's documentation).
#[cfg(feature = "schema")]
macro_rules! object_schema {
    ($($ty:ty => $name:literal, $description:literal;)+) => {$(
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "object",
                    "description": $description,
                    "additionalProperties": true,
                })
            }
        }
    )+};
}

#[cfg(feature = "schema")]
object_schema! {
    ChatAssetCreationConfig => "ChatAssetCreationConfig",
        "number_of_assets, storage_id, bucket_name, llm_config ({id}), naming_strategy ({type}), conversation_json (a file path)";
    AssetBuilderTemplate => "AssetBuilderTemplate",
        "name, template, external_id_column, data_config ({column: {type, storage?, include_in_export}}), description, batch_column, pre_label_config";
    DataConfigItem => "DataConfigItem", "type, storage?, include_in_export";
}

/// `Timestamp`: ISO 8601 text or epoch milliseconds.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "ISO 8601 date or date-time, or milliseconds since the Unix epoch",
            "type": ["string", "number"],
        })
    }
}
