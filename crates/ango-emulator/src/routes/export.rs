//! Export: builds a zip with the Ango (v3) export format and serves it
//! unauthenticated under `/files/exports/...`.

use std::io::{Cursor, Write};
use std::rc::Rc;
use std::sync::Arc;

use serde::Serialize;

use serde_json::{Value, json};

use crate::Ctx;
use crate::filters::Filter;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::{Project, SchemaIndex, State};
use crate::util::iso;

fn json_list(req: &Request, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match req.query.get_json(key) {
        Ok(None) => Ok(None),
        Ok(Some(Value::Array(a))) => Ok(Some(
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
        )),
        Ok(Some(Value::String(s))) => Ok(Some(vec![s])),
        Ok(Some(_)) => Err(ApiError::bad_request(format!(
            "'{key}' must be a JSON list"
        ))),
        // A bare comma-separated value is tolerated.
        Err(_) => Ok(req
            .query
            .get(key)
            .map(|s| s.split(',').map(str::to_string).collect())),
    }
}

fn range(req: &Request, key: &str) -> Result<Option<Filter>, ApiError> {
    match req.query.get_json(key)? {
        None => Ok(None),
        Some(v @ Value::Object(_)) => {
            let f = Filter::compile(&json!({ key: v })).map_err(ApiError::bad_request)?;
            Ok(Some(f))
        }
        Some(_) => Err(ApiError::bad_request(format!(
            "'{key}' must be a JSON object"
        ))),
    }
}

struct Options {
    ndjson: bool,
    issues: bool,
    include_metadata: bool,
    include_history: bool,
    stages: Option<Vec<String>>,
    batches: Option<Vec<String>>,
    task_types: Option<Vec<String>>,
    updated: Option<Filter>,
    created: Option<Filter>,
}

pub(super) fn export(ctx: &Ctx, req: &Request) -> HandlerResult {
    let pid = req
        .query
        .get_nonempty("project")
        .ok_or_else(|| ApiError::bad_request("'project' is required"))?
        .to_string();
    let ndjson = match req
        .query
        .get_nonempty("format")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("json") => false,
        Some("ndjson") => true,
        Some(other) => return Err(ApiError::bad_request(format!("Invalid format {other}"))),
    };
    let issues = match req
        .query
        .get_nonempty("type")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("task") => false,
        Some("issue") => true,
        Some(other) => return Err(ApiError::bad_request(format!("Invalid type {other}"))),
    };
    let opts = Options {
        ndjson,
        issues,
        include_metadata: req.query.get_bool("includeMetadata").unwrap_or(true),
        include_history: req.query.get_bool("includeHistory").unwrap_or(true),
        stages: json_list(req, "stage")?,
        batches: json_list(req, "batches")?,
        task_types: json_list(req, "taskTypes")?,
        updated: range(req, "updatedAt")?,
        created: range(req, "createdAt")?,
    };
    let zip = {
        let st = ctx.read();
        let p = st.project(&pid)?;
        build_zip(&st, p, &opts)?
    };
    let key = format!("exports/{pid}/{}.zip", crate::util::hex32());
    // One export file per project, like the service: drop older archives.
    let prefix = format!("exports/{pid}/");
    {
        let mut files = ctx.files.write().unwrap_or_else(|e| e.into_inner());
        files.retain(|k, _| !k.starts_with(&prefix));
        files.insert(key.clone(), std::sync::Arc::new(zip));
    }
    Ok(Response::ok(json!({"exportPath": ctx.file_url(&key)})))
}

fn build_zip(st: &State, p: &Project, o: &Options) -> Result<Vec<u8>, ApiError> {
    let io_err = |e: std::io::Error| ApiError::new(500, format!("export failed: {e}"));
    let zip_err = |e: zip::result::ZipError| ApiError::new(500, format!("export failed: {e}"));
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    let name = format!("{}.{}", p.id, if o.ndjson { "ndjson" } else { "json" });
    zw.start_file(name, options).map_err(zip_err)?;
    let mut buf = std::io::BufWriter::with_capacity(256 * 1024, &mut zw);
    let mut first = true;
    let mut sep = |w: &mut dyn Write| -> std::io::Result<()> {
        if !o.ndjson {
            w.write_all(if first { b"\n  " } else { b",\n  " })?;
            first = false;
        }
        Ok(())
    };
    let end = |w: &mut dyn Write| -> std::io::Result<()> {
        if o.ndjson { w.write_all(b"\n") } else { Ok(()) }
    };
    if !o.ndjson {
        buf.write_all(b"[").map_err(io_err)?;
    }
    if o.issues {
        for issue in st
            .issues
            .iter()
            .filter(|i| i.get("project").and_then(Value::as_str) == Some(&p.id))
        {
            let v = issue_export(p, issue);
            sep(&mut buf).map_err(io_err)?;
            serde_json::to_writer(&mut buf, &v).map_err(|e| io_err(e.into()))?;
            end(&mut buf).map_err(io_err)?;
        }
    } else {
        let schema = SchemaIndex::new(&p.category_schema);
        let mut cache = ConvCache {
            schema: &schema,
            include_metadata: o.include_metadata,
            entries: Vec::new(),
        };
        let stages: Option<Vec<String>> = o.stages.as_ref().map(|s| {
            s.iter()
                .map(|x| p.stage_id(x).unwrap_or_else(|| x.clone()))
                .collect()
        });
        let batches: Option<Vec<String>> = o.batches.as_ref().map(|s| {
            s.iter()
                .map(|x| p.batch_id(x).unwrap_or_else(|| x.clone()))
                .collect()
        });
        for (ti, t) in p.tasks.iter().enumerate() {
            if t.deleted {
                continue;
            }
            let a = &p.assets[t.asset];
            if stages
                .as_ref()
                .is_some_and(|s| !s.is_empty() && !s.contains(&t.stage))
                || batches
                    .as_ref()
                    .is_some_and(|b| !b.is_empty() && !a.batches.iter().any(|x| b.contains(x)))
                || o.task_types
                    .as_ref()
                    .is_some_and(|tt| !tt.is_empty() && !tt.contains(&t.task_type))
                || o.updated
                    .as_ref()
                    .is_some_and(|f| !f.matches(&|k| p.task_field(ti, k)))
                || o.created
                    .as_ref()
                    .is_some_and(|f| !f.matches(&|k| p.task_field(ti, k)))
            {
                continue;
            }
            sep(&mut buf).map_err(io_err)?;
            write_asset(p, ti, &mut cache, o, &mut buf).map_err(io_err)?;
            end(&mut buf).map_err(io_err)?;
        }
    }
    if !o.ndjson {
        buf.write_all(b"\n]\n").map_err(io_err)?;
    }
    buf.flush().map_err(io_err)?;
    drop(buf);
    let _ = st;
    let cursor = zw.finish().map_err(zip_err)?;
    Ok(cursor.into_inner())
}

/// Converted `(tools, classifications, relations)` of one stored answer.
type Converted = Rc<(Value, Value, Value)>;

/// A tiny cache of answer conversions keyed by the answer's `Arc` address:
/// a task and its latest history snapshot (and seeded tasks) share answers.
struct ConvCache<'s> {
    schema: &'s SchemaIndex,
    include_metadata: bool,
    entries: Vec<(*const Value, Arc<Value>, Converted)>,
}

impl ConvCache<'_> {
    fn get(&mut self, answer: &Arc<Value>) -> Converted {
        let key = Arc::as_ptr(answer);
        if let Some((_, _, c)) = self.entries.iter().find(|(k, _, _)| *k == key) {
            return c.clone();
        }
        let c = Rc::new(self.schema.to_export(answer, self.include_metadata));
        if self.entries.len() >= 8 {
            self.entries.remove(0);
        }
        // Keeping the Arc alive guarantees the address is not reused.
        self.entries.push((key, answer.clone(), c.clone()));
        c
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportHistory<'a> {
    stage: &'a str,
    stage_id: &'a str,
    duration: f64,
    completed_at: String,
    completed_by: &'a str,
    review_status: &'a Option<String>,
    tools: &'a Value,
    classifications: &'a Value,
    relations: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    brush_data_url: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportTask<'a> {
    task_id: &'a str,
    stage: String,
    stage_id: &'a str,
    #[serde(rename = "type")]
    task_type: &'a str,
    status: &'a str,
    review_status: &'a str,
    is_benchmark: bool,
    is_skipped: bool,
    assignee: &'a Option<String>,
    priority: i64,
    created_at: String,
    updated_at: String,
    updated_by: &'a Option<String>,
    completed_at: Option<String>,
    completed_by: &'a Option<String>,
    duration: f64,
    total_duration: f64,
    open_issues_count: i64,
    tools: &'a Value,
    classifications: &'a Value,
    relations: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    brush_data_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    medical_brush_data_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_history: Option<Vec<ExportHistory<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportAsset<'a> {
    asset: &'a str,
    external_id: &'a str,
    asset_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dataset: Option<&'a Value>,
    metadata: &'a Value,
    context_data: &'a Value,
    batches: Vec<String>,
    attachments: &'a [Value],
    task: ExportTask<'a>,
}

/// Writes one asset-level export object.
fn write_asset(
    p: &Project,
    ti: usize,
    cache: &mut ConvCache<'_>,
    o: &Options,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let t = &p.tasks[ti];
    let a = &p.assets[t.asset];
    let cur = cache.get(&t.answer);
    let hist: Vec<Converted> = if o.include_history {
        t.history.iter().map(|h| cache.get(&h.answer)).collect()
    } else {
        Vec::new()
    };
    let stage_history = o.include_history.then(|| {
        t.history
            .iter()
            .zip(hist.iter())
            .map(|(h, c)| ExportHistory {
                stage: &h.stage_name,
                stage_id: &h.stage_id,
                duration: h.duration,
                completed_at: iso(h.completed_at),
                completed_by: &h.completed_by,
                review_status: &h.review_status,
                tools: &c.0,
                classifications: &c.1,
                relations: &c.2,
                brush_data_url: h.brush_data_url.as_deref(),
            })
            .collect()
    });
    let v = ExportAsset {
        asset: &a.data,
        external_id: &a.external_id,
        asset_id: &a.id,
        dataset: a.dataset.as_ref(),
        metadata: &a.metadata,
        context_data: &a.context_data,
        batches: a.batches.iter().map(|b| p.batch_name(b)).collect(),
        attachments: &a.attachments,
        task: ExportTask {
            task_id: &t.id,
            stage: p.stage_name(&t.stage),
            stage_id: &t.stage,
            task_type: &t.task_type,
            status: &t.status,
            review_status: &t.review_status,
            is_benchmark: t.is_benchmark,
            is_skipped: t.is_skipped,
            assignee: &t.assignee,
            priority: t.priority,
            created_at: iso(t.created_at),
            updated_at: iso(t.updated_at),
            updated_by: &t.updated_by,
            completed_at: t.completed_at.map(iso),
            completed_by: &t.completed_by,
            duration: t.duration,
            total_duration: t.total_duration * 1000.0,
            open_issues_count: t.open_issues,
            tools: &cur.0,
            classifications: &cur.1,
            relations: &cur.2,
            brush_data_url: t.brush_data_url.as_deref(),
            medical_brush_data_url: t.medical_brush_data_url.as_deref(),
            stage_history,
        },
    };
    serde_json::to_writer(w, &v).map_err(std::io::Error::from)
}

fn issue_export(p: &Project, issue: &Value) -> Value {
    let mut v = issue.clone();
    let task_id = issue.get("labelTask").and_then(Value::as_str).unwrap_or("");
    if let Some(&ti) = p.task_pos.get(task_id) {
        let a = &p.assets[p.tasks[ti].asset];
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "asset".into(),
                json!({"_id": a.id, "externalId": a.external_id,
                       "batches": a.batches.iter().map(|b| p.batch_name(b)).collect::<Vec<_>>()}),
            );
            if let Some(stage) = m.get("stage").and_then(Value::as_str).map(str::to_string) {
                m.insert("stageName".into(), json!(p.stage_name(&stage)));
            }
        }
    }
    v
}
