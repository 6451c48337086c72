//! Cloud storage integrations.

use serde_json::{Value, json};

use super::enums::StorageProvider;

/// A storage integration to create. Deserialises from the Python attribute names
/// (`publicKey`, `privateKey`, as the official class keeps them) or snake_case; a
/// missing or `null` region is the official default.
#[derive(Clone, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Storage {
    /// Display name.
    #[serde(default, deserialize_with = "super::null_default")]
    pub name: String,
    /// The provider.
    pub provider: StorageProvider,
    /// Access key id (AWS).
    #[serde(default, alias = "publicKey")]
    pub public_key: Option<String>,
    /// Secret key (AWS).
    #[serde(default, alias = "privateKey")]
    pub private_key: Option<String>,
    /// Region (default `eu-central-1`, as the official SDK).
    #[serde(default = "default_region", deserialize_with = "region")]
    pub region: String,
    /// Provider credentials (GCP/Azure).
    #[serde(default)]
    pub credentials: Option<String>,
}

fn default_region() -> String {
    "eu-central-1".into()
}

fn region<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let region = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(region.unwrap_or_else(default_region))
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "***");
        f.debug_struct("Storage")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("public_key", &self.public_key)
            .field("private_key", &redact(&self.private_key))
            .field("region", &self.region)
            .field("credentials", &redact(&self.credentials))
            .finish()
    }
}

impl Storage {
    /// A storage with the official default region.
    pub fn new(name: impl Into<String>, provider: StorageProvider) -> Self {
        Storage {
            name: name.into(),
            provider,
            public_key: None,
            private_key: None,
            region: default_region(),
            credentials: None,
        }
    }

    /// The request body, as the official `to_dict()` (absent keys sent as `null`).
    pub fn to_value(&self) -> Value {
        json!({
            "name": self.name,
            "provider": self.provider.as_str(),
            "publicKey": self.public_key,
            "privateKey": self.private_key,
            "region": self.region,
            "credentials": self.credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson;

    /// Expected texts are the official `Storage(...).to_dict()`.
    #[test]
    fn body_matches_the_official_dict() {
        let mut aws = Storage::new("s", StorageProvider::Aws);
        aws.public_key = Some("pk".into());
        aws.private_key = Some("sk".into());
        assert_eq!(
            pyjson::to_string(&aws.to_value()),
            r#"{"name": "s", "provider": "AWS", "publicKey": "pk", "privateKey": "sk", "region": "eu-central-1", "credentials": null}"#
        );
        let mut gcp = Storage::new("g", StorageProvider::Gcp);
        gcp.credentials = Some("{}".into());
        gcp.region = "us".into();
        assert_eq!(
            pyjson::to_string(&gcp.to_value()),
            r#"{"name": "g", "provider": "GCP", "publicKey": null, "privateKey": null, "region": "us", "credentials": "{}"}"#
        );
        // Secrets stay out of debug output.
        assert!(!format!("{aws:?}").contains("sk"));
    }
}
