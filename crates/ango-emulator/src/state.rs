//! The in-memory state of the emulated organization.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::http::ApiError;
use crate::util::{iso, now_ms, object_id};

/// A project batch.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub id: String,
    pub name: String,
}

/// An asset (one file or dataset) in a project.
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub id: String,
    pub data: String,
    pub dataset: Option<Value>,
    pub external_id: String,
    pub metadata: Value,
    pub context_data: Value,
    pub batches: Vec<String>,
    pub attachments: Vec<Value>,
    pub storage: Option<String>,
    pub upload_local: bool,
    pub created_at: i64,
    pub created_by: String,
    pub deleted: bool,
    pub is_pre_labeled: bool,
    pub task: usize,
}

/// One entry of a task's history (a snapshot taken when it left a stage).
#[derive(Debug, Clone)]
pub(crate) struct HistoryEntry {
    pub id: String,
    pub stage_id: String,
    pub stage_name: String,
    /// Snapshot of the answer (shared with the task until it changes).
    pub answer: Arc<Value>,
    pub brush_data_url: Option<String>,
    pub completed_by: String,
    pub completed_at: i64,
    pub duration: f64,
    pub review_status: Option<String>,
    pub action: String,
}

/// A labeling task (one per asset).
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub asset: usize,
    pub stage: String,
    pub status: String,
    pub assignee: Option<String>,
    pub priority: i64,
    /// `{tools, classifications, relations}`; replaced (never mutated in place).
    pub answer: Arc<Value>,
    pub brush_data_url: Option<String>,
    pub medical_brush_data_url: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub is_benchmark: bool,
    pub review_status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub updated_by: Option<String>,
    pub completed_at: Option<i64>,
    pub completed_by: Option<String>,
    pub duration: f64,
    pub total_duration: f64,
    pub is_draft: bool,
    pub is_skipped: bool,
    pub task_type: String,
    pub open_issues: i64,
    pub is_pre_labeled: bool,
    pub deleted: bool,
}

/// A project with its assets and tasks.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub owner: String,
    pub category_schema: Value,
    pub stages: Vec<Value>,
    pub assigned_to: Vec<Value>,
    pub batches: Vec<Batch>,
    pub benchmark_enabled: bool,
    pub benchmark_ratio: Value,
    pub benchmark_cutoff: Value,
    pub label_validation: Value,
    pub asset_builder_templates: Vec<Value>,
    pub instructions: Value,
    pub settings: Map<String, Value>,
    pub deleted: bool,
    pub purged: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub assets: Vec<Asset>,
    pub tasks: Vec<Task>,
    pub task_pos: HashMap<String, usize>,
    pub asset_pos: HashMap<String, usize>,
    /// Tasks that entered a Plugin stage with a plugin id and still have to be
    /// sent to that plugin: (task index, stage id, plugin id).
    pub plugin_queue: Vec<(usize, String, String)>,
}

/// An organization member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

/// Everything the emulator knows.
#[derive(Debug)]
pub(crate) struct State {
    pub org_id: String,
    pub org_name: String,
    pub admin_email: String,
    pub members: Vec<Member>,
    pub invites: Vec<Value>,
    pub projects: Vec<Project>,
    pub project_pos: HashMap<String, usize>,
    pub task_index: HashMap<String, usize>,
    pub history_index: HashMap<String, (usize, String)>,
    pub issues: Vec<Value>,
    pub storages: Vec<Value>,
    pub llms: Vec<Value>,
    pub notifications: Vec<Value>,
    pub plugin_logs: Vec<Value>,
    pub plugin_responses: Vec<Value>,
    pub webhook_reruns: Vec<Value>,
}

/// The default workflow: Start → Label → Complete.
pub(crate) fn default_stages() -> Vec<Value> {
    vec![
        json!({"id":"Start","type":"Start","name":"Start","position":{"x":0,"y":0},
               "next":["Label"],"autoForward":false}),
        json!({"id":"Label","type":"Label","name":"Label","position":{"x":300,"y":0},
               "next":["Complete"],"assignedTo":[]}),
        json!({"id":"Complete","type":"Complete","name":"Complete","position":{"x":600,"y":0},
               "next":[],"preventRequeue":false}),
    ]
}

/// Stage types where tasks wait for a person (or finish).
fn is_resting(kind: &str) -> bool {
    matches!(kind, "Label" | "Review" | "Hold" | "Complete" | "Archive")
}

impl State {
    /// A fresh organization whose admin is `admin_email`.
    pub(crate) fn new(admin_email: &str) -> State {
        let now = now_ms();
        State {
            org_id: object_id(),
            org_name: "Emulated Organization".into(),
            admin_email: admin_email.into(),
            members: vec![Member {
                id: object_id(),
                email: admin_email.into(),
                name: "Emulator Admin".into(),
                role: "admin".into(),
                created_at: now,
            }],
            invites: Vec::new(),
            projects: Vec::new(),
            project_pos: HashMap::new(),
            task_index: HashMap::new(),
            history_index: HashMap::new(),
            issues: Vec::new(),
            storages: Vec::new(),
            llms: Vec::new(),
            notifications: Vec::new(),
            plugin_logs: Vec::new(),
            plugin_responses: Vec::new(),
            webhook_reruns: Vec::new(),
        }
    }

    /// Index of a live project (404 otherwise).
    pub(crate) fn project_idx(&self, id: &str) -> Result<usize, ApiError> {
        match self.project_pos.get(id) {
            Some(&i) if !self.projects[i].deleted && !self.projects[i].purged => Ok(i),
            _ => Err(ApiError::not_found(format!("Project not found: {id}"))),
        }
    }

    /// A live project.
    pub(crate) fn project(&self, id: &str) -> Result<&Project, ApiError> {
        self.project_idx(id).map(|i| &self.projects[i])
    }

    /// A live project, mutable.
    pub(crate) fn project_mut(&mut self, id: &str) -> Result<&mut Project, ApiError> {
        let i = self.project_idx(id)?;
        Ok(&mut self.projects[i])
    }

    /// (project index, task index) of a live task.
    pub(crate) fn task_loc(&self, id: &str) -> Result<(usize, usize), ApiError> {
        let nf = || ApiError::not_found(format!("Task not found: {id}"));
        let &p = self.task_index.get(id).ok_or_else(nf)?;
        let proj = &self.projects[p];
        if proj.deleted || proj.purged {
            return Err(nf());
        }
        let &t = proj.task_pos.get(id).ok_or_else(nf)?;
        if proj.tasks[t].deleted {
            return Err(nf());
        }
        Ok((p, t))
    }

    /// Adds a project and returns its index.
    pub(crate) fn add_project(&mut self, name: &str, description: &str, kind: &str) -> usize {
        let now = now_ms();
        let p = Project {
            id: object_id(),
            name: name.into(),
            description: description.into(),
            kind: kind.into(),
            owner: self.admin_email.clone(),
            category_schema: json!({"tools":[],"classifications":[],"relations":[]}),
            stages: default_stages(),
            assigned_to: vec![json!({"assignee": self.admin_email, "role": "Manager"})],
            batches: Vec::new(),
            benchmark_enabled: false,
            benchmark_ratio: Value::Null,
            benchmark_cutoff: Value::Null,
            label_validation: json!({"customValidationEnabled": false}),
            asset_builder_templates: Vec::new(),
            instructions: Value::Null,
            settings: Map::new(),
            deleted: false,
            purged: false,
            created_at: now,
            updated_at: now,
            assets: Vec::new(),
            tasks: Vec::new(),
            task_pos: HashMap::new(),
            asset_pos: HashMap::new(),
            plugin_queue: Vec::new(),
        };
        self.project_pos.insert(p.id.clone(), self.projects.len());
        self.projects.push(p);
        self.projects.len() - 1
    }

    /// Removes a project's tasks from the global indexes.
    pub(crate) fn unindex_project(&mut self, pidx: usize) {
        let ids: Vec<String> = self.projects[pidx]
            .tasks
            .iter()
            .map(|t| t.id.clone())
            .collect();
        for id in ids {
            self.task_index.remove(&id);
        }
        let pid = self.projects[pidx].id.clone();
        self.history_index.retain(|_, (p, _)| *p != pidx);
        self.issues
            .retain(|i| i.get("project").and_then(Value::as_str) != Some(pid.as_str()));
    }

    /// Is `email` an organization member?
    pub(crate) fn is_member(&self, email: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(email))
    }

    /// The organization as JSON.
    pub(crate) fn org_json(&self) -> Value {
        json!({"_id": self.org_id, "name": self.org_name, "owner": self.admin_email})
    }
}

/// Input for creating one asset (with its task).
#[derive(Debug, Clone, Default)]
pub(crate) struct NewAsset {
    pub data: String,
    pub dataset: Option<Value>,
    pub external_id: String,
    pub metadata: Value,
    pub context_data: Value,
    pub batches: Vec<String>,
    pub attachments: Vec<Value>,
    pub storage: Option<String>,
    pub upload_local: bool,
    pub priority: i64,
    pub pre_classifications: Vec<Value>,
}

impl Project {
    /// A stage by id, or by name when no id matches.
    pub(crate) fn stage(&self, id_or_name: &str) -> Option<&Value> {
        self.stages
            .iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id_or_name))
            .or_else(|| {
                self.stages
                    .iter()
                    .find(|s| s.get("name").and_then(Value::as_str) == Some(id_or_name))
            })
    }

    /// A stage id for an id or name, if the stage exists.
    pub(crate) fn stage_id(&self, id_or_name: &str) -> Option<String> {
        self.stage(id_or_name)
            .and_then(|s| s.get("id").and_then(Value::as_str))
            .map(str::to_string)
    }

    /// Name of a stage id (the id itself when unknown).
    pub(crate) fn stage_name(&self, id: &str) -> String {
        self.stage(id)
            .and_then(|s| s.get("name").and_then(Value::as_str))
            .unwrap_or(id)
            .to_string()
    }

    /// Type of a stage id ("" when unknown).
    pub(crate) fn stage_type(&self, id: &str) -> String {
        self.stage(id)
            .and_then(|s| s.get("type").and_then(Value::as_str))
            .unwrap_or("")
            .to_string()
    }

    fn next_of(&self, id: &str, branch: usize) -> Option<String> {
        let next = self.stage(id)?.get("next")?.as_array()?;
        let pick = next.get(branch).or_else(|| next.first())?;
        pick.as_str().map(str::to_string)
    }

    /// The plugin id of a Plugin stage (`pluginId`, or `plugin` as a string
    /// or an object with `id`/`_id`); None for other stages.
    pub(crate) fn stage_plugin(&self, id: &str) -> Option<String> {
        let st = self.stage(id)?;
        if st.get("type").and_then(Value::as_str) != Some("Plugin") {
            return None;
        }
        let from_obj = |v: &Value| {
            v.get("id")
                .or_else(|| v.get("_id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let pid = match (st.get("pluginId"), st.get("plugin")) {
            (Some(Value::String(s)), _) => Some(s.clone()),
            (_, Some(Value::String(s))) => Some(s.clone()),
            (_, Some(v @ Value::Object(_))) => from_obj(v),
            _ => None,
        };
        pid.filter(|p| !p.trim().is_empty())
    }

    /// From a stage, follows automatic stages (Start, Logic, Webhook,
    /// Consensus, and Plugin stages without a plugin) until a stage where a
    /// task rests. A Plugin stage with a plugin id holds the task until the
    /// plugin annotates it with `nextStage=true`.
    pub(crate) fn settle(&self, mut id: String) -> String {
        for _ in 0..64 {
            let kind = self.stage_type(&id);
            if is_resting(&kind) || kind.is_empty() {
                return id;
            }
            if kind == "Plugin" && self.stage_plugin(&id).is_some() {
                return id;
            }
            // Logic: take the last (else) branch; others: the first.
            let branch = if kind == "Logic" { usize::MAX } else { 0 };
            let next = self
                .stage(&id)
                .and_then(|s| s.get("next"))
                .and_then(Value::as_array)
                .and_then(|n| {
                    if branch == usize::MAX {
                        n.last()
                    } else {
                        n.first()
                    }
                })
                .and_then(Value::as_str)
                .map(str::to_string);
            match next {
                Some(n) => id = n,
                None => return id,
            }
        }
        id
    }

    /// The stage new tasks start in.
    pub(crate) fn entry_stage(&self) -> String {
        let start = self
            .stages
            .iter()
            .find(|s| s.get("type").and_then(Value::as_str) == Some("Start"))
            .and_then(|s| s.get("id").and_then(Value::as_str))
            .unwrap_or("Start")
            .to_string();
        match self.next_of(&start, 0) {
            Some(n) => self.settle(n),
            None => start,
        }
    }

    /// Batch id for an id or a name.
    pub(crate) fn batch_id(&self, id_or_name: &str) -> Option<String> {
        self.batches
            .iter()
            .find(|b| b.id == id_or_name)
            .or_else(|| self.batches.iter().find(|b| b.name == id_or_name))
            .map(|b| b.id.clone())
    }

    /// Batch name for an id (the id when unknown).
    pub(crate) fn batch_name(&self, id: &str) -> String {
        self.batches
            .iter()
            .find(|b| b.id == id)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// Adds an asset and its task; returns the task index.
    pub(crate) fn add_asset(&mut self, a: NewAsset, creator: &str, now: i64, entry: &str) -> usize {
        let aidx = self.assets.len();
        let tidx = self.tasks.len();
        let pre = !a.pre_classifications.is_empty();
        let asset = Asset {
            id: object_id(),
            data: a.data,
            dataset: a.dataset,
            external_id: a.external_id,
            metadata: a.metadata,
            context_data: a.context_data,
            batches: a.batches,
            attachments: a.attachments,
            storage: a.storage,
            upload_local: a.upload_local,
            created_at: now,
            created_by: creator.into(),
            deleted: false,
            is_pre_labeled: pre,
            task: tidx,
        };
        let task = Task {
            id: object_id(),
            asset: aidx,
            stage: entry.into(),
            status: if self.stage_type(entry) == "Complete" {
                "Completed".into()
            } else {
                "TODO".into()
            },
            assignee: None,
            priority: a.priority,
            answer: Arc::new(
                json!({"tools": [], "classifications": a.pre_classifications, "relations": []}),
            ),
            brush_data_url: None,
            medical_brush_data_url: None,
            history: Vec::new(),
            is_benchmark: false,
            review_status: "Todo".into(),
            created_at: now,
            updated_at: now,
            created_by: creator.into(),
            updated_by: None,
            completed_at: None,
            completed_by: None,
            duration: 0.0,
            total_duration: 0.0,
            is_draft: false,
            is_skipped: false,
            task_type: "default".into(),
            open_issues: 0,
            is_pre_labeled: pre,
            deleted: false,
        };
        if let Some(plugin) = self.stage_plugin(entry) {
            self.plugin_queue.push((tidx, entry.to_string(), plugin));
        }
        self.asset_pos.insert(asset.id.clone(), aidx);
        self.task_pos.insert(task.id.clone(), tidx);
        self.assets.push(asset);
        self.tasks.push(task);
        tidx
    }

    /// Moves a task to `to` (settling through automatic stages), recording a
    /// history entry for the stage it leaves. Returns the new history id.
    pub(crate) fn move_task(
        &mut self,
        tidx: usize,
        to: &str,
        by: &str,
        action: &str,
        now: i64,
    ) -> String {
        let dest = self.settle(to.to_string());
        let dest_type = self.stage_type(&dest);
        let from = self.tasks[tidx].stage.clone();
        let from_name = self.stage_name(&from);
        let t = &mut self.tasks[tidx];
        let hid = object_id();
        t.history.push(HistoryEntry {
            id: hid.clone(),
            stage_id: from,
            stage_name: from_name,
            answer: t.answer.clone(),
            brush_data_url: t.brush_data_url.clone(),
            completed_by: by.into(),
            completed_at: now,
            duration: t.duration,
            review_status: Some(t.review_status.clone()),
            action: action.into(),
        });
        t.stage = dest.clone();
        t.updated_at = now;
        t.updated_by = Some(by.into());
        if let Some(plugin) = self.stage_plugin(&dest) {
            self.plugin_queue.push((tidx, dest, plugin));
        }
        let t = &mut self.tasks[tidx];
        if dest_type == "Complete" {
            t.status = "Completed".into();
            t.completed_at = Some(now);
            t.completed_by = Some(by.into());
        } else {
            t.status = "TODO".into();
        }
        hid
    }

    /// Follows the workflow from the task's stage using branch `branch`
    /// (0 = default/accepted, 1 = rejected). Returns the history id, or None
    /// when the stage has no successor.
    pub(crate) fn advance(
        &mut self,
        tidx: usize,
        branch: usize,
        by: &str,
        now: i64,
    ) -> Option<String> {
        let cur = self.tasks[tidx].stage.clone();
        let next = self.next_of(&cur, branch)?;
        Some(self.move_task(tidx, &next, by, "submit", now))
    }

    /// Project JSON as returned by GET /project/{id}.
    pub(crate) fn to_json(&self, org_id: &str) -> Value {
        let live = self.tasks.iter().filter(|t| !t.deleted).count();
        let mut v = json!({
            "_id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.kind,
            "owner": self.owner,
            "organization": org_id,
            "categorySchema": self.category_schema,
            "stages": self.stages,
            "assignedTo": self.assigned_to,
            "batches": self.batches.iter().map(|b| json!({"_id": b.id, "name": b.name})).collect::<Vec<_>>(),
            "assetCount": live,
            "taskCount": live,
            "benchmarkEnabled": self.benchmark_enabled,
            "benchmarkRatio": self.benchmark_ratio,
            "benchmarkCutoff": self.benchmark_cutoff,
            "labelValidation": self.label_validation,
            "assetBuilderTemplates": self.asset_builder_templates,
            "instructions": self.instructions,
            "deleted": self.deleted,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        });
        if let Some(obj) = v.as_object_mut() {
            for (k, val) in &self.settings {
                obj.entry(k.clone()).or_insert_with(|| val.clone());
            }
        }
        v
    }

    /// Appends the JSON text of [`Project::to_json`] (the same bytes) without
    /// building a `Value`: `GET /v2/project/{id}` is the SDKs' cheapest call, and
    /// its cost here is part of every per-call figure.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>, org_id: &str) {
        use crate::jsonw::{iso, string, value};
        const FIXED: [&str; 21] = [
            "_id",
            "name",
            "description",
            "type",
            "owner",
            "organization",
            "categorySchema",
            "stages",
            "assignedTo",
            "batches",
            "assetCount",
            "taskCount",
            "benchmarkEnabled",
            "benchmarkRatio",
            "benchmarkCutoff",
            "labelValidation",
            "assetBuilderTemplates",
            "instructions",
            "deleted",
            "createdAt",
            "updatedAt",
        ];
        let live = self.tasks.iter().filter(|t| !t.deleted).count();
        out.extend_from_slice(b"{\"_id\":");
        string(out, &self.id);
        out.extend_from_slice(b",\"name\":");
        string(out, &self.name);
        out.extend_from_slice(b",\"description\":");
        string(out, &self.description);
        out.extend_from_slice(b",\"type\":");
        string(out, &self.kind);
        out.extend_from_slice(b",\"owner\":");
        string(out, &self.owner);
        out.extend_from_slice(b",\"organization\":");
        string(out, org_id);
        out.extend_from_slice(b",\"categorySchema\":");
        value(out, &self.category_schema);
        out.extend_from_slice(b",\"stages\":");
        value(out, &self.stages);
        out.extend_from_slice(b",\"assignedTo\":");
        value(out, &self.assigned_to);
        out.extend_from_slice(b",\"batches\":[");
        for (i, b) in self.batches.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"_id\":");
            string(out, &b.id);
            out.extend_from_slice(b",\"name\":");
            string(out, &b.name);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"assetCount\":");
        value(out, &live);
        out.extend_from_slice(b",\"taskCount\":");
        value(out, &live);
        out.extend_from_slice(b",\"benchmarkEnabled\":");
        value(out, &self.benchmark_enabled);
        out.extend_from_slice(b",\"benchmarkRatio\":");
        value(out, &self.benchmark_ratio);
        out.extend_from_slice(b",\"benchmarkCutoff\":");
        value(out, &self.benchmark_cutoff);
        out.extend_from_slice(b",\"labelValidation\":");
        value(out, &self.label_validation);
        out.extend_from_slice(b",\"assetBuilderTemplates\":");
        value(out, &self.asset_builder_templates);
        out.extend_from_slice(b",\"instructions\":");
        value(out, &self.instructions);
        out.extend_from_slice(b",\"deleted\":");
        value(out, &self.deleted);
        out.extend_from_slice(b",\"createdAt\":");
        iso(out, self.created_at);
        out.extend_from_slice(b",\"updatedAt\":");
        iso(out, self.updated_at);
        // Settings that are not one of the fields above, in their order.
        for (k, val) in &self.settings {
            if !FIXED.contains(&k.as_str()) {
                out.push(b',');
                string(out, k);
                out.push(b':');
                value(out, val);
            }
        }
        out.push(b'}');
    }

    /// Short project JSON for listings.
    pub(crate) fn summary_json(&self, org_id: &str) -> Value {
        json!({
            "_id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.kind,
            "organization": org_id,
            "owner": self.owner,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        })
    }

    /// Asset JSON as returned by GET /project/{id}/assets: the reference form of
    /// what [`Project::write_asset_json`] writes (the tests compare them).
    #[cfg(test)]
    pub(crate) fn asset_json(&self, aidx: usize) -> Value {
        let a = &self.assets[aidx];
        let t = &self.tasks[a.task];
        let history: Vec<Value> = t
            .history
            .iter()
            .map(|h| json!({"stageId": h.stage_id, "completedBy": h.completed_by, "completedAt": iso(h.completed_at)}))
            .collect();
        let mut v = json!({
            "_id": a.id,
            "project": self.id,
            "data": a.data,
            "externalId": a.external_id,
            "metadata": a.metadata,
            "contextData": a.context_data,
            "batches": a.batches,
            "attachments": a.attachments,
            "isPreLabeled": a.is_pre_labeled,
            "uploadedLocally": a.upload_local,
            "createdAt": iso(a.created_at),
            "createdBy": a.created_by,
            "labelTasks": [{"_id": t.id, "stage": t.stage, "status": t.status, "stageHistory": history}],
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(ds) = &a.dataset {
                obj.insert("dataset".into(), ds.clone());
            }
            if let Some(s) = &a.storage {
                obj.insert("storage".into(), Value::String(s.clone()));
            }
        }
        v
    }

    /// Appends the JSON text of [`Project::asset_json`] (the same bytes) without
    /// building a `Value`, for the asset listing.
    pub(crate) fn write_asset_json(&self, out: &mut Vec<u8>, aidx: usize) {
        use crate::jsonw::{iso, string, strings, value};
        let a = &self.assets[aidx];
        let t = &self.tasks[a.task];
        out.extend_from_slice(b"{\"_id\":");
        string(out, &a.id);
        out.extend_from_slice(b",\"project\":");
        string(out, &self.id);
        out.extend_from_slice(b",\"data\":");
        string(out, &a.data);
        out.extend_from_slice(b",\"externalId\":");
        string(out, &a.external_id);
        out.extend_from_slice(b",\"metadata\":");
        value(out, &a.metadata);
        out.extend_from_slice(b",\"contextData\":");
        value(out, &a.context_data);
        out.extend_from_slice(b",\"batches\":");
        strings(out, &a.batches);
        out.extend_from_slice(b",\"attachments\":");
        value(out, &a.attachments);
        out.extend_from_slice(b",\"isPreLabeled\":");
        value(out, &a.is_pre_labeled);
        out.extend_from_slice(b",\"uploadedLocally\":");
        value(out, &a.upload_local);
        out.extend_from_slice(b",\"createdAt\":");
        iso(out, a.created_at);
        out.extend_from_slice(b",\"createdBy\":");
        string(out, &a.created_by);
        out.extend_from_slice(b",\"labelTasks\":[{\"_id\":");
        string(out, &t.id);
        out.extend_from_slice(b",\"stage\":");
        string(out, &t.stage);
        out.extend_from_slice(b",\"status\":");
        string(out, &t.status);
        out.extend_from_slice(b",\"stageHistory\":[");
        for (i, h) in t.history.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"stageId\":");
            string(out, &h.stage_id);
            out.extend_from_slice(b",\"completedBy\":");
            string(out, &h.completed_by);
            out.extend_from_slice(b",\"completedAt\":");
            iso(out, h.completed_at);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}]");
        if let Some(ds) = &a.dataset {
            out.extend_from_slice(b",\"dataset\":");
            value(out, ds);
        }
        if let Some(s) = &a.storage {
            out.extend_from_slice(b",\"storage\":");
            string(out, s);
        }
        out.push(b'}');
    }

    /// A single field of a task, for filtering and sorting.
    pub(crate) fn task_field(&self, tidx: usize, key: &str) -> Option<Value> {
        let t = &self.tasks[tidx];
        let a = &self.assets[t.asset];
        Some(match key {
            "_id" => Value::String(t.id.clone()),
            "stage" => Value::String(t.stage.clone()),
            "stageName" => Value::String(self.stage_name(&t.stage)),
            "batches" => json!(a.batches),
            "status" => Value::String(t.status.clone()),
            "reviewStatus" => Value::String(t.review_status.clone()),
            "type" => Value::String(t.task_type.clone()),
            "assignee" => return t.assignee.clone().map(Value::String),
            "externalId" => Value::String(a.external_id.clone()),
            "asset" => Value::String(a.id.clone()),
            "createdAt" => Value::String(iso(t.created_at)),
            "updatedAt" => Value::String(iso(t.updated_at)),
            "createdBy" => Value::String(t.created_by.clone()),
            "updatedBy" => return t.updated_by.clone().map(Value::String),
            "completedAt" => return t.completed_at.map(|c| Value::String(iso(c))),
            "completedBy" => return t.completed_by.clone().map(Value::String),
            "priority" => json!(t.priority),
            "duration" => json!(t.duration),
            "totalDuration" => json!(t.total_duration),
            "openIssuesCount" => json!(t.open_issues),
            "isDraft" => Value::Bool(t.is_draft),
            "isSkipped" => Value::Bool(t.is_skipped),
            "isBenchmark" => Value::Bool(t.is_benchmark),
            "isPreLabeled" => Value::Bool(t.is_pre_labeled),
            "project" => Value::String(self.id.clone()),
            _ => return None,
        })
    }

    /// Task JSON as returned by GET /task/{id} and the task listing.
    pub(crate) fn task_json(&self, tidx: usize, org_id: &str, include_answer: bool) -> Value {
        let t = &self.tasks[tidx];
        let a = &self.assets[t.asset];
        let mut v = json!({
            "_id": t.id,
            "project": self.id,
            "organization": org_id,
            "asset": {"_id": a.id, "externalId": a.external_id, "data": a.data},
            "externalId": a.external_id,
            "data": a.data,
            "batches": a.batches,
            "stage": t.stage,
            "stageName": self.stage_name(&t.stage),
            "status": t.status,
            "type": t.task_type,
            "assignee": t.assignee,
            "priority": t.priority,
            "isBenchmark": t.is_benchmark,
            "isPreLabeled": t.is_pre_labeled,
            "isDraft": t.is_draft,
            "isSkipped": t.is_skipped,
            "reviewStatus": t.review_status,
            "review": {"status": t.review_status},
            "openIssuesCount": t.open_issues,
            "duration": t.duration,
            "totalDuration": t.total_duration,
            "deleted": false,
            "createdAt": iso(t.created_at),
            "createdBy": t.created_by,
            "updatedAt": iso(t.updated_at),
            "updatedBy": t.updated_by,
            "completedAt": t.completed_at.map(iso),
            "completedBy": t.completed_by,
        });
        if let Some(obj) = v.as_object_mut() {
            if include_answer {
                obj.insert("answer".into(), (*t.answer).clone());
            }
            if let Some(b) = &t.brush_data_url {
                obj.insert("brushDataUrl".into(), Value::String(b.clone()));
            }
            if let Some(b) = &t.medical_brush_data_url {
                obj.insert("medicalBrushDataUrl".into(), Value::String(b.clone()));
            }
        }
        v
    }

    /// Appends the JSON text of [`Project::task_json`] (the same bytes that
    /// serialising it would give) without building a `Value`: the listing
    /// writes a page of tasks this way.
    pub(crate) fn write_task_json(
        &self,
        out: &mut Vec<u8>,
        tidx: usize,
        org_id: &str,
        include_answer: bool,
    ) {
        use crate::jsonw::{int, iso, opt_iso, opt_string, string, strings, value};
        let t = &self.tasks[tidx];
        let a = &self.assets[t.asset];
        out.extend_from_slice(b"{\"_id\":");
        string(out, &t.id);
        out.extend_from_slice(b",\"project\":");
        string(out, &self.id);
        out.extend_from_slice(b",\"organization\":");
        string(out, org_id);
        out.extend_from_slice(b",\"asset\":{\"_id\":");
        string(out, &a.id);
        out.extend_from_slice(b",\"externalId\":");
        string(out, &a.external_id);
        out.extend_from_slice(b",\"data\":");
        string(out, &a.data);
        out.extend_from_slice(b"},\"externalId\":");
        string(out, &a.external_id);
        out.extend_from_slice(b",\"data\":");
        string(out, &a.data);
        out.extend_from_slice(b",\"batches\":");
        strings(out, &a.batches);
        out.extend_from_slice(b",\"stage\":");
        string(out, &t.stage);
        out.extend_from_slice(b",\"stageName\":");
        string(out, self.stage_name_ref(&t.stage));
        out.extend_from_slice(b",\"status\":");
        string(out, &t.status);
        out.extend_from_slice(b",\"type\":");
        string(out, &t.task_type);
        out.extend_from_slice(b",\"assignee\":");
        opt_string(out, t.assignee.as_deref());
        out.extend_from_slice(b",\"priority\":");
        int(out, t.priority);
        out.extend_from_slice(b",\"isBenchmark\":");
        value(out, &t.is_benchmark);
        out.extend_from_slice(b",\"isPreLabeled\":");
        value(out, &t.is_pre_labeled);
        out.extend_from_slice(b",\"isDraft\":");
        value(out, &t.is_draft);
        out.extend_from_slice(b",\"isSkipped\":");
        value(out, &t.is_skipped);
        out.extend_from_slice(b",\"reviewStatus\":");
        string(out, &t.review_status);
        out.extend_from_slice(b",\"review\":{\"status\":");
        string(out, &t.review_status);
        out.extend_from_slice(b"},\"openIssuesCount\":");
        int(out, t.open_issues);
        out.extend_from_slice(b",\"duration\":");
        value(out, &t.duration);
        out.extend_from_slice(b",\"totalDuration\":");
        value(out, &t.total_duration);
        out.extend_from_slice(b",\"deleted\":false,\"createdAt\":");
        iso(out, t.created_at);
        out.extend_from_slice(b",\"createdBy\":");
        string(out, &t.created_by);
        out.extend_from_slice(b",\"updatedAt\":");
        iso(out, t.updated_at);
        out.extend_from_slice(b",\"updatedBy\":");
        opt_string(out, t.updated_by.as_deref());
        out.extend_from_slice(b",\"completedAt\":");
        opt_iso(out, t.completed_at);
        out.extend_from_slice(b",\"completedBy\":");
        opt_string(out, t.completed_by.as_deref());
        if include_answer {
            out.extend_from_slice(b",\"answer\":");
            value(out, &*t.answer);
        }
        if let Some(b) = &t.brush_data_url {
            out.extend_from_slice(b",\"brushDataUrl\":");
            string(out, b);
        }
        if let Some(b) = &t.medical_brush_data_url {
            out.extend_from_slice(b",\"medicalBrushDataUrl\":");
            string(out, b);
        }
        out.push(b'}');
    }

    /// [`Project::stage_name`] without the allocation.
    pub(crate) fn stage_name_ref<'a>(&'a self, id: &'a str) -> &'a str {
        self.stage(id)
            .and_then(|s| s.get("name").and_then(Value::as_str))
            .unwrap_or(id)
    }

    /// A history entry as JSON.
    pub(crate) fn history_json(&self, tidx: usize, h: &HistoryEntry, org_id: &str) -> Value {
        let t = &self.tasks[tidx];
        let a = &self.assets[t.asset];
        json!({
            "_id": h.id,
            "labelTaskId": t.id,
            "labelTask": t.id,
            "project": self.id,
            "organization": org_id,
            "asset": a.id,
            "externalId": a.external_id,
            "stage": h.stage_id,
            "stageId": h.stage_id,
            "stageName": h.stage_name,
            "answer": &*h.answer,
            "brushDataUrl": h.brush_data_url,
            "batches": a.batches,
            "completedBy": h.completed_by,
            "completedAt": iso(h.completed_at),
            "createdAt": iso(h.completed_at),
            "duration": h.duration,
            "reviewStatus": h.review_status,
            "action": h.action,
            "deleted": false,
            "rework": false,
            "isSkipped": false,
        })
    }
}

/// (tool, title, options as (value, option schemaId)).
type SchemaEntry = (String, String, Vec<(String, String)>);

/// Schema knowledge used to translate answers between import/export forms.
#[derive(Debug, Default)]
pub(crate) struct SchemaIndex {
    /// schemaId → (tool, title, options[(value, optionSchemaId)])
    by_id: HashMap<String, SchemaEntry>,
    /// title → schemaId, separately for tools, classifications, relations.
    tool_titles: HashMap<String, String>,
    class_titles: HashMap<String, String>,
    rel_titles: HashMap<String, String>,
}

impl SchemaIndex {
    /// Indexes a categorySchema.
    pub(crate) fn new(schema: &Value) -> SchemaIndex {
        let mut ix = SchemaIndex::default();
        let arr = |k: &str| {
            schema
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for t in arr("tools") {
            ix.add(&t, 0);
        }
        for c in arr("classifications") {
            ix.add(&c, 1);
        }
        for r in arr("relations") {
            ix.add(&r, 2);
        }
        ix
    }

    fn add(&mut self, e: &Value, kind: u8) {
        let sid = e
            .get("schemaId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let tool = e
            .get("tool")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let title = e
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let options = e
            .get("options")
            .and_then(Value::as_array)
            .map(|o| {
                o.iter()
                    .filter_map(|op| {
                        Some((
                            op.get("value")?.as_str()?.to_string(),
                            op.get("schemaId")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !title.is_empty() && !sid.is_empty() {
            let map = match kind {
                0 => &mut self.tool_titles,
                1 => &mut self.class_titles,
                _ => &mut self.rel_titles,
            };
            map.entry(title.clone()).or_insert_with(|| sid.clone());
        }
        if !sid.is_empty() {
            self.by_id.insert(sid, (tool, title, options));
        }
        if let Some(nested) = e.get("classifications").and_then(Value::as_array) {
            for n in nested {
                self.add(n, 1);
            }
        }
    }

    /// Ensures `schemaId` (resolving `title`) and fills `title`/`tool`.
    fn resolve(&self, item: &mut Map<String, Value>, kind: u8) {
        let has_sid = item
            .get("schemaId")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if !has_sid && let Some(title) = item.get("title").and_then(Value::as_str) {
            let map = match kind {
                0 => &self.tool_titles,
                1 => &self.class_titles,
                _ => &self.rel_titles,
            };
            if let Some(sid) = map.get(title) {
                item.insert("schemaId".into(), Value::String(sid.clone()));
            }
        }
        if let Some((tool, title, _)) = item
            .get("schemaId")
            .and_then(Value::as_str)
            .and_then(|s| self.by_id.get(s))
        {
            if !item.contains_key("title") && !title.is_empty() {
                item.insert("title".into(), Value::String(title.clone()));
            }
            if kind == 1 && !item.contains_key("tool") && !tool.is_empty() {
                item.insert("tool".into(), Value::String(tool.clone()));
            }
        }
    }

    /// Maps an answer's option values to option schemaIds (`to_ids`) or back.
    fn map_answer(&self, item: &mut Map<String, Value>, to_ids: bool) {
        let Some((_, _, options)) = item
            .get("schemaId")
            .and_then(Value::as_str)
            .and_then(|s| self.by_id.get(s))
        else {
            return;
        };
        if options.is_empty() {
            return;
        }
        let conv = |s: &str| -> String {
            for (val, sid) in options {
                if to_ids && val == s {
                    return sid.clone();
                }
                if !to_ids && sid == s {
                    return val.clone();
                }
            }
            s.to_string()
        };
        if let Some(ans) = item.get_mut("answer") {
            match ans {
                Value::String(s) => *s = conv(s),
                Value::Array(list) => {
                    for x in list.iter_mut() {
                        if let Value::String(s) = x {
                            *s = conv(s);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn classification(&self, v: &Value, to_ids: bool) -> Value {
        let Some(mut m) = v.as_object().cloned() else {
            return v.clone();
        };
        self.resolve(&mut m, 1);
        self.map_answer(&mut m, to_ids);
        if let Some(Value::Array(nested)) = m.get("classifications").cloned() {
            m.insert(
                "classifications".into(),
                Value::Array(
                    nested
                        .iter()
                        .map(|n| self.classification(n, to_ids))
                        .collect(),
                ),
            );
        }
        Value::Object(m)
    }

    /// Converts an imported/annotated answer (`objects` or `tools`) to the
    /// stored form: tools with objectIds, option schemaIds for choices.
    pub(crate) fn to_stored(&self, src: &Map<String, Value>) -> Value {
        let list = |k: &str| {
            src.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut tools = list("tools");
        tools.extend(list("objects"));
        let tools: Vec<Value> = tools
            .iter()
            .map(|t| {
                let Some(mut m) = t.as_object().cloned() else {
                    return t.clone();
                };
                self.resolve(&mut m, 0);
                if m.get("objectId")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    m.insert(
                        "objectId".into(),
                        Value::String(crate::util::hex32()[..23].to_string()),
                    );
                }
                let nested = m
                    .get("classifications")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                m.insert(
                    "classifications".into(),
                    Value::Array(
                        nested
                            .iter()
                            .map(|c| self.classification(c, true))
                            .collect(),
                    ),
                );
                Value::Object(m)
            })
            .collect();
        let classifications: Vec<Value> = list("classifications")
            .iter()
            .map(|c| self.classification(c, true))
            .collect();
        let relations: Vec<Value> = list("relations")
            .iter()
            .map(|r| {
                let Some(mut m) = r.as_object().cloned() else {
                    return r.clone();
                };
                self.resolve(&mut m, 2);
                if !m.contains_key("objectId") {
                    m.insert(
                        "objectId".into(),
                        Value::String(crate::util::hex32()[..23].to_string()),
                    );
                }
                Value::Object(m)
            })
            .collect();
        json!({"tools": tools, "classifications": classifications, "relations": relations})
    }

    /// Converts a stored answer to export form (option values, titles).
    pub(crate) fn to_export(
        &self,
        answer: &Value,
        include_metadata: bool,
    ) -> (Value, Value, Value) {
        let list = |k: &str| {
            answer
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let strip = |mut v: Value| {
            if !include_metadata && let Some(m) = v.as_object_mut() {
                m.remove("metadata");
            }
            v
        };
        let tools = list("tools")
            .iter()
            .map(|t| {
                let Some(mut m) = t.as_object().cloned() else {
                    return t.clone();
                };
                self.resolve(&mut m, 0);
                m.remove("lock");
                let nested = m
                    .get("classifications")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                m.insert(
                    "classifications".into(),
                    Value::Array(
                        nested
                            .iter()
                            .map(|c| strip(self.classification(c, false)))
                            .collect(),
                    ),
                );
                strip(Value::Object(m))
            })
            .collect();
        let classes = list("classifications")
            .iter()
            .map(|c| strip(self.classification(c, false)))
            .collect();
        let rels = list("relations")
            .iter()
            .map(|r| {
                let Some(mut m) = r.as_object().cloned() else {
                    return r.clone();
                };
                self.resolve(&mut m, 2);
                strip(Value::Object(m))
            })
            .collect();
        (
            Value::Array(tools),
            Value::Array(classes),
            Value::Array(rels),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct writers and the `Value`s of `to_json`, `task_json` and `asset_json`
    /// give the same bytes, for every optional field present and absent and for
    /// strings that need escaping.
    #[test]
    fn written_project_task_and_asset_json_are_byte_identical_to_the_values() {
        let mut st = State::new("admin@example.com");
        let pidx = st.add_project("p \"q\"", "d", "ango");
        let p = &mut st.projects[pidx];
        p.stages.push(
            json!({"id": "Rev\u{e9}w", "name": "Review \"1\"", "type": "Review", "next": []}),
        );
        let entry = p.entry_stage();
        for i in 0..4 {
            p.add_asset(
                NewAsset {
                    data: format!("https://h/\u{1F980}/{i}\n\"x\"\\"),
                    external_id: format!("ext\t{i}\u{2028}"),
                    batches: (0..i).map(|b| format!("b{b}\"")).collect(),
                    ..Default::default()
                },
                "creator\u{1}",
                1_700_000_000_000 + i as i64,
                &entry,
            );
        }
        let t = &mut p.tasks[1];
        t.assignee = Some("a@b".into());
        t.updated_by = Some("u\"".into());
        t.completed_at = Some(-5);
        t.completed_by = Some("c".into());
        t.brush_data_url = Some("brush\\".into());
        t.medical_brush_data_url = Some("med".into());
        t.priority = -1000;
        t.open_issues = 3;
        t.duration = 0.1 + 0.2;
        t.total_duration = 1e21;
        t.is_benchmark = true;
        t.answer = Arc::new(
            json!({"tools": [{"x": 1.5, "t": "é"}], "classifications": [], "relations": []}),
        );
        p.tasks[2].stage = "Rev\u{e9}w".into();
        p.tasks[3].stage = "unknown stage".into();
        p.tasks[3].brush_data_url = Some(String::new());
        let p = &mut st.projects[pidx];
        p.batches.push(Batch {
            id: "b\"1".into(),
            name: "n\u{1}".into(),
        });
        p.batches.push(Batch {
            id: "b2".into(),
            name: "two".into(),
        });
        p.settings.insert("zeta".into(), json!({"on": true}));
        p.settings
            .insert("name".into(), json!("must not replace the name"));
        p.settings.insert("alpha".into(), json!([1, 2.5, null]));
        p.instructions = json!({"text": "read \"this\""});
        p.tasks[0].deleted = true;
        for (k, org) in ["org", "o\"rg"].into_iter().enumerate() {
            if k == 1 {
                st.projects[pidx].settings.clear();
                st.projects[pidx].batches.clear();
            }
            let p = &st.projects[pidx];
            let mut out = Vec::new();
            p.write_json(&mut out, org);
            let expected = serde_json::to_vec(&p.to_json(org)).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        let p = &mut st.projects[pidx];
        p.tasks[0].deleted = false;
        p.assets[1].dataset = Some(json!(["x", {"k": 1.25}]));
        p.assets[1].storage = Some("st\"1".into());
        p.assets[2].metadata = json!({"w": 1, "nested": {"a": [true, null]}});
        p.assets[2].attachments = vec![json!({"type": "TEXT", "value": "\u{0}"})];
        p.assets[3].upload_local = true;
        p.assets[3].is_pre_labeled = true;
        for (k, stage) in ["Label", "Rev\u{e9}w"].into_iter().enumerate() {
            let answer = p.tasks[2].answer.clone();
            p.tasks[2].history.push(HistoryEntry {
                id: format!("h{k}"),
                stage_id: stage.into(),
                stage_name: stage.into(),
                answer,
                brush_data_url: None,
                completed_by: "c\"b".into(),
                completed_at: 1_600_000_000_000 + k as i64,
                duration: 1.0,
                review_status: None,
                action: "submit".into(),
            });
        }
        let p = &st.projects[pidx];
        for aidx in 0..p.assets.len() {
            let mut out = Vec::new();
            p.write_asset_json(&mut out, aidx);
            let expected = serde_json::to_vec(&p.asset_json(aidx)).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        for tidx in 0..p.tasks.len() {
            for include_answer in [false, true] {
                let mut out = Vec::new();
                p.write_task_json(&mut out, tidx, "org\"1", include_answer);
                let expected =
                    serde_json::to_vec(&p.task_json(tidx, "org\"1", include_answer)).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }
}
