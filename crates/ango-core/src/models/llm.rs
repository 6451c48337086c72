//! LLM configurations for chat projects.

use serde_json::{Value, json};

use super::enums::LlmProvider;

/// An LLM configuration to create (snake_case or camelCase keys when deserialised).
#[derive(Clone, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Llm {
    /// Display name.
    #[serde(default, deserialize_with = "super::null_default")]
    pub name: String,
    /// The provider.
    pub provider: LlmProvider,
    /// The model name.
    #[serde(default, deserialize_with = "super::null_default")]
    pub model: String,
    /// The provider API key (never printed by `Debug`).
    #[serde(default, alias = "apiKey", deserialize_with = "super::null_default")]
    pub api_key: String,
    /// A custom base URL.
    #[serde(default, alias = "baseUrl")]
    pub base_url: Option<String>,
    /// Whether responses stream.
    #[serde(
        default,
        alias = "isStreamable",
        deserialize_with = "super::null_default"
    )]
    pub is_streamable: bool,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_key", &"***")
            .field("base_url", &self.base_url)
            .field("is_streamable", &self.is_streamable)
            .finish()
    }
}

impl Llm {
    /// The request body, as the official `to_dict()`.
    pub fn to_value(&self) -> Value {
        let mut configuration = json!({ "apiKey": self.api_key });
        if let Some(url) = self.base_url.as_ref().filter(|u| !u.is_empty()) {
            configuration["baseUrl"] = Value::from(url.as_str());
        }
        json!({
            "name": self.name,
            "provider": self.provider.as_str(),
            "model": self.model,
            "isStreamable": self.is_streamable,
            "configuration": configuration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson;

    /// Expected texts are the official `LLM(...).to_dict()`.
    #[test]
    fn body_matches_the_official_dict() {
        let mut llm = Llm {
            name: "n".into(),
            provider: LlmProvider::OpenRouter,
            model: "m".into(),
            api_key: "k".into(),
            base_url: Some("http://b".into()),
            is_streamable: true,
        };
        assert_eq!(
            pyjson::to_string(&llm.to_value()),
            r#"{"name": "n", "provider": "openrouter", "model": "m", "isStreamable": true, "configuration": {"apiKey": "k", "baseUrl": "http://b"}}"#
        );
        llm.provider = LlmProvider::OpenAi;
        llm.base_url = Some(String::new());
        llm.is_streamable = false;
        assert_eq!(
            pyjson::to_string(&llm.to_value()),
            r#"{"name": "n", "provider": "openai", "model": "m", "isStreamable": false, "configuration": {"apiKey": "k"}}"#
        );
        assert!(!format!("{llm:?}").contains("\"k\""));
    }
}
