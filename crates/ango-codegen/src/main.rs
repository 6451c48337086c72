//! `cargo run -p ango-codegen` writes the generated TypeScript declarations and Python
//! stubs; `cargo run -p ango-codegen -- --check` writes nothing and exits non-zero,
//! listing them, when a committed file differs from a fresh generation (CI runs it).

use std::path::PathBuf;
use std::process::ExitCode;

use ango_codegen::collect::{Collector, TypeParam};
use ango_codegen::{GenResult, Types};

/// The public types of ango-core.
fn types() -> GenResult<Types> {
    use ango_core::types::*;
    let mut c = Collector::new();
    c.generic_reply::<ApiDocument<TypeParam>>()
        .generic_reply::<Page<TypeParam>>()
        // The `data` of each kind of reply (`IssueList` as read: the server sends one of
        // `issues` and `issue`, not both).
        .data::<ProjectData>()
        .data::<ProjectList>()
        .data::<TaskData>()
        .data::<TaskList>()
        .data::<AssetList>()
        .data::<BatchList>()
        .data::<IssueData>()
        .reply::<IssueList>()
        .data::<MemberList>()
        .data::<InviteList>()
        .data::<StorageList>()
        .data::<StorageData>()
        .data::<LlmList>()
        .data::<LlmData>()
        .data::<ExportData>()
        // The resources (most are reached through the above too).
        .reply::<Project>()
        .reply::<Task>()
        .reply::<Asset>()
        .reply::<Batch>()
        .reply::<Issue>()
        .reply::<Member>()
        .reply::<Invite>()
        .reply::<StorageInfo>()
        .reply::<LlmInfo>()
        .reply::<ango_core::ExportRow>()
        // Made by the SDK: as it serializes them.
        .produced::<ango_core::upload::UploadReport>();
    // Arguments: what the table's parameters (and the hand-written export methods) name.
    c.request::<ango_core::models::AnnotationPayload>()
        .request::<ango_core::models::AssetBuilderTemplate>()
        .request::<ango_core::models::ChatAssetCreationConfig>()
        .request::<ango_core::models::ExportOptions>()
        .request::<ango_core::ClientOptions>()
        .request::<ango_core::models::Invitation>()
        .request::<ango_core::models::Llm>()
        .request::<ango_core::models::RoleUpdate>()
        .request::<ango_core::models::Storage>()
        .request::<ango_core::models::TaskFilter>()
        .request::<ango_core::ontology::ClassificationCategory>()
        .request::<ango_core::ontology::RelationCategory>()
        .request::<ango_core::ontology::ToolCategory>();
    c.finish()
}

/// The method table.
fn methods() -> GenResult<Vec<ango_codegen::Method>> {
    ango_codegen::parse_methods(&ango_core::api::methods_json())
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

const USAGE: &str = "usage: ango-codegen [--check] [--root DIR]\n\
  writes node/generated/types.d.ts, node/generated/emulator.d.ts,\n\
  python/imerit_ango/_types.pyi, python/imerit_ango/sdk.pyi and python/imerit_ango/_table.py under the workspace root (or DIR);\n\
  --check writes nothing and fails when a file differs from a fresh generation";

fn main() -> ExitCode {
    let mut check = false;
    let mut root = workspace_root();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let outputs = match types().and_then(|types| {
        let methods = methods()?;
        let mut outputs = ango_codegen::generate(&types, &methods, ango_codegen::SDK_TEMPLATE)?;
        outputs.push(ango_codegen::Output {
            path: ango_codegen::py_table::TABLE_PY_PATH,
            text: ango_codegen::py_table::table_py(
                &methods,
                &ango_codegen::parse_methods(&ango_core::api::listings_json())?,
                ango_codegen::SDK_TEMPLATE,
            )?,
        });
        outputs.push(ango_codegen::Output {
            path: ango_codegen::emulator::EMULATOR_TS_PATH,
            text: ango_codegen::emulator::emulator_dts(&ango_emulator::control::methods_json())?,
        });
        Ok(outputs)
    }) {
        Ok(outputs) => outputs,
        Err(e) => {
            eprintln!("ango-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        let stale = ango_codegen::stale(&root, &outputs);
        if stale.is_empty() {
            println!(
                "ango-codegen: {} generated files are up to date",
                outputs.len()
            );
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "ango-codegen: these files differ from a fresh generation (run `cargo run -p ango-codegen` and commit):"
        );
        for path in stale {
            eprintln!("  {}", path.display());
        }
        return ExitCode::FAILURE;
    }
    match ango_codegen::write(&root, &outputs) {
        Ok(changed) => {
            for path in &changed {
                println!("wrote {}", path.display());
            }
            if changed.is_empty() {
                println!("ango-codegen: nothing changed");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ango-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
