//! The workflow commands: projects, ontologies, label import, batches and issues.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use ango_core::formats::{self, AssetInfo, ImportPlan, ImportReport};
use ango_core::issues::{CreateIssueParams, GetIssuesParams};
use ango_core::models::ProjectType;
use ango_core::{Client, Value};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::{CliError, Outcome, print_json};

/// Label items sent per `import_labels` request.
const IMPORT_CHUNK: usize = 500;

/// Arguments of `ango project`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ProjectArgs {
    #[command(subcommand)]
    command: Option<ProjectCommand>,
    /// Project id to print (the same as `ango project get ID`).
    id: Option<String>,
}

/// `ango project create|get`.
#[derive(Debug, Subcommand)]
enum ProjectCommand {
    /// Create a project; prints its id (with `--json`, the server's response).
    Create {
        /// Project name.
        name: String,
        /// Project description.
        #[arg(long)]
        description: Option<String>,
        /// Project type (e.g. `ango`, `pct`).
        #[arg(long = "type")]
        project_type: Option<String>,
    },
    /// Print one project as JSON.
    Get {
        /// Project id.
        id: String,
    },
}

/// Arguments of `ango ontology`.
#[derive(Debug, Args)]
pub(crate) struct OntologyArgs {
    #[command(subcommand)]
    command: OntologyCommand,
}

/// `ango ontology set|get`.
#[derive(Debug, Subcommand)]
enum OntologyCommand {
    /// Set a project's ontology from a JSON file: a category schema
    /// (`{"tools", "classifications", "relations"}`), `{"categorySchema": ...}`, or an
    /// `ango project get` response.
    Set {
        /// Project id.
        project: String,
        /// The ontology file.
        file: PathBuf,
    },
    /// Print a project's ontology (category schema) as JSON; `ango ontology set` reads
    /// it back.
    Get {
        /// Project id.
        project: String,
    },
}

/// Arguments of `ango import`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ango import $P labels.json            # Ango import format, sent as is\n  \
    ango import $P coco.json --dry-run    # what matches, nothing sent\n  \
    ango import $P dataset/               # YOLO: data.yaml and labels/\n\n\
    COCO images and YOLO label files are matched to the project's assets by external id \
    (or file name), categories to the ontology's tools by name. Exit status 3 when \
    something does not match (listed on stderr, or in the --json report).")]
pub(crate) struct ImportArgs {
    /// Project id.
    project: String,
    /// Ango import JSON (a list of `{"externalId", "objects", ...}`), a COCO JSON file
    /// or a YOLO dataset directory.
    input: PathBuf,
    /// Report what would be imported, and what does not match, without importing.
    #[arg(long)]
    dry_run: bool,
}

/// Arguments of `ango batches`.
#[derive(Debug, Args)]
pub(crate) struct BatchesArgs {
    #[command(subcommand)]
    command: BatchesCommand,
}

/// `ango batches list|create`.
#[derive(Debug, Subcommand)]
enum BatchesCommand {
    /// Print a project's batches as a JSON array.
    List {
        /// Project id.
        project: String,
    },
    /// Create batches (names the project already has are skipped).
    Create {
        /// Project id.
        project: String,
        /// Batch names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// Arguments of `ango issues`.
#[derive(Debug, Args)]
pub(crate) struct IssuesArgs {
    #[command(subcommand)]
    command: IssuesCommand,
}

/// `ango issues list|create`.
#[derive(Debug, Subcommand)]
enum IssuesCommand {
    /// Print a project's issues as JSON.
    List {
        /// Project id.
        project: String,
        /// Only issues on this asset (id).
        #[arg(long)]
        asset: Option<String>,
        /// Only issues on this task (id).
        #[arg(long)]
        task: Option<String>,
        /// Only issues opened in this stage (id).
        #[arg(long)]
        stage: Option<String>,
        /// Only issues created by this user (e-mail).
        #[arg(long)]
        created_by: Option<String>,
    },
    /// Open an issue on a task.
    Create {
        /// Task id.
        task: String,
        /// The issue's text.
        content: String,
        /// Attach the issue to this object of the task's answer.
        #[arg(long)]
        object_id: Option<String>,
        /// Page of a document (from 0).
        #[arg(long)]
        page: Option<i64>,
    },
}

pub(crate) fn project(
    client: &Client,
    args: &ProjectArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    match (&args.command, &args.id) {
        (Some(ProjectCommand::Get { id }), _) | (None, Some(id)) => {
            print_json(out, &client.raw().get_project(id)?)?;
        }
        (None, None) => {
            return Err(CliError::Usage(
                "ango project needs a subcommand (create, get) or a project id".into(),
            ));
        }
        (
            Some(ProjectCommand::Create {
                name,
                description,
                project_type,
            }),
            _,
        ) => {
            let project_type: Option<ProjectType> = project_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e: ango_core::Error| CliError::Usage(e.to_string()))?;
            let response =
                client
                    .raw()
                    .create_project(name, description.as_deref(), project_type)?;
            if json {
                print_json(out, &response)?;
            } else {
                let id = response
                    .pointer("/data/project/_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        CliError::Message(format!(
                            "the server did not return the new project's id: {response}"
                        ))
                    })?;
                writeln!(out, "{id}")?;
            }
        }
    }
    Ok(Outcome::Complete)
}

pub(crate) fn ontology(
    client: &Client,
    args: &OntologyArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    match &args.command {
        OntologyCommand::Set { project, file } => {
            let schema = formats::read_ontology_file(file)?;
            let response = client.create_label_set(project, &schema, None)?;
            let summary = format!(
                "set the ontology of {project}: {} tools, {} classifications, {} relations",
                schema.tools.len(),
                schema.classifications.len(),
                schema.relations.len()
            );
            if json {
                print_json(
                    out,
                    &json!({
                        "project": project,
                        "tools": schema.tools.len(),
                        "classifications": schema.classifications.len(),
                        "relations": schema.relations.len(),
                        "response": response,
                    }),
                )?;
            }
            eprintln!("{summary}");
        }
        OntologyCommand::Get { project } => {
            let response = client.raw().get_project(project)?;
            let schema = response
                .pointer("/data/project/categorySchema")
                .filter(|s| s.is_object())
                .ok_or_else(|| {
                    CliError::Message(format!("project {project} has no category schema"))
                })?;
            print_json(out, schema)?;
        }
    }
    Ok(Outcome::Complete)
}

/// What `ango import` read.
enum Input {
    /// Ango's import format, sent as is.
    Ango(Vec<Value>),
    /// A COCO document.
    Coco(Value),
    /// A YOLO dataset directory.
    Yolo,
}

fn read_import_input(path: &std::path::Path) -> Result<Input, CliError> {
    if path.is_dir() {
        return Ok(Input::Yolo);
    }
    let text = std::fs::read(path)
        .map_err(|e| CliError::Message(format!("reading {}: {e}", path.display())))?;
    let value: Value = serde_json::from_slice(&text)
        .map_err(|e| CliError::Message(format!("{} is not JSON: {e}", path.display())))?;
    match value {
        Value::Array(items) => Ok(Input::Ango(items)),
        Value::Object(map) if map.contains_key("images") => Ok(Input::Coco(Value::Object(map))),
        Value::Object(mut map) => {
            match map.remove("jsonContent").or_else(|| map.remove("labels")) {
                Some(Value::Array(items)) => Ok(Input::Ango(items)),
                _ => Err(CliError::Message(format!(
                    "{} is neither Ango import JSON (a list of labels) nor COCO (an object with \
                 \"images\")",
                    path.display()
                ))),
            }
        }
        _ => Err(CliError::Message(format!(
            "{} is neither Ango import JSON (a list of labels) nor COCO",
            path.display()
        ))),
    }
}

/// Every asset of a project, as matching needs them.
fn project_assets(client: &Client, project: &str) -> Result<Vec<AssetInfo>, CliError> {
    let mut assets = Vec::new();
    for asset in client
        .raw()
        .iter_assets(project, &serde_json::Map::new(), Some(1000))?
    {
        if let Some(info) = AssetInfo::from_value(&asset?) {
            assets.push(info);
        }
    }
    Ok(assets)
}

/// The plan of an Ango import file: every item is sent as it is; items whose external
/// id is no asset of the project (the server skips them) are reported.
fn ango_plan(items: Vec<Value>, assets: &[AssetInfo]) -> ImportPlan {
    let known: HashSet<&str> = assets.iter().map(|a| a.external_id.as_str()).collect();
    let mut report = ImportReport::default();
    for item in &items {
        report.images += 1;
        report.items += 1;
        let objects = ["objects", "tools"]
            .iter()
            .filter_map(|k| {
                item.get(k)
                    .or_else(|| item.pointer(&format!("/answer/{k}")))
            })
            .filter_map(Value::as_array)
            .map(Vec::len)
            .sum::<usize>() as u64;
        report.annotations += objects;
        report.objects += objects;
        match item.get("externalId").and_then(Value::as_str) {
            Some(id) if !known.contains(id) => report.unmatched_images.push(id.to_string()),
            _ => report.matched_images += 1,
        }
    }
    ImportPlan {
        labels: items,
        report,
    }
}

pub(crate) fn import(
    client: &Client,
    args: &ImportArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let input = read_import_input(&args.input)?;
    let assets = project_assets(client, &args.project)?;
    let plan = match input {
        Input::Ango(items) => ango_plan(items, &assets),
        Input::Coco(coco) => {
            let ontology = formats::ontology_from_value(&client.raw().get_project(&args.project)?)?;
            formats::coco_to_import(&coco, &ontology, Some(&assets))?
        }
        Input::Yolo => {
            let ontology = formats::ontology_from_value(&client.raw().get_project(&args.project)?)?;
            formats::yolo_to_import(&args.input, &ontology, &assets)?
        }
    };
    let outcome = Outcome::from_complete(plan.report.is_complete());
    if args.dry_run {
        // The report is the result of a dry run: on stdout.
        if json {
            crate::convert::show_import_report(&plan.report, &mut std::io::stderr())?;
            print_json(
                out,
                &json!({"dryRun": true, "report": plan.report.to_value()}),
            )?;
        } else {
            crate::convert::show_import_report(&plan.report, out)?;
        }
        return Ok(outcome);
    }
    crate::convert::show_import_report(&plan.report, &mut std::io::stderr())?;
    let mut responses = Vec::new();
    for (i, chunk) in plan.labels.chunks(IMPORT_CHUNK).enumerate() {
        match client.import_labels(&args.project, chunk) {
            Ok(response) => responses.push(response),
            Err(error) if i > 0 => {
                return Err(CliError::Message(format!(
                    "{error} (after {} of {} label items were imported)",
                    i * IMPORT_CHUNK,
                    plan.labels.len()
                )));
            }
            Err(error) => return Err(error.into()),
        }
    }
    eprintln!(
        "imported {} label items into {}",
        plan.labels.len(),
        args.project
    );
    if json {
        print_json(
            out,
            &json!({
                "dryRun": false,
                "imported": plan.labels.len(),
                "report": plan.report.to_value(),
                "responses": responses,
            }),
        )?;
    }
    Ok(outcome)
}

pub(crate) fn batches(
    client: &Client,
    args: &BatchesArgs,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let value = match &args.command {
        BatchesCommand::List { project } => client.raw().get_batches(project)?,
        BatchesCommand::Create { project, names } => client.create_batches(project, names)?,
    };
    print_json(out, &value)?;
    Ok(Outcome::Complete)
}

pub(crate) fn issues(
    client: &Client,
    args: &IssuesArgs,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let value = match &args.command {
        IssuesCommand::List {
            project,
            asset,
            task,
            stage,
            created_by,
        } => {
            let params = GetIssuesParams {
                asset_id: asset.clone(),
                task_id: task.clone(),
                stage_id: stage.clone(),
                created_by: created_by.clone(),
            };
            client.raw().get_issues(project, &params)?
        }
        IssuesCommand::Create {
            task,
            content,
            object_id,
            page,
        } => {
            let params = CreateIssueParams {
                object_id: object_id.clone(),
                page: *page,
                ..CreateIssueParams::default()
            };
            client
                .raw()
                .create_issue(task, content, &params)
                .map_err(|e| match e {
                    ango_core::Error::InvalidArgument(_) => CliError::Usage(e.to_string()),
                    other => other.into(),
                })?
        }
    };
    print_json(out, &value)?;
    Ok(Outcome::Complete)
}
