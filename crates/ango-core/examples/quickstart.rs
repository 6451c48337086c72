//! The README's workflow in Rust: project → ontology → upload → tasks → labels →
//! annotate → export.
//!
//! Runs against an embedded emulator by default; with `ANGO_API_KEY` (and optionally
//! `ANGO_HOST`) set, against that Ango Hub instead:
//!
//! ```text
//! cargo run -p ango-core --example quickstart
//! ```

use std::error::Error;

use ango_core::models::{AnnotationPayload, Answer, ExportFormat, ExportOptions};
use ango_core::ontology::{
    CategorySchema, Classification, ClassificationCategory, LabelOption, Tool, ToolCategory,
};
use ango_core::upload::{UploadFile, UploadOptions};
use ango_core::{AnnotateOptions, Client, GetTasksParams};
use ango_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

fn main() -> Result<(), Box<dyn Error>> {
    // Keep the emulator alive for the whole run when we use it.
    let (client, _emulator) = match std::env::var("ANGO_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let emulator = Emulator::start(EmulatorConfig::default())?;
            println!("Using an embedded Ango Hub emulator at {}", emulator.url());
            (
                Client::new(emulator.api_key(), emulator.url())?,
                Some(emulator),
            )
        }
    };

    let project =
        client.create_project("Street scenes", Some("Quickstart from ango-core"), None)?;
    let project_id = project.id.ok_or("no project id")?;
    println!("Created project {project_id}");

    let weather = ClassificationCategory::new(Classification::Radio, "Weather")
        .options(vec![LabelOption::new("Sunny"), LabelOption::new("Rainy")]);
    let car = ToolCategory::new(Tool::BoundingBox, "Car");
    let schema = CategorySchema {
        tools: vec![car.clone()],
        classifications: vec![weather.clone()],
        relations: vec![],
    };
    client.create_label_set(&project_id, &schema, None)?;
    let project = client.get_project(&project_id)?;
    let label_set = project.category_schema.unwrap_or_default();
    println!(
        "{:?} has {} tools and workflow stages {:?}",
        project.name.unwrap_or_default(),
        label_set.tools.len(),
        project
            .stages
            .iter()
            .filter_map(|s| s.name.as_deref())
            .collect::<Vec<_>>()
    );

    let dir = std::env::temp_dir().join(format!("ango-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let files: Vec<UploadFile> = (1..=5)
        .map(|i| {
            let path = dir.join(format!("street-{i}.png"));
            std::fs::write(&path, format!("fake image {i}"))?;
            Ok(UploadFile {
                external_id: Some(format!("street-{i}.png")),
                ..UploadFile::new(path)
            })
        })
        .collect::<std::io::Result<_>>()?;
    let report = client.upload_files(&project_id, &files, &UploadOptions::default())?;
    println!(
        "Uploaded {} of {} files",
        report.uploaded().count(),
        files.len()
    );

    let tasks: Vec<_> = client
        .iter_tasks(&project_id, &GetTasksParams::default(), Some(100))?
        .collect::<Result<_, _>>()?;
    println!("{} tasks to label", tasks.len());

    let labels: Vec<_> = files
        .iter()
        .map(|f| {
            json!({
                "externalId": f.external_id,
                "objects": [{"schemaId": car.base.schema_id, "bounding-box": {"x": 10, "y": 20, "width": 30, "height": 40}}],
            })
        })
        .collect();
    client.import_labels(&project_id, &labels)?;

    let first = tasks
        .first()
        .and_then(|t| t.id.as_deref())
        .ok_or("no task")?;
    let answer = Answer {
        classifications: vec![json!({"schemaId": weather.base.schema_id, "answer": "Sunny"})],
        ..Answer::default()
    };
    let payload = AnnotationPayload {
        answer: Some(answer),
        ..AnnotationPayload::default()
    };
    client.annotate_task(
        first,
        &payload,
        AnnotateOptions {
            send_to_next_stage: true,
            ..AnnotateOptions::default()
        },
    )?;

    let mut options = ExportOptions::new(Some(vec!["Label".into(), "Complete".into()]), None);
    options.export_format = ExportFormat::Ndjson;
    let mut rows = 0;
    let mut boxes = 0;
    for row in client.export_rows(&project_id, &options)? {
        let row = row?;
        rows += 1;
        boxes += row.tasks().map(|task| task.tools.len()).sum::<usize>();
    }
    println!("Exported {rows} tasks with {boxes} boxes");

    // The JSON as the server sent it, for anything the types do not model.
    let raw = client.raw().get_project(&project_id)?;
    println!("Project created at {}", raw["data"]["project"]["createdAt"]);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
