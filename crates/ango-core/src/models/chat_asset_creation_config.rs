//! Configuration of `upload_chat_assets`.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::pyjson;

/// How chat assets are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingStrategy {
    /// The strategy (the official `type`; `random` by default).
    pub kind: String,
}

impl NamingStrategy {
    /// A strategy of the given type.
    pub fn new(kind: impl Into<String>) -> Self {
        NamingStrategy { kind: kind.into() }
    }
}

impl Default for NamingStrategy {
    fn default() -> Self {
        NamingStrategy::new("random")
    }
}

/// What chat assets to create.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatAssetCreationConfig {
    /// How many empty conversations to create (ignored when `conversation_json` is given).
    pub number_of_assets: u64,
    /// Storage to keep the assets in (iMerit's bucket when `None`).
    pub storage_id: Option<String>,
    /// Bucket within that storage.
    pub bucket_name: Option<String>,
    /// The id of an LLM configuration (the official `llm_config.id`), for dynamic
    /// (LLM-backed) chats; static chats without one.
    pub llm_config_id: Option<String>,
    /// Asset naming.
    pub naming_strategy: NamingStrategy,
    /// A JSON file of conversations to create assets from.
    pub conversation_json: Option<std::path::PathBuf>,
}

/// Reads the form of [`ChatAssetCreationConfig::from_value`] (the Python attribute
/// names), or their camelCase forms (`numberOfAssets`, `llmConfig`, ...); validated.
impl<'de> serde::Deserialize<'de> for ChatAssetCreationConfig {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let value = super::renamed(
            <Value as serde::Deserialize>::deserialize(deserializer)?,
            &[
                ("numberOfAssets", "number_of_assets"),
                ("storageId", "storage_id"),
                ("bucketName", "bucket_name"),
                ("llmConfig", "llm_config"),
                ("namingStrategy", "naming_strategy"),
                ("conversationJson", "conversation_json"),
            ],
        );
        ChatAssetCreationConfig::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl ChatAssetCreationConfig {
    /// The official check: without a conversation file, at least one asset is required.
    pub fn validate(&self) -> Result<()> {
        if self.conversation_json.is_none() && self.number_of_assets == 0 {
            return Err(Error::invalid(
                "number_of_assets is required and it must be an integer larger than 0",
            ));
        }
        Ok(())
    }

    /// Reads the official `from_dict` form: `number_of_assets`, `storage_id`,
    /// `bucket_name`, `llm_config` (`{"id": ...}`), `naming_strategy` (`{"type": ...}`
    /// or the type as a string) and `conversation_json`. The result is validated.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| {
            Error::invalid(format!(
                "a chat asset creation config must be an object, got {value}"
            ))
        })?;
        let text = |key: &str| -> Result<Option<String>> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(Error::invalid(format!(
                    "{key} must be a string, got {other}"
                ))),
            }
        };
        let number_of_assets = match obj.get("number_of_assets") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                Error::invalid(
                    "number_of_assets is required and it must be an integer larger than 0",
                )
            })?,
        };
        let llm_config_id = match obj.get("llm_config") {
            None | Some(Value::Null) => None,
            Some(cfg) => match cfg.get("id") {
                Some(Value::String(id)) => Some(id.clone()),
                other => {
                    let kind = match other {
                        None | Some(Value::Null) => "NoneType",
                        Some(Value::Number(_)) => "number",
                        Some(_) => "non-string",
                    };
                    return Err(Error::invalid(format!(
                        "LLMConfig.id must be a string, got {kind}"
                    )));
                }
            },
        };
        let naming_strategy = match obj.get("naming_strategy") {
            None | Some(Value::Null) => NamingStrategy::default(),
            Some(Value::String(kind)) => NamingStrategy::new(kind.clone()),
            Some(other) => match other.get("type") {
                Some(Value::String(kind)) => NamingStrategy::new(kind.clone()),
                _ => {
                    return Err(Error::invalid(format!(
                        "naming_strategy must have a string \"type\", got {other}"
                    )));
                }
            },
        };
        let config = ChatAssetCreationConfig {
            number_of_assets,
            storage_id: text("storage_id")?,
            bucket_name: text("bucket_name")?,
            llm_config_id,
            naming_strategy,
            conversation_json: text("conversation_json")?.map(Into::into),
        };
        config.validate()?;
        Ok(config)
    }

    /// The form fields of `POST /v2/project/{id}/chat`, in the official order. Unset
    /// storage and bucket are left out (the official SDK passes `None`, which its HTTP
    /// library drops); the file, if any, is sent separately as `file`.
    pub fn form_fields(&self, project_id: &str, priority: i64) -> Vec<(String, String)> {
        let mut fields = vec![
            ("projectId".to_string(), project_id.to_string()),
            ("priority".to_string(), priority.to_string()),
        ];
        if let Some(storage) = &self.storage_id {
            fields.push(("storageId".into(), storage.clone()));
        }
        if let Some(bucket) = &self.bucket_name {
            fields.push(("bucket".into(), bucket.clone()));
        }
        fields.push((
            "numberOfConversations".into(),
            self.number_of_assets.to_string(),
        ));
        fields.push((
            "namingStrategy".into(),
            pyjson::to_string(&json!({ "type": self.naming_strategy.kind })),
        ));
        if let Some(id) = &self.llm_config_id {
            fields.push(("llmConfig".into(), pyjson::to_string(&json!({ "id": id }))));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_follow_the_official_request() {
        let config = ChatAssetCreationConfig {
            number_of_assets: 3,
            ..Default::default()
        };
        assert_eq!(
            config.form_fields("p", 0),
            vec![
                ("projectId".to_string(), "p".to_string()),
                ("priority".into(), "0".into()),
                ("numberOfConversations".into(), "3".into()),
                ("namingStrategy".into(), r#"{"type": "random"}"#.into()),
            ]
        );
        let full = ChatAssetCreationConfig::from_value(&json!({
            "number_of_assets": 2, "storage_id": "s", "bucket_name": "b",
            "llm_config": {"id": "l"}, "naming_strategy": {"type": "sequential"}
        }))
        .unwrap();
        let fields = full.form_fields("p", 5);
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "projectId",
                "priority",
                "storageId",
                "bucket",
                "numberOfConversations",
                "namingStrategy",
                "llmConfig"
            ]
        );
        assert_eq!(fields[6].1, r#"{"id": "l"}"#);
    }

    #[test]
    fn validation_follows_the_official_rules() {
        assert_eq!(
            ChatAssetCreationConfig::default()
                .validate()
                .unwrap_err()
                .to_string(),
            "number_of_assets is required and it must be an integer larger than 0"
        );
        let with_file = ChatAssetCreationConfig {
            conversation_json: Some("c.json".into()),
            ..Default::default()
        };
        assert!(with_file.validate().is_ok());
        assert!(ChatAssetCreationConfig::from_value(&json!({"number_of_assets": -1})).is_err());
        assert!(
            ChatAssetCreationConfig::from_value(
                &json!({"number_of_assets": 1, "llm_config": {"id": 5}})
            )
            .is_err()
        );
        assert!(
            ChatAssetCreationConfig::from_value(&json!({"conversation_json": "c.json"}))
                .unwrap()
                .conversation_json
                .is_some()
        );
    }
}
