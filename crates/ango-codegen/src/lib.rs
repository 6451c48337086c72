//! Generates the TypeScript declarations and the Python stubs of ango-rs from one
//! source: the JSON Schemas of the Rust types (`schemars`, feature `schema` of
//! ango-core) and the method table (`ango_core::api::methods_json()`).
//!
//! The library is independent of ango-core (its tests run on fixtures); the binary
//! (`src/main.rs`) feeds it the real schemas and table and writes, or checks, the
//! committed files:
//!
//! - `node/generated/types.d.ts`: an interface per type, `ApiDocument<T>`, and the
//!   `Client` class with every table method (`options?: { ...; signal?: AbortSignal }`);
//! - `python/imerit_ango/_types.pyi`: a `TypedDict` per reply type;
//! - `python/imerit_ango/sdk.pyi`: the `SDK` class (the hand-written methods from
//!   `templates/sdk.pyi`, the table's methods generated);
//! - `python/imerit_ango/_table.py`: the table's `SDK` methods as Python source;
//! - `node/generated/emulator.d.ts`: the Node emulator handle's class, from the
//!   emulator's control table (`ango_emulator::control::methods_json()`).

pub mod collect;
pub mod emulator;
pub mod ir;
pub mod methods;
pub mod py;
pub mod py_table;
pub mod ts;

use std::path::{Path, PathBuf};

pub use ir::{GenError, GenResult, Types};
pub use methods::{Method, parse_methods};

/// The `sdk.pyi` template: the module's head and the hand-written `SDK` methods.
pub const SDK_TEMPLATE: &str = include_str!("../templates/sdk.pyi");

/// The TypeScript declarations, relative to the workspace root.
pub const TS_PATH: &str = "node/generated/types.d.ts";
/// The Python `TypedDict` stubs, relative to the workspace root.
pub const TYPES_PYI_PATH: &str = "python/imerit_ango/_types.pyi";
/// The `SDK` stub, relative to the workspace root.
pub const SDK_PYI_PATH: &str = "python/imerit_ango/sdk.pyi";

/// One generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Relative to the workspace root.
    pub path: &'static str,
    /// Its whole text.
    pub text: String,
}

/// Every generated file, from the types, the table and the `sdk.pyi` template.
pub fn generate(types: &Types, methods: &[Method], sdk_template: &str) -> GenResult<Vec<Output>> {
    Ok(vec![
        Output {
            path: TS_PATH,
            text: ts::generate(types, methods)?,
        },
        Output {
            path: TYPES_PYI_PATH,
            text: py::types_pyi(types, methods)?,
        },
        Output {
            path: SDK_PYI_PATH,
            text: py::sdk_pyi(types, methods, sdk_template)?,
        },
    ])
}

/// The files under `root` whose text differs from `outputs` (or that are missing).
pub fn stale(root: &Path, outputs: &[Output]) -> Vec<PathBuf> {
    outputs
        .iter()
        .filter(|o| std::fs::read_to_string(root.join(o.path)).ok().as_deref() != Some(&o.text))
        .map(|o| root.join(o.path))
        .collect()
}

/// Writes the files that differ; returns them.
pub fn write(root: &Path, outputs: &[Output]) -> std::io::Result<Vec<PathBuf>> {
    let changed = stale(root, outputs);
    for o in outputs {
        let path = root.join(o.path);
        if changed.contains(&path) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, &o.text)?;
        }
    }
    Ok(changed)
}
