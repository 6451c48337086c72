//! Configuration of `upload_chat_assets`.

use crate::error::{Error, Result};

/// How chat assets are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingStrategy {
    /// The strategy (`random` by default).
    pub kind: String,
}

impl Default for NamingStrategy {
    fn default() -> Self {
        NamingStrategy {
            kind: "random".into(),
        }
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
    /// The id of an LLM configuration, for dynamic (LLM-backed) chats.
    pub llm_config_id: Option<String>,
    /// Asset naming.
    pub naming_strategy: NamingStrategy,
    /// A JSON file of conversations to create assets from.
    pub conversation_json: Option<std::path::PathBuf>,
}

impl ChatAssetCreationConfig {
    /// The official checks: without a conversation file, at least one asset is required.
    pub fn validate(&self) -> Result<()> {
        if self.conversation_json.is_none() && self.number_of_assets == 0 {
            return Err(Error::invalid(
                "number_of_assets is required and it must be an integer larger than 0",
            ));
        }
        Ok(())
    }
}
