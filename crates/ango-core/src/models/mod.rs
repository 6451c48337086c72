//! Request models: filters, export options, enums and the bodies of organization,
//! storage, LLM, annotation and asset-builder calls. Each serialises exactly as the
//! official SDK's `toDict()`/`to_dict()` (same keys, same order, same formats).

pub mod annotate;
pub mod asset_builder_template;
pub mod chat_asset_creation_config;
pub mod enums;
pub mod export_options;
pub mod invite;
pub mod llm;
pub mod storage;
pub mod task_filter;
mod timestamp;

/// The asset-builder engine lives in [`crate::asset_builder`]; kept here under its old path.
pub use crate::asset_builder;
pub use crate::asset_builder::{AssetBuilderInput, ParseConfig, replace_batch_names_with_ids};
pub use annotate::{AnnotationPayload, Answer, merge_annotations};
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
