//! Seeding: a demo project, and fast bulk projects for benchmarks.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::Ctx;
use crate::state::{Batch, HistoryEntry, NewAsset};
use crate::util::{now_ms, object_id};

/// Options for [`seed_project`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SeedOptions {
    /// Bounding boxes to put in every task's answer.
    pub objects_per_task: usize,
    /// Move every task to the Complete stage.
    pub completed: bool,
}

/// The demo ontology: two tools, three classifications, one relation.
pub(crate) fn demo_schema() -> Value {
    json!({
        "tools": [
            {"schemaId": "a1b2c3d4e5f6a7b8c9d0e1f", "tool": "bounding-box", "title": "Car",
             "required": false, "color": "#f44336", "shortcutKey": "1", "multiple": false,
             "classifications": [
                {"schemaId": "c0l0r0000000000000000c1", "tool": "radio", "title": "Color",
                 "required": false, "options": [
                    {"value": "Red", "schemaId": "0pt10n00000000000000r3d"},
                    {"value": "Blue", "schemaId": "0pt10n000000000000b1u3"}],
                 "classifications": []}],
             "options": []},
            {"schemaId": "b2c3d4e5f6a7b8c9d0e1f2a", "tool": "polygon", "title": "Road",
             "required": false, "color": "#2196f3", "shortcutKey": "2", "classifications": [], "options": []}
        ],
        "classifications": [
            {"schemaId": "c3d4e5f6a7b8c9d0e1f2a3b", "tool": "radio", "title": "Weather", "required": false,
             "options": [{"value": "Sunny", "schemaId": "0pt10n0000000000005unny"},
                         {"value": "Rainy", "schemaId": "0pt10n000000000000ra1ny"}],
             "classifications": []},
            {"schemaId": "d4e5f6a7b8c9d0e1f2a3b4c", "tool": "checkbox", "title": "Tags", "required": false,
             "options": [{"value": "Blurry", "schemaId": "0pt10n00000000000b1urry"},
                         {"value": "Night", "schemaId": "0pt10n00000000000n1ght0"}],
             "classifications": []},
            {"schemaId": "e5f6a7b8c9d0e1f2a3b4c5d", "tool": "text", "title": "Notes", "required": false,
             "options": [], "classifications": []}
        ],
        "relations": [
            {"schemaId": "f6a7b8c9d0e1f2a3b4c5d6e", "tool": "one-to-one", "title": "Connected",
             "classifications": [], "multiple": false}
        ]
    })
}

fn bbox(i: usize, k: usize) -> Value {
    json!({
        "schemaId": "a1b2c3d4e5f6a7b8c9d0e1f",
        "title": "Car",
        "objectId": format!("obj{:08x}{:04x}", i, k),
        "bounding-box": {"x": (k * 10) as f64 + 1.5, "y": (i % 500) as f64, "width": 40.25, "height": 30.5},
        "classifications": [{"schemaId": "c0l0r0000000000000000c1", "answer": "0pt10n00000000000000r3d"}],
        "metadata": {"createdAt": "2024-01-01T00:00:00.000Z", "createdBy": "seed"},
    })
}

/// Creates a project with `n` tasks. Returns its id.
pub(crate) fn seed_project(ctx: &Ctx, name: &str, n: usize, opts: &SeedOptions) -> String {
    let mut st = ctx.write();
    let pidx = st.add_project(name, "Seeded by ango-emulator", "ango");
    let admin = st.admin_email.clone();
    let now = now_ms();
    let start = now - n as i64;
    let p = &mut st.projects[pidx];
    p.category_schema = demo_schema();
    let batch = Batch {
        id: object_id(),
        name: "Batch 1".into(),
    };
    let batch_id = batch.id.clone();
    p.batches.push(batch);
    p.assets.reserve(n);
    p.tasks.reserve(n);
    let entry = p.entry_stage();
    let mut ids = Vec::with_capacity(n);
    let shared_answer = (opts.objects_per_task > 0).then(|| {
        let tools: Vec<Value> = (0..opts.objects_per_task).map(|k| bbox(0, k)).collect();
        Arc::new(json!({
            "tools": tools,
            "classifications": [{"schemaId": "c3d4e5f6a7b8c9d0e1f2a3b", "answer": "0pt10n0000000000005unny"}],
            "relations": [],
        }))
    });
    for i in 0..n {
        let ti = p.add_asset(
            NewAsset {
                data: format!("https://example.com/assets/image_{i:06}.jpg"),
                external_id: format!("image_{i:06}.jpg"),
                metadata: json!({"width": 1024, "height": 768}),
                context_data: json!({}),
                batches: if i % 2 == 0 {
                    vec![batch_id.clone()]
                } else {
                    Vec::new()
                },
                ..Default::default()
            },
            &admin,
            start + i as i64,
            &entry,
        );
        if let Some(a) = &shared_answer {
            // One shared (immutable) answer keeps seeding of big projects fast.
            p.tasks[ti].answer = a.clone();
        }
        if opts.completed {
            let t = &mut p.tasks[ti];
            t.history.push(HistoryEntry {
                id: object_id(),
                stage_id: t.stage.clone(),
                stage_name: "Label".into(),
                answer: t.answer.clone(),
                brush_data_url: None,
                completed_by: admin.clone(),
                completed_at: now,
                duration: 12.0,
                review_status: None,
                action: "submit".into(),
            });
            t.stage = "Complete".into();
            t.status = "Completed".into();
            t.completed_at = Some(now);
            t.completed_by = Some(admin.clone());
            t.assignee = Some(admin.clone());
            t.duration = 12.0;
            t.total_duration = 12.0;
        }
        ids.push((
            p.tasks[ti].id.clone(),
            p.tasks[ti].history.first().map(|h| h.id.clone()),
        ));
    }
    let pid = p.id.clone();
    st.task_index.reserve(n);
    for (tid, hid) in ids {
        if let Some(h) = hid {
            st.history_index.insert(h, (pidx, tid.clone()));
        }
        st.task_index.insert(tid, pidx);
    }
    pid
}

/// The `--seed demo` content: one project with an ontology, a batch and tasks
/// in various states.
pub(crate) fn seed_demo(ctx: &Ctx) {
    let pid = seed_project(ctx, "Demo project", 20, &SeedOptions::default());
    let mut st = ctx.write();
    let admin = st.admin_email.clone();
    let now = now_ms();
    let Ok(pidx) = st.project_idx(&pid) else {
        return;
    };
    let p = &mut st.projects[pidx];
    p.description = "Demo project created by ango-emulator --seed demo".into();
    let mut hist = Vec::new();
    for i in 0..5 {
        p.tasks[i].answer = Arc::new(json!({
            "tools": [bbox(i, 0)],
            "classifications": [{"schemaId": "c3d4e5f6a7b8c9d0e1f2a3b", "answer": "0pt10n000000000000ra1ny"}],
            "relations": [],
        }));
        p.tasks[i].assignee = Some(admin.clone());
        let h = p.move_task(i, "Complete", &admin, "submit", now);
        hist.push((h, p.tasks[i].id.clone()));
    }
    for (h, t) in hist {
        st.history_index.insert(h, (pidx, t));
    }
}
