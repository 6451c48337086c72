//! Asset-builder templates: HTML templates filled from CSV rows.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The tags a data column can be rendered as.
pub const DATA_CONFIG_TYPES: &[&str] =
    &["text", "link", "image", "audio", "video", "iframe", "pdf"];
const MEDIA_TYPES: &[&str] = &["image", "audio", "video", "pdf"];

/// How one input column is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataConfigItem {
    /// One of [`DATA_CONFIG_TYPES`].
    pub kind: String,
    /// The storage id for media columns (or `Public`).
    pub storage: Option<String>,
    /// Whether the column goes into the asset's context data (and so the export).
    pub include_in_export: bool,
}

impl DataConfigItem {
    /// A checked item: a known type, and a storage for media types.
    pub fn new(
        kind: impl Into<String>,
        storage: Option<String>,
        include_in_export: bool,
    ) -> Result<Self> {
        let kind = kind.into();
        if !DATA_CONFIG_TYPES.contains(&kind.as_str()) {
            // The list is written as Python prints it, like the official message.
            let choices: Vec<String> = DATA_CONFIG_TYPES.iter().map(|t| format!("'{t}'")).collect();
            return Err(Error::invalid(format!(
                "type must be one of [{}], got '{kind}'",
                choices.join(", ")
            )));
        }
        if MEDIA_TYPES.contains(&kind.as_str()) && storage.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(format!(
                "storage is required for type '{kind}'"
            )));
        }
        Ok(DataConfigItem {
            kind,
            storage,
            include_in_export,
        })
    }

    /// Reads `{"type", "storage"?, "includeInExport"?}` (checked as [`DataConfigItem::new`]).
    pub fn from_value(value: &Value) -> Result<Self> {
        let storage = match value.get("storage") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::invalid(format!(
                    "storage must be a string, got {other}"
                )));
            }
        };
        DataConfigItem::new(
            value.get("type").and_then(Value::as_str).unwrap_or(""),
            storage,
            value
                .get("includeInExport")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
    }

    /// `{"type", "includeInExport", "storage"?}`.
    pub fn to_value(&self) -> Value {
        let mut v = json!({ "type": self.kind, "includeInExport": self.include_in_export });
        if let Some(storage) = self.storage.as_ref().filter(|s| !s.is_empty()) {
            v["storage"] = Value::from(storage.as_str());
        }
        v
    }
}

/// Reads the dict form of [`DataConfigItem::from_value`], or the Python attribute
/// names (`type`, `storage`, `include_in_export`).
impl<'de> serde::Deserialize<'de> for DataConfigItem {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let value = super::renamed(
            Value::deserialize(deserializer)?,
            &[("include_in_export", "includeInExport")],
        );
        DataConfigItem::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// Reads the dict form of [`AssetBuilderTemplate::from_value`], or the Python attribute
/// names (`external_id_column`, `data_config`, `batch_column`, `pre_label_config`) and
/// their camelCase forms (`externalIdColumn`, ...). Not validated: see
/// [`AssetBuilderTemplate::validate`].
impl<'de> serde::Deserialize<'de> for AssetBuilderTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let value = super::renamed(
            Value::deserialize(deserializer)?,
            &[
                ("external_id_column", "selectedExternalId"),
                ("externalIdColumn", "selectedExternalId"),
                ("data_config", "dataConfig"),
                ("batch_column", "batchColumn"),
                ("pre_label_config", "preLabelConfig"),
            ],
        );
        let value = match value {
            Value::Object(mut map) => {
                if let Some(Value::Object(items)) = map.get_mut("dataConfig") {
                    for item in items.values_mut() {
                        *item = super::renamed(
                            std::mem::take(item),
                            &[("include_in_export", "includeInExport")],
                        );
                    }
                }
                Value::Object(map)
            }
            other => other,
        };
        AssetBuilderTemplate::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// An asset-builder template.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetBuilderTemplate {
    /// Template name.
    pub name: String,
    /// The HTML template with `{{column}}` placeholders.
    pub template: String,
    /// The column that gives each asset's external id.
    pub external_id_column: String,
    /// Column settings, in order.
    pub data_config: Vec<(String, DataConfigItem)>,
    /// Description.
    pub description: String,
    /// The column naming each asset's batches (`;`-separated).
    pub batch_column: String,
    /// Pre-label configuration, passed through as given.
    pub pre_label_config: Map<String, Value>,
}

impl AssetBuilderTemplate {
    /// The official checks, with its messages.
    pub fn validate(&self) -> Result<()> {
        let has = |column: &str| self.data_config.iter().any(|(k, _)| k == column);
        if self.name.is_empty() {
            return Err(Error::invalid("name cannot be empty"));
        }
        if self.data_config.is_empty() {
            return Err(Error::invalid("data_config cannot be empty"));
        }
        if self.external_id_column.is_empty() {
            return Err(Error::invalid("external_id_column cannot be empty"));
        }
        if self.template.is_empty() {
            return Err(Error::invalid("template cannot be empty"));
        }
        if !self.batch_column.is_empty() && !has(&self.batch_column) {
            return Err(Error::invalid(format!(
                "batch_column '{}' not found in data_config",
                self.batch_column
            )));
        }
        if !has(&self.external_id_column) {
            return Err(Error::invalid(format!(
                "external_id_column '{}' not found in data_config",
                self.external_id_column
            )));
        }
        Ok(())
    }

    /// Reads the dict form (`name`, `template`, `selectedExternalId`, `dataConfig`,
    /// `description`, `batchColumn`, `preLabelConfig`), as the official `from_dict`;
    /// missing strings are empty. Use [`AssetBuilderTemplate::validate`] to check it.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::invalid(format!("a template must be an object, got {value}")))?;
        let text = |key: &str, python_name: &str| -> Result<String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(Error::invalid(format!("{python_name} must be a string"))),
            }
        };
        let data_config = match obj.get("dataConfig") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), DataConfigItem::from_value(v)?)))
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(Error::invalid("data_config must be a dictionary")),
        };
        let pre_label_config = match obj.get("preLabelConfig") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err(Error::invalid("pre_label_config must be a dictionary")),
        };
        Ok(AssetBuilderTemplate {
            name: text("name", "name")?,
            template: text("template", "template")?,
            external_id_column: text("selectedExternalId", "external_id_column")?,
            data_config,
            description: text("description", "description")?,
            batch_column: text("batchColumn", "batch_column")?,
            pre_label_config,
        })
    }

    /// The request body, as the official `to_dict()`.
    pub fn to_value(&self) -> Value {
        let data_config: Map<String, Value> = self
            .data_config
            .iter()
            .map(|(k, item)| (k.clone(), item.to_value()))
            .collect();
        json!({
            "description": self.description,
            "name": self.name,
            "template": self.template,
            "batchColumn": self.batch_column,
            "selectedExternalId": self.external_id_column,
            "dataConfig": data_config,
            "preLabelConfig": self.pre_label_config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> AssetBuilderTemplate {
        AssetBuilderTemplate {
            name: "t".into(),
            template: "<p>{{text}}</p>".into(),
            external_id_column: "id".into(),
            data_config: vec![
                (
                    "id".into(),
                    DataConfigItem::new("text", None, true).unwrap(),
                ),
                (
                    "text".into(),
                    DataConfigItem::new("text", None, false).unwrap(),
                ),
            ],
            description: String::new(),
            batch_column: String::new(),
            pre_label_config: Map::new(),
        }
    }

    #[test]
    fn validation_follows_the_official_rules() {
        assert!(template().validate().is_ok());
        let mut t = template();
        t.batch_column = "nope".into();
        assert_eq!(
            t.validate().unwrap_err().to_string(),
            "batch_column 'nope' not found in data_config"
        );
        let mut t = template();
        t.external_id_column = "missing".into();
        assert!(t.validate().is_err());
        assert!(DataConfigItem::new("image", None, false).is_err());
        assert!(DataConfigItem::new("gif", None, false).is_err());
    }

    #[test]
    fn dict_matches_the_official_order() {
        assert_eq!(
            crate::pyjson::to_string(&template().to_value()),
            r#"{"description": "", "name": "t", "template": "<p>{{text}}</p>", "batchColumn": "", "selectedExternalId": "id", "dataConfig": {"id": {"type": "text", "includeInExport": true}, "text": {"type": "text", "includeInExport": false}}, "preLabelConfig": {}}"#
        );
    }

    /// Expected texts are the official SDK's for the same arguments.
    #[test]
    fn messages_and_dict_form_match_the_official_sdk() {
        assert_eq!(
            DataConfigItem::new("gif", None, false)
                .unwrap_err()
                .to_string(),
            "type must be one of ['text', 'link', 'image', 'audio', 'video', 'iframe', 'pdf'], got 'gif'"
        );
        assert_eq!(
            DataConfigItem::new("video", None, false)
                .unwrap_err()
                .to_string(),
            "storage is required for type 'video'"
        );
        let messages: Vec<String> = [
            AssetBuilderTemplate {
                name: String::new(),
                ..template()
            },
            AssetBuilderTemplate {
                data_config: vec![],
                ..template()
            },
            AssetBuilderTemplate {
                external_id_column: String::new(),
                ..template()
            },
            AssetBuilderTemplate {
                template: String::new(),
                ..template()
            },
            AssetBuilderTemplate {
                external_id_column: "zz".into(),
                ..template()
            },
        ]
        .iter()
        .map(|t| t.validate().unwrap_err().to_string())
        .collect();
        assert_eq!(
            messages,
            vec![
                "name cannot be empty",
                "data_config cannot be empty",
                "external_id_column cannot be empty",
                "template cannot be empty",
                "external_id_column 'zz' not found in data_config",
            ]
        );
        let mut pre_label = Map::new();
        pre_label.insert("k".into(), json!({"cla": {"schemaId": "s"}, "value": "a"}));
        let t = AssetBuilderTemplate {
            name: "n".into(),
            template: "<p>{{a}}</p>".into(),
            external_id_column: "a".into(),
            data_config: vec![(
                "a".into(),
                DataConfigItem::new("image", Some("Public".into()), true).unwrap(),
            )],
            description: "d".into(),
            batch_column: "a".into(),
            pre_label_config: pre_label,
        };
        let text = crate::pyjson::to_string(&t.to_value());
        assert_eq!(
            text,
            r#"{"description": "d", "name": "n", "template": "<p>{{a}}</p>", "batchColumn": "a", "selectedExternalId": "a", "dataConfig": {"a": {"type": "image", "includeInExport": true, "storage": "Public"}}, "preLabelConfig": {"k": {"cla": {"schemaId": "s"}, "value": "a"}}}"#
        );
        assert_eq!(AssetBuilderTemplate::from_value(&t.to_value()).unwrap(), t);
        assert!(AssetBuilderTemplate::from_value(&json!({"name": 1})).is_err());
        assert!(
            AssetBuilderTemplate::from_value(&json!({"dataConfig": {"a": {"type": "gif"}}}))
                .is_err()
        );
    }
}
