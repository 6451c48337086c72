//! Export: builds a zip with the Ango (v3) export format and serves it
//! unauthenticated under `/files/exports/...`.

use std::io::{Cursor, Write};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::Ctx;
use crate::filters::Filter;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::{Project, SchemaIndex, State};

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
        let mut row: Vec<u8> = Vec::with_capacity(16 * 1024);
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
            // The row is written into one reusable buffer, then handed to the
            // compressor in one piece.
            row.clear();
            sep(&mut row).map_err(io_err)?;
            write_asset(p, ti, &mut cache, o, &mut row);
            end(&mut row).map_err(io_err)?;
            buf.write_all(&row).map_err(io_err)?;
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

/// Converted `(tools, classifications, relations)` of one stored answer, as the
/// JSON text `,"tools":[..],"classifications":[..],"relations":[..]` (the three
/// are adjacent in both the task and its history entries).
type Converted = Rc<Vec<u8>>;

/// The JSON fragment of a converted answer (see [`Converted`]).
fn answer_fragment(c: &(Value, Value, Value)) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b",\"tools\":");
    crate::jsonw::value(&mut out, &c.0);
    out.extend_from_slice(b",\"classifications\":");
    crate::jsonw::value(&mut out, &c.1);
    out.extend_from_slice(b",\"relations\":");
    crate::jsonw::value(&mut out, &c.2);
    out
}

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
        let c = Rc::new(answer_fragment(
            &self.schema.to_export(answer, self.include_metadata),
        ));
        if self.entries.len() >= 8 {
            self.entries.remove(0);
        }
        // Keeping the Arc alive guarantees the address is not reused.
        self.entries.push((key, answer.clone(), c.clone()));
        c
    }
}

/// Writes one asset-level export object (the field order and text of the
/// reference structs in the tests, which compare the two).
fn write_asset(p: &Project, ti: usize, cache: &mut ConvCache<'_>, o: &Options, out: &mut Vec<u8>) {
    use crate::jsonw::{int, iso, opt_iso, opt_string, string, value};
    let t = &p.tasks[ti];
    let a = &p.assets[t.asset];
    out.extend_from_slice(b"{\"asset\":");
    string(out, &a.data);
    out.extend_from_slice(b",\"externalId\":");
    string(out, &a.external_id);
    out.extend_from_slice(b",\"assetId\":");
    string(out, &a.id);
    if let Some(ds) = &a.dataset {
        out.extend_from_slice(b",\"dataset\":");
        value(out, ds);
    }
    out.extend_from_slice(b",\"metadata\":");
    value(out, &a.metadata);
    out.extend_from_slice(b",\"contextData\":");
    value(out, &a.context_data);
    out.extend_from_slice(b",\"batches\":[");
    for (i, b) in a.batches.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, &p.batch_name(b));
    }
    out.extend_from_slice(b"],\"attachments\":");
    value(out, &a.attachments);
    out.extend_from_slice(b",\"task\":{\"taskId\":");
    string(out, &t.id);
    out.extend_from_slice(b",\"stage\":");
    string(out, p.stage_name_ref(&t.stage));
    out.extend_from_slice(b",\"stageId\":");
    string(out, &t.stage);
    out.extend_from_slice(b",\"type\":");
    string(out, &t.task_type);
    out.extend_from_slice(b",\"status\":");
    string(out, &t.status);
    out.extend_from_slice(b",\"reviewStatus\":");
    string(out, &t.review_status);
    out.extend_from_slice(b",\"isBenchmark\":");
    value(out, &t.is_benchmark);
    out.extend_from_slice(b",\"isSkipped\":");
    value(out, &t.is_skipped);
    out.extend_from_slice(b",\"assignee\":");
    opt_string(out, t.assignee.as_deref());
    out.extend_from_slice(b",\"priority\":");
    int(out, t.priority);
    out.extend_from_slice(b",\"createdAt\":");
    iso(out, t.created_at);
    out.extend_from_slice(b",\"updatedAt\":");
    iso(out, t.updated_at);
    out.extend_from_slice(b",\"updatedBy\":");
    opt_string(out, t.updated_by.as_deref());
    out.extend_from_slice(b",\"completedAt\":");
    opt_iso(out, t.completed_at);
    out.extend_from_slice(b",\"completedBy\":");
    opt_string(out, t.completed_by.as_deref());
    out.extend_from_slice(b",\"duration\":");
    value(out, &t.duration);
    out.extend_from_slice(b",\"totalDuration\":");
    value(out, &(t.total_duration * 1000.0));
    out.extend_from_slice(b",\"openIssuesCount\":");
    int(out, t.open_issues);
    out.extend_from_slice(&cache.get(&t.answer));
    if let Some(b) = &t.brush_data_url {
        out.extend_from_slice(b",\"brushDataUrl\":");
        string(out, b);
    }
    if let Some(b) = &t.medical_brush_data_url {
        out.extend_from_slice(b",\"medicalBrushDataUrl\":");
        string(out, b);
    }
    if o.include_history {
        out.extend_from_slice(b",\"stageHistory\":[");
        for (i, h) in t.history.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"stage\":");
            string(out, &h.stage_name);
            out.extend_from_slice(b",\"stageId\":");
            string(out, &h.stage_id);
            out.extend_from_slice(b",\"duration\":");
            value(out, &h.duration);
            out.extend_from_slice(b",\"completedAt\":");
            iso(out, h.completed_at);
            out.extend_from_slice(b",\"completedBy\":");
            string(out, &h.completed_by);
            out.extend_from_slice(b",\"reviewStatus\":");
            opt_string(out, h.review_status.as_deref());
            out.extend_from_slice(&cache.get(&h.answer));
            if let Some(b) = &h.brush_data_url {
                out.extend_from_slice(b",\"brushDataUrl\":");
                string(out, b);
            }
            out.push(b'}');
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{HistoryEntry, NewAsset};
    use crate::util::iso;
    use serde::Serialize;
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

    /// The export row as the serde-derived structs write it: the reference for
    /// [`write_asset`].
    fn reference_row(p: &Project, ti: usize, schema: &SchemaIndex, o: &Options, w: &mut Vec<u8>) {
        let t = &p.tasks[ti];
        let a = &p.assets[t.asset];
        let cur = schema.to_export(&t.answer, o.include_metadata);
        let hist: Vec<(Value, Value, Value)> = if o.include_history {
            t.history
                .iter()
                .map(|h| schema.to_export(&h.answer, o.include_metadata))
                .collect()
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
        serde_json::to_writer(w, &v).unwrap();
    }

    fn options(ndjson: bool, include_metadata: bool, include_history: bool) -> Options {
        Options {
            ndjson,
            issues: false,
            include_metadata,
            include_history,
            stages: None,
            batches: None,
            task_types: None,
            updated: None,
            created: None,
        }
    }

    /// The hand-written rows (with their cached answer fragments) are byte-identical
    /// to the serde-derived reference, with and without history and metadata, for
    /// optional fields present and absent and for text that needs escaping.
    #[test]
    fn written_rows_match_the_serde_reference() {
        let mut st = State::new("admin@example.com");
        let pidx = st.add_project("p", "d", "ango");
        let p = &mut st.projects[pidx];
        p.category_schema = crate::seed::demo_schema();
        p.batches.push(crate::state::Batch {
            id: "b1".into(),
            name: "Batch \"one\"".into(),
        });
        let entry = p.entry_stage();
        for i in 0..4 {
            p.add_asset(
                NewAsset {
                    data: format!("https://h/{i}\n\u{1F980}"),
                    external_id: format!("ext\"{i}"),
                    metadata: json!({"w": i, "f": 1.5}),
                    batches: if i % 2 == 0 {
                        vec!["b1".into(), "gone".into()]
                    } else {
                        vec![]
                    },
                    attachments: vec![json!({"type": "TEXT", "value": "a\u{1}"})],
                    ..Default::default()
                },
                "creator",
                1_700_000_000_000 + i as i64,
                &entry,
            );
        }
        let answer = Arc::new(json!({
            "tools": [{"schemaId": "a1b2c3d4e5f6a7b8c9d0e1f", "objectId": "o1",
                       "bounding-box": {"x": 1.5, "y": 2.0, "width": 3.25, "height": 4.0},
                       "classifications": [{"schemaId": "c0l0r0000000000000000c1", "answer": "0pt10n00000000000000r3d"}],
                       "metadata": {"createdBy": "me"}}],
            "classifications": [{"schemaId": "c3d4e5f6a7b8c9d0e1f2a3b", "answer": "0pt10n0000000000005unny"}],
            "relations": [],
        }));
        p.assets[1].dataset = Some(json!(["d1", "d2"]));
        let t = &mut p.tasks[1];
        t.answer = answer.clone();
        t.assignee = Some("a@b".into());
        t.updated_by = Some("u".into());
        t.completed_at = Some(1_700_000_500_000);
        t.completed_by = Some("c\\".into());
        t.brush_data_url = Some("brush".into());
        t.medical_brush_data_url = Some("med".into());
        t.duration = 0.1 + 0.2;
        t.total_duration = 12.5;
        t.priority = -7;
        for (k, brush) in [None, Some("hb".to_string())].into_iter().enumerate() {
            p.tasks[1].history.push(HistoryEntry {
                id: format!("h{k}"),
                stage_id: "Label".into(),
                stage_name: "Label \"L\"".into(),
                answer: if k == 0 {
                    Arc::new(json!({}))
                } else {
                    answer.clone()
                },
                brush_data_url: brush,
                completed_by: "x".into(),
                completed_at: 1_600_000_000_000,
                duration: 3.0,
                review_status: (k == 1).then(|| "Accepted".to_string()),
                action: "submit".into(),
            });
        }
        p.tasks[2].stage = "no such stage".into();
        let p = &st.projects[pidx];
        let schema = SchemaIndex::new(&p.category_schema);
        for (metadata, history) in [(true, true), (false, true), (true, false)] {
            let o = options(true, metadata, history);
            let mut cache = ConvCache {
                schema: &schema,
                include_metadata: metadata,
                entries: Vec::new(),
            };
            for ti in 0..p.tasks.len() {
                let mut got = Vec::new();
                write_asset(p, ti, &mut cache, &o, &mut got);
                let mut want = Vec::new();
                reference_row(p, ti, &schema, &o, &mut want);
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap()
                );
            }
        }
    }
}
