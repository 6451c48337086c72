//! End-to-end tests of the emulator over plain HTTP.

use ango_testkit::client as common;

use std::collections::HashSet;

use ango_emulator::{Emulator, EmulatorConfig, FaultSettings};
use common::{Api, enc, raw, split_url, unzip_first};
use serde_json::{Value, json};

fn start() -> (Emulator, Api) {
    let emu = Emulator::start(EmulatorConfig::default().api_key("test-key")).expect("start");
    let api = Api::new(emu.url(), emu.api_key());
    (emu, api)
}

fn schema() -> Value {
    json!({
        "tools": [{"schemaId": "tool0000000000000000001", "tool": "bounding-box", "title": "Car",
                   "classifications": [], "options": []}],
        "classifications": [{"schemaId": "cls00000000000000000001", "tool": "radio", "title": "Weather",
            "options": [{"value": "Sunny", "schemaId": "opt00000000000000sunny"},
                        {"value": "Rainy", "schemaId": "opt00000000000000rainy"}],
            "classifications": []}],
        "relations": []
    })
}

fn create_project(api: &Api, name: &str) -> String {
    let v = api.ok(
        "POST",
        "/v2/project",
        Some(&json!({"name": name, "description": ""})),
    );
    v["data"]["project"]["_id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn auth_is_required_on_api_routes() {
    let (emu, api) = start();
    let host = split_url(emu.url()).0;
    let r = raw(&host, "GET", "/v2/listProjects", &[], None).expect("req");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["status"], "fail");
    assert!(r.json()["message"].is_string());
    let r = raw(
        &host,
        "GET",
        "/v2/listProjects",
        &[("apikey", "wrong")],
        None,
    )
    .expect("req");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["statusCode"], 401);
    let r = raw(
        &host,
        "POST",
        "/__emulator/seed",
        &[],
        Some(b"{\"tasks\":1}"),
    )
    .expect("req");
    assert_eq!(r.status, 401);
    // Header names are case-insensitive.
    let r = raw(
        &host,
        "GET",
        "/v2/listProjects",
        &[("APIKEY", "test-key")],
        None,
    )
    .expect("req");
    assert_eq!(r.status, 200);
    assert_eq!(api.get("/v2/listProjects")["data"]["total"], 0);
    // Health needs no key.
    assert_eq!(
        raw(&host, "GET", "/__emulator/health", &[], None)
            .expect("req")
            .status,
        200
    );
}

#[test]
fn unknown_ids_and_routes_are_404() {
    let (emu, api) = start();
    let missing = "0123456789abcdef01234567";
    for target in [
        format!("/v2/project/{missing}"),
        format!("/v2/task/{missing}"),
        format!("/v2/task/{missing}/history"),
        format!("/v2/taskHistory/{missing}"),
        format!("/v2/project/{missing}/tasks"),
        format!("/v2/project/{missing}/assets"),
        format!("/v2/organization/{missing}/users"),
        "/v2/no/such/route".to_string(),
        "/files/nope/nothing.bin".to_string(),
    ] {
        let r = api.call("GET", &target, None);
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.json()["status"], "fail", "{target}");
    }
    let r = api.call("DELETE", &format!("/v2/storages/{missing}"), None);
    assert_eq!(r.status, 404);
    let r = api.call(
        "POST",
        &format!("/v2/annotate/{missing}"),
        Some(&json!({"answer": {}})),
    );
    assert_eq!(r.status, 404);
    let org = emu.organization_id();
    assert_eq!(
        api.get(&format!("/v2/organization/{org}/users"))["data"]["users"][0]["organizationRole"],
        "admin"
    );
}

#[test]
fn bad_requests_are_400_with_json() {
    let (_emu, api) = start();
    let r = raw(
        &api.host,
        "POST",
        "/v2/project",
        &[("apikey", "test-key")],
        Some(b"{not json"),
    )
    .expect("req");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["status"], "fail");
    assert_eq!(
        api.call("POST", "/v2/project", Some(&json!({"description": "x"})))
            .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            "/v2/project",
            Some(&json!({"name": "x", "type": "weird"}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call("GET", "/v2/listProjects?limit=1001", None).status,
        400
    );
    assert_eq!(
        api.call("GET", "/v2/listProjects?limit=1000", None).status,
        200
    );
    assert_eq!(api.call("GET", "/v2/listProjects?page=0", None).status, 400);
    let pid = create_project(&api, "p");
    assert_eq!(
        api.call("GET", &format!("/v2/project/{pid}/tasks?limit=5000"), None)
            .status,
        400
    );
    assert_eq!(
        api.call("GET", &format!("/v2/project/{pid}/assets?limit=1001"), None)
            .status,
        400
    );
    assert_eq!(
        api.call(
            "GET",
            &format!("/v2/project/{pid}/tasks?filter=%7Bbad"),
            None
        )
        .status,
        400
    );
    let f = enc(r#"{"stage":{"$frobnicate":1}}"#);
    assert_eq!(
        api.call("GET", &format!("/v2/project/{pid}/tasks?filter={f}"), None)
            .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/project/{pid}/cloud"),
            Some(&json!({"assets": []}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/project/{pid}/cloud"),
            Some(&json!({"assets": [{"externalId": "x"}]}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/project/{pid}"),
            Some(&json!({"stages": "nope"}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/project/{pid}/purge"),
            Some(&json!({"confirmName": "wrong"}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call(
            "POST",
            "/v2/storages",
            Some(&json!({"name": "s", "provider": "FTP"}))
        )
        .status,
        400
    );
    assert_eq!(
        api.call("GET", &format!("/v2/export?project={pid}&format=xml"), None)
            .status,
        400
    );
    // Nothing was created by the failed cloud imports.
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks"))["data"]["total"],
        0
    );
}

#[test]
fn full_workflow() {
    let (emu, api) = start();
    let pid = create_project(&api, "Workflow");
    api.post(
        &format!("/v2/project/{pid}"),
        json!({"categorySchema": schema()}),
    );
    let v = api.post(&format!("/v2/batches/{pid}"), json!({"name": "B1"}));
    let b1 = v["data"]["project"]["batches"][0]["_id"]
        .as_str()
        .expect("batch")
        .to_string();
    // Full-replacement list: keep B1, add B2.
    let v = api.post(
        &format!("/v2/batches/{pid}"),
        json!({"batches": [{"_id": b1, "name": "B1"}, {"name": "B2"}]}),
    );
    assert_eq!(
        v["data"]["project"]["batches"].as_array().map(Vec::len),
        Some(2)
    );
    let b2 = v["data"]["project"]["batches"][1]["_id"]
        .as_str()
        .expect("batch")
        .to_string();

    // Cloud import: 6 assets into B1 via the query, one with its own batches.
    let mut assets: Vec<Value> = (0..5)
        .map(|i| json!({"data": format!("https://example.com/img_{i}.jpg"), "externalId": format!("img_{i}.jpg"),
                        "metadata": {"width": 10, "height": 20}, "contextData": {"k": i}}))
        .collect();
    assets.push(json!({"data": "https://example.com/other.jpg", "externalId": "other.jpg", "batches": [b2]}));
    let q = enc(&format!("[\"{b1}\"]"));
    let v = api.post(
        &format!("/v2/project/{pid}/cloud?batches={q}"),
        json!({"assets": assets, "uploadLocal": null, "priority": 3}),
    );
    assert_eq!(v["data"]["assets"]["assetsCreated"], 6);

    // Assets listing with raw (unencoded) JSON filters, as the official client sends them.
    let v = api.get(&format!(
        "/v2/project/{pid}/assets?page=1&limit=10&filters={{\"externalId\":%20\"img_3.jpg\"}}"
    ));
    assert_eq!(v["data"]["total"], 1);
    assert_eq!(v["data"]["assets"][0]["contextData"]["k"], 3);
    let v = api.get(&format!(
        "/v2/project/{pid}/assets?filters={{\"batches\":%20[\"{b2}\"]}}"
    ));
    assert_eq!(v["data"]["total"], 1);

    // Tasks: filters and pagination.
    let v = api.get(&format!("/v2/project/{pid}/tasks?page=1&limit=4"));
    assert_eq!(v["data"]["total"], 6);
    assert_eq!(v["data"]["tasks"].as_array().map(Vec::len), Some(4));
    assert!(v["data"]["tasks"][0].get("answer").is_none());
    let v2 = api.get(&format!("/v2/project/{pid}/tasks?page=2&limit=4"));
    assert_eq!(v2["data"]["tasks"].as_array().map(Vec::len), Some(2));
    let f = enc(
        &json!({"stage": {"$eq": "Label"}, "batches": {"$in": [b1]}, "priority": {"$gte": 3}})
            .to_string(),
    );
    let v = api.get(&format!(
        "/v2/project/{pid}/tasks?filter={f}&includeAnswer=true"
    ));
    assert_eq!(v["data"]["total"], 5);
    assert!(v["data"]["tasks"][0]["answer"]["tools"].is_array());
    let f = enc(&json!({"externalId": {"$regex": "^img_[0-2]"}}).to_string());
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks?filter={f}"))["data"]["total"],
        3
    );
    let v = api.get(&format!(
        "/v2/project/{pid}/tasks?batches=[\"{b2}\"]&status[eq]=TODO&stage=Label"
    ));
    assert_eq!(v["data"]["total"], 1);
    let v = api.get(&format!(
        "/v2/project/{pid}/tasks?fields=_id,stage&sort=externalId&limit=10"
    ));
    let first = &v["data"]["tasks"][0];
    assert!(first.get("stage").is_some() && first.get("status").is_none());

    // Import labels by externalId, using a title instead of a schemaId and an option value.
    let labels = json!([{"externalId": "img_0.jpg",
        "objects": [{"title": "Car", "bounding-box": {"x": 1, "y": 2, "width": 3, "height": 4}}],
        "classifications": [{"schemaId": "cls00000000000000000001", "answer": "Rainy"}]}]);
    let v = api.post(
        "/v2/import/labels",
        json!({"project": pid, "jsonContent": labels}),
    );
    assert!(
        v["data"]["project"]
            .as_str()
            .is_some_and(|s| s.starts_with("1 / 1"))
    );
    let f = enc(&json!({"externalId": "img_0.jpg"}).to_string());
    let v = api.get(&format!("/v2/project/{pid}/tasks?filter={f}"));
    let tid = v["data"]["tasks"][0]["_id"]
        .as_str()
        .expect("task")
        .to_string();
    let v = api.get(&format!("/v2/task/{tid}?includeAnswer=False"));
    let task = &v["data"]["task"];
    assert_eq!(task["project"], pid.as_str());
    assert_eq!(
        task["answer"]["tools"][0]["schemaId"],
        "tool0000000000000000001"
    );
    assert_eq!(
        task["answer"]["classifications"][0]["answer"],
        "opt00000000000000rainy"
    );

    // Annotate and submit: objects → tools; moves Label → Complete.
    let body = json!({"answer": {"objects": [{"schemaId": "tool0000000000000000001", "objectId": "o1",
        "bounding-box": {"x": 5, "y": 5, "width": 5, "height": 5}}],
        "classifications": [{"schemaId": "cls00000000000000000001", "answer": "opt00000000000000sunny"}], "relations": []},
        "brushDataUrl": "https://example.com/brush.png", "medicalBrushDataUrl": null, "duration": 0});
    api.post(
        &format!("/v2/annotate/{tid}?nextStage=true&isPlugin=false"),
        body,
    );
    let task = api.get(&format!("/v2/task/{tid}"))["data"]["task"].clone();
    assert_eq!(task["stage"], "Complete");
    assert_eq!(task["status"], "Completed");
    assert_eq!(task["brushDataUrl"], "https://example.com/brush.png");
    assert_eq!(task["answer"]["tools"][0]["objectId"], "o1");
    let hist = api.get(&format!("/v2/task/{tid}/history"))["data"]["taskHistory"].clone();
    assert_eq!(hist[0]["stageId"], "Label");
    let hid = hist[0]["_id"].as_str().expect("hid");
    assert_eq!(
        api.get(&format!("/v2/taskHistory/{hid}"))["data"]["taskHistory"]["labelTaskId"],
        tid.as_str()
    );

    // Review, assign, priority, benchmark, requeue.
    api.post(
        &format!("/v2/review/{tid}"),
        json!({"reviewStatus": "Accepted"}),
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/review/{tid}"),
            Some(&json!({"reviewStatus": "Maybe"}))
        )
        .status,
        400
    );
    api.post(
        "/v2/task/assign",
        json!({"project": pid, "tasks": [tid], "user": "a@b.c", "stage": "Complete"}),
    );
    api.post(
        &format!("/v2/project/{pid}/updatePriority"),
        json!({"filters": {"externalIds": ["img_1.jpg"]}, "priority": 7}),
    );
    let f = enc(&json!({"priority": {"$eq": 7}}).to_string());
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks?filter={f}"))["data"]["total"],
        1
    );
    api.post(
        &format!("/v2/project/{pid}/benchmark-tasks"),
        json!({"tasks": [tid], "isBenchmark": true}),
    );

    // Issues.
    let v = api.post(
        "/v2/issues",
        json!({"content": "Wrong box", "labelTask": tid, "position": "[1, 2]"}),
    );
    let iid = v["data"]["issue"]["_id"]
        .as_str()
        .expect("issue")
        .to_string();
    api.post(
        &format!("/v2/issues/{iid}/comment"),
        json!({"content": "Agreed"}),
    );
    let v = api.get(&format!("/v2/issues?project={pid}&labelTask={tid}"));
    assert_eq!(v["data"]["issues"][0]["comments"][0]["content"], "Agreed");
    let f = enc(&json!({"openIssuesCount": {"$gt": 0}}).to_string());
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks?filter={f}"))["data"]["total"],
        1
    );

    // Export JSON: default stage Complete (official client's default options).
    let params = format!(
        "sendEmail=false&includeMetadata=true&includeHistory=true&doNotNotify=true&format=json&type=task&includeOnlyKeyFrames=false&taskTypes={}&stage={}&project={pid}",
        enc("[\"default\", \"benchmark\"]"),
        enc("[\"Complete\"]")
    );
    let v = api.get(&format!("/v2/export?{params}"));
    let url = v["data"]["exportPath"]
        .as_str()
        .expect("exportPath")
        .to_string();
    let (host, target) = split_url(&url);
    let zip = raw(&host, "GET", &target, &[], None).expect("download");
    assert_eq!(zip.status, 200);
    let (name, content) = unzip_first(&zip.body);
    assert!(name.ends_with(".json"), "{name}");
    let items: Value = serde_json::from_slice(&content).expect("json export");
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 1);
    let it = &items[0];
    assert_eq!(it["externalId"], "img_0.jpg");
    assert_eq!(it["batches"][0], "B1");
    assert_eq!(it["metadata"]["width"], 10);
    assert_eq!(it["task"]["taskId"], tid.as_str());
    assert_eq!(it["task"]["stage"], "Complete");
    assert_eq!(it["task"]["tools"][0]["title"], "Car");
    assert_eq!(it["task"]["classifications"][0]["answer"], "Sunny");
    assert_eq!(it["task"]["stageHistory"][0]["stageId"], "Label");

    // NDJSON export of all stages in batch B1 through exportV3.
    let params = format!(
        "format=ndjson&project={pid}&batches={}&stage={}",
        enc(&format!("[\"{b1}\"]")),
        enc("[\"Label\", \"Complete\"]")
    );
    let url = api.get(&format!("/v2/exportV3?{params}"))["data"]["exportPath"]
        .as_str()
        .expect("path")
        .to_string();
    let (host, target) = split_url(&url);
    let (name, content) = unzip_first(&raw(&host, "GET", &target, &[], None).expect("dl").body);
    assert!(name.ends_with(".ndjson"));
    let lines: Vec<Value> = String::from_utf8_lossy(&content)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert_eq!(lines.len(), 5);
    // Date-range filter that excludes everything.
    let params = format!(
        "format=ndjson&project={pid}&updatedAt={}",
        enc(r#"{"$lt": "2000-01-01T00:00:00.000Z"}"#)
    );
    let url = api.get(&format!("/v2/export?{params}"))["data"]["exportPath"]
        .as_str()
        .expect("path")
        .to_string();
    let (host, target) = split_url(&url);
    let (_, content) = unzip_first(&raw(&host, "GET", &target, &[], None).expect("dl").body);
    assert!(content.is_empty());
    // Issue export.
    let url = api.get(&format!("/v2/export?type=issue&project={pid}"))["data"]["exportPath"]
        .as_str()
        .expect("p")
        .to_string();
    let (host, target) = split_url(&url);
    let (_, content) = unzip_first(&raw(&host, "GET", &target, &[], None).expect("dl").body);
    let issues: Value = serde_json::from_slice(&content).expect("issues");
    assert_eq!(issues[0]["content"], "Wrong box");
    assert_eq!(issues[0]["asset"]["externalId"], "img_0.jpg");

    // Requeue back to Label, removing annotations.
    let v = api.post(&format!("/v2/project/{pid}/requeueTasks"),
        json!({"toStageId": "Label", "filters": {"taskIds": [tid]}, "options": {"removeAnnotations": true}}));
    assert_eq!(v["data"]["modifiedCount"]["modified"], 1);
    let task = api.get(&format!("/v2/task/{tid}"))["data"]["task"].clone();
    assert_eq!(task["stage"], "Label");
    assert_eq!(task["answer"]["tools"].as_array().map(Vec::len), Some(0));

    // Delete assets; double-slash path normalisation; metrics.
    let aid = task["asset"]["_id"].as_str().expect("asset").to_string();
    api.ok(
        "DELETE",
        &format!("/v2/project/{pid}/assets"),
        Some(&json!({"project": pid, "assets": [aid]})),
    );
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks"))["data"]["total"],
        5
    );
    assert_eq!(
        api.call("GET", &format!("/v2/task/{tid}"), None).status,
        404
    );
    api.post(
        &format!("/v2//project/{pid}/rerun-webhook"),
        json!({"stageId": "Label"}),
    );
    let v = api.get(&format!("/v2/{pid}/overview/LabelStageGroups"));
    assert!(v["data"]["result"].is_array());
    assert_eq!(
        api.call("GET", &format!("/v2/{pid}/overview/Nope"), None)
            .status,
        400
    );

    // Clone, soft delete, purge.
    let v = api.post(
        &format!("/v2/project/{pid}/clone"),
        json!({"categorySchema": true, "batches": true, "workflow": true}),
    );
    assert_eq!(v["data"]["project"]["name"], "Workflow copy");
    api.ok("DELETE", &format!("/v2/project/{pid}"), None);
    assert_eq!(
        api.call("GET", &format!("/v2/project/{pid}"), None).status,
        404
    );
    api.post(
        &format!("/v2/project/{pid}/purge"),
        json!({"confirmName": "Workflow"}),
    );
    assert_eq!(api.get("/v2/listProjects")["data"]["total"], 1);
    drop(emu);
}

#[test]
fn upload_url_put_and_get() {
    let (_emu, api) = start();
    let pid = create_project(&api, "Uploads");
    let v = api.get(&format!(
        "/v2/getUploadUrl?name=abc123.png&project={pid}&type=assets"
    ));
    let url = v["data"]["uploadUrl"]
        .as_str()
        .expect("uploadUrl")
        .to_string();
    assert!(url.contains("signature="));
    let (host, target) = split_url(&url);
    let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let r = raw(&host, "PUT", &target, &[], Some(&payload)).expect("put");
    assert_eq!(r.status, 200);
    let r = raw(&host, "GET", &target, &[], None).expect("get");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.body, payload);
    // The query-less URL needs the API key, and can be used as asset data.
    let data = url.split('?').next().expect("base").to_string();
    let (host, t2) = split_url(&data);
    assert_eq!(raw(&host, "GET", &t2, &[], None).expect("get").status, 401);
    assert_eq!(
        raw(&host, "GET", &t2, &[("apikey", &api.key)], None)
            .expect("get")
            .body
            .len(),
        100_000
    );
    let v = api.post(&format!("/v2/project/{pid}/cloud"), json!({"assets": [{"data": data, "externalId": "/tmp/x.png"}], "uploadLocal": "true", "priority": 0}));
    assert_eq!(v["data"]["assets"]["assetsCreated"], 1);
    // Signed URL for a URL with its own unencoded query string.
    let v = api.get(&format!(
        "/v2/getSignedUrl?name=https://bucket.s3/x.png?a=1&b=2&project={pid}&type=assets"
    ));
    let signed = v["data"]["signedUrl"].as_str().expect("signed");
    assert!(
        signed.starts_with("https://bucket.s3/x.png?a=1&b=2&"),
        "{signed}"
    );
    let v = api.get(&format!(
        "/v2/getSignedUrl?name={data}&project={pid}&type=assets"
    ));
    let (host, t3) = split_url(v["data"]["signedUrl"].as_str().expect("signed"));
    assert_eq!(raw(&host, "GET", &t3, &[], None).expect("get").status, 200);
    assert_eq!(
        api.call("GET", "/v2/getUploadUrl?project=x&type=assets", None)
            .status,
        400
    );
}

#[test]
fn organization_storage_llm_and_misc() {
    let (emu, api) = start();
    let org = emu.organization_id();
    let admin = emu.admin_email();
    api.post(
        &format!("/v2/organization/{org}/invites"),
        json!({"to": ["new@x.io"], "organizationRole": "Member"}),
    );
    let v = api.get(&format!("/v2/organization/{org}/invites?status=pending"));
    assert_eq!(v["data"]["invites"][0]["to"], "new@x.io");
    let v = api.ok(
        "DELETE",
        &format!("/v2/organization/{org}/invites"),
        Some(&json!({"invites": ["new@x.io"]})),
    );
    assert_eq!(v["data"]["deleted"], 1);
    let v = api.post(
        &format!("/v2/organization/{org}/users"),
        json!({"users": [{"email": "ghost@x.io", "organizationRole": "admin"}]}),
    );
    assert_eq!(v["data"]["users"]["failed"], 1);
    let v = api.ok(
        "DELETE",
        &format!("/v2/organization/{org}/users"),
        Some(&json!({"users": ["ghost@x.io"]})),
    );
    assert_eq!(v["data"]["failed"], 1);
    api.post("/v2/notifications", json!({"receivers": [admin], "message": "hi", "title": "t", "clickableLink": "https://x.io/a"}));
    assert_eq!(
        api.call(
            "POST",
            "/v2/notifications",
            Some(&json!({"receivers": ["stranger@x.io"], "message": "hi"}))
        )
        .status,
        400
    );

    let v = api.post("/v2/storages/", json!({"name": "s3", "provider": "AWS", "publicKey": "k", "privateKey": "p", "credentials": ""}));
    let sid = v["data"]["storage"]["_id"]
        .as_str()
        .expect("sid")
        .to_string();
    assert_eq!(v["data"]["storage"]["region"], "eu-central-1");
    assert!(v["data"]["storage"].get("privateKey").is_none());
    assert_eq!(
        api.get(&format!("/v2/storages?_id={sid}"))["data"]["storages"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    api.get(&format!(
        "/v2/storages/{sid}/files?bucketName=b&path=a/b&getSignedUrls=true&retryOnSlowDown=false"
    ));
    api.ok("DELETE", &format!("/v2/storages/{sid}"), None);
    assert_eq!(
        api.get("/v2/storages")["data"]["storages"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    let v = api.post("/v2/llms/", json!({"name": "gpt", "provider": "openai", "model": "gpt-4o", "isStreamable": true, "configuration": {"apiKey": "sk"}}));
    let lid = v["data"]["llm"]["_id"].as_str().expect("lid").to_string();
    assert_eq!(api.get("/v2/llms")["data"]["llms"][0]["_id"], lid.as_str());

    // Chat assets via multipart.
    let pid = create_project(&api, "Chat");
    let boundary = "BOUNDARY123";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"projectId\"\r\n\r\n{pid}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"numberOfConversations\"\r\n\r\n3\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"llmConfig\"\r\n\r\n{{\"id\": \"{lid}\"}}\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = raw(
        &api.host,
        "POST",
        &format!("/v2/project/{pid}/chat"),
        &[("apikey", "test-key"), ("Content-Type", &ct)],
        Some(body.as_bytes()),
    )
    .expect("chat");
    assert_eq!(
        r.json()["data"]["assets"]["assetsCreated"],
        3,
        "{:?}",
        r.json()
    );
    let r = raw(
        &api.host,
        "POST",
        &format!("/v2/project/{pid}/chat"),
        &[
            ("apikey", "test-key"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"numberOfConversations=zero"),
    )
    .expect("chat");
    assert_eq!(r.json()["error"]["statusCode"], 400);
    api.ok("DELETE", &format!("/v2/llms/{lid}"), None);

    // Instructions (multipart file), templates, members, label validation, plugin calls.
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"guide.pdf\"\r\n\r\n%PDF-1.4\r\n--{boundary}--\r\n"
    );
    let r = raw(
        &api.host,
        "POST",
        &format!("/v2/project/{pid}/instructions"),
        &[("apikey", "test-key"), ("Content-Type", &ct)],
        Some(body.as_bytes()),
    )
    .expect("instr");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    api.post(
        &format!("/v2/project/{pid}/assetBuilderTemplates"),
        json!({"name": "T", "template": "<div/>", "dataConfig": {}}),
    );
    let p = api.get(&format!("/v2/project/{pid}"))["data"]["project"].clone();
    assert_eq!(p["assetBuilderTemplates"][0]["name"], "T");
    assert_eq!(p["instructions"]["name"], "guide.pdf");
    api.post(
        &format!("/v2/project/{pid}/assigned"),
        json!({"assignees": ["l@x.io"], "role": "Labeler"}),
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("/v2/project/{pid}/assigned"),
            Some(&json!({"assignees": ["l@x.io"], "role": "King"}))
        )
        .status,
        400
    );
    api.post(
        &format!("/v2/project/{pid}/labelValidation"),
        json!({"customValidationEnabled": true, "validationFunction": "f"}),
    );
    api.post(
        &format!("/v2/project/{pid}"),
        json!({"benchmarkEnabled": true, "benchmarkRatio": 10}),
    );
    api.post("/v2/pluginLog", json!({"level": "info", "msg": "x"}));
    api.post(
        "/v2/pluginResponse",
        json!({"response": {}, "session": "s"}),
    );
    api.post("/v2/file-explorer", json!({"bucket": "b"}));
    api.post(
        &format!("/v2/performance/{pid}"),
        json!({"interval": ["2020-01-01T00:00:00.000000Z", "2030-01-01T00:00:00.000000Z"]}),
    );
    // A custom workflow with a Review stage.
    let stages = json!([
        {"id": "Start", "type": "Start", "name": "Start", "next": ["L"]},
        {"id": "L", "type": "Label", "name": "Label", "next": ["R"]},
        {"id": "R", "type": "Review", "name": "Review", "next": ["Complete", "L"]},
        {"id": "Complete", "type": "Complete", "name": "Complete", "next": []}
    ]);
    api.post(&format!("/v2/project/{pid}"), json!({"stages": stages}));
    let v = api.post(
        &format!("/v2/project/{pid}/cloud"),
        json!({"assets": [{"data": "https://e.com/a.txt"}]}),
    );
    assert_eq!(v["data"]["assets"]["assetsCreated"], 1);
    let f = enc(&json!({"externalId": "a.txt"}).to_string());
    let tid = api.get(&format!("/v2/project/{pid}/tasks?filter={f}"))["data"]["tasks"][0]["_id"]
        .as_str()
        .expect("t")
        .to_string();
    api.post(
        &format!("/v2/annotate/{tid}?nextStage=true&isPlugin=false"),
        json!({"answer": {"objects": [], "classifications": [], "relations": []}}),
    );
    assert_eq!(
        api.get(&format!("/v2/task/{tid}"))["data"]["task"]["stage"],
        "R"
    );
    api.post(
        &format!("/v2/review/{tid}"),
        json!({"reviewStatus": "Rejected"}),
    );
    assert_eq!(
        api.get(&format!("/v2/task/{tid}"))["data"]["task"]["stage"],
        "L"
    );
}

#[test]
fn faults_are_roughly_honoured_and_never_mutate() {
    let emu = Emulator::start(
        EmulatorConfig::default()
            .api_key("k")
            .fail_rate(0.3)
            .drop_rate(0.1)
            .rng_seed(7),
    )
    .expect("start");
    let api = Api::new(emu.url(), "k");
    let (mut ok, mut throttled, mut unavailable, mut dropped) = (0, 0, 0, 0);
    let n = 400;
    for i in 0..n {
        let body = serde_json::to_vec(&json!({"name": format!("p{i}")})).expect("json");
        match raw(
            &api.host,
            "POST",
            "/v2/project",
            &[("apikey", "k")],
            Some(&body),
        ) {
            Ok(r) if r.status == 201 => ok += 1,
            Ok(r) if r.status == 429 => {
                assert!(r.header("retry-after").is_some());
                assert_eq!(r.json()["status"], "fail");
                throttled += 1;
            }
            Ok(r) if r.status == 503 => {
                assert_eq!(r.json()["status"], "error");
                unavailable += 1;
            }
            Ok(r) => panic!("unexpected status {}", r.status),
            Err(_) => dropped += 1,
        }
    }
    assert_eq!(ok + throttled + unavailable + dropped, n);
    let fails = throttled + unavailable;
    assert!((80..=160).contains(&fails), "fails={fails}");
    assert!((20..=65).contains(&dropped), "dropped={dropped}");
    assert!(throttled > 20 && unavailable > 20);
    // Non-API paths are never faulted.
    for _ in 0..50 {
        assert_eq!(
            raw(&api.host, "GET", "/__emulator/health", &[], None)
                .expect("health")
                .status,
            200
        );
    }
    // Turn faults off: exactly the successful creations exist.
    emu.set_faults(FaultSettings::default(), None)
        .expect("valid fault settings");
    let v = api.get("/v2/listProjects?limit=1000");
    assert_eq!(v["data"]["total"], ok);
    // Same seed, same sequence of outcomes.
    let again = Emulator::start(
        EmulatorConfig::default()
            .api_key("k")
            .fail_rate(0.3)
            .drop_rate(0.1)
            .rng_seed(7),
    )
    .expect("start");
    let api2 = Api::new(again.url(), "k");
    let mut ok2 = 0;
    for i in 0..n {
        let body = serde_json::to_vec(&json!({"name": format!("p{i}")})).expect("json");
        if let Ok(r) = raw(
            &api2.host,
            "POST",
            "/v2/project",
            &[("apikey", "k")],
            Some(&body),
        ) && r.status == 201
        {
            ok2 += 1;
        }
    }
    assert_eq!(ok, ok2);
    // Runtime fault control over HTTP.
    let v = api2.post(
        "/__emulator/faults",
        json!({"failRate": 0.0, "dropRate": 0.0, "latencyMs": 0}),
    );
    assert_eq!(v["data"]["failRate"], 0.0);
    assert_eq!(api2.get("/v2/listProjects")["data"]["total"], ok2);
    // The same checks as the emulator's options: each rate in 0..1, together at most 1.
    for (body, message) in [
        (
            json!({"failRate": 1.5}),
            "fail_rate must be a number between 0 and 1, got 1.5",
        ),
        (
            json!({"failRate": 0.7, "dropRate": 0.7}),
            "fail_rate + drop_rate must be at most 1, got 0.7 + 0.7",
        ),
        (
            json!({"dropRate": "x"}),
            "'dropRate' must be a number in 0..1",
        ),
    ] {
        let r = api2.call("POST", "/__emulator/faults", Some(&body));
        assert_eq!(r.status, 400, "{body}");
        assert!(
            String::from_utf8_lossy(&r.body).contains(message),
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(again.faults().fail_rate, 0.0);
    assert!(
        again
            .set_faults(
                FaultSettings {
                    latency_ms: 0,
                    fail_rate: 2.0,
                    drop_rate: 0.0
                },
                None
            )
            .is_err()
    );
    assert!(Emulator::start(EmulatorConfig::default().fail_rate(-1.0)).is_err());
}

#[test]
fn seeded_50k_tasks_page_exactly_once() {
    let (emu, api) = start();
    let pid = emu.seed_project("big", 50_000);
    let mut seen = HashSet::new();
    let mut page = 1;
    loop {
        let v = api.get(&format!("/v2/project/{pid}/tasks?page={page}&limit=1000"));
        assert_eq!(v["data"]["total"], 50_000);
        let tasks = v["data"]["tasks"].as_array().expect("tasks").clone();
        if tasks.is_empty() {
            break;
        }
        for t in tasks {
            assert!(
                seen.insert(t["_id"].as_str().expect("id").to_string()),
                "duplicate task"
            );
        }
        page += 1;
    }
    assert_eq!(seen.len(), 50_000);
    assert_eq!(page, 51);
    // Filtered paging over the seeded batch (every other task).
    let f = enc(&json!({"batches": {"$in": ["Batch 1"]}}).to_string());
    assert_eq!(
        api.get(&format!("/v2/project/{pid}/tasks?filter={f}&limit=1"))["data"]["total"],
        25_000
    );
    // The HTTP seeding endpoint, then an export of a seeded, completed project.
    let v = api.post(
        "/__emulator/seed",
        json!({"name": "http-seeded", "tasks": 2000, "objectsPerTask": 3, "completed": true}),
    );
    let pid2 = v["data"]["projectId"].as_str().expect("pid").to_string();
    let url = api.get(&format!(
        "/v2/export?project={pid2}&format=ndjson&stage={}",
        enc("[\"Complete\"]")
    ))["data"]["exportPath"]
        .as_str()
        .expect("path")
        .to_string();
    let (host, target) = split_url(&url);
    let (_, content) = unzip_first(&raw(&host, "GET", &target, &[], None).expect("dl").body);
    let lines: Vec<&str> = std::str::from_utf8(&content)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(lines.len(), 2000);
    let first: Value = serde_json::from_str(lines[0]).expect("line");
    assert_eq!(first["task"]["tools"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        first["task"]["tools"][0]["classifications"][0]["answer"],
        "Red"
    );
}

#[test]
fn binary_prints_url_and_key_first() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ango-emulator"))
        .args(["--port", "0", "--api-key", "bin-key", "--seed", "demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("line");
    let mut parts = line.split_whitespace();
    let url = parts.next().expect("url").to_string();
    assert_eq!(parts.next(), Some("bin-key"));
    let api = Api::new(&url, "bin-key");
    let v = api.get("/v2/listProjects");
    assert_eq!(v["data"]["total"], 1);
    let pid = v["data"]["projects"][0]["_id"]
        .as_str()
        .expect("pid")
        .to_string();
    let p = api.get(&format!("/v2/project/{pid}"));
    assert!(
        p["data"]["project"]["categorySchema"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let _ = child.kill();
    let _ = child.wait();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ango-emulator"))
        .arg("--help")
        .output()
        .expect("help");
    assert!(String::from_utf8_lossy(&out.stdout).contains("--fail-rate"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ango-emulator"))
        .arg("--bogus")
        .output()
        .expect("bogus");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn keep_alive_and_stop() {
    use std::io::{Read, Write};
    let (mut emu, _api) = start();
    let host = split_url(emu.url()).0;
    let mut s = std::net::TcpStream::connect(&host).expect("connect");
    for _ in 0..3 {
        s.write_all(b"GET /v2/listProjects HTTP/1.1\r\nHost: x\r\napikey: test-key\r\n\r\n")
            .expect("write");
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
    // Chunked request body.
    s.write_all(b"POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: test-key\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam\r\n8\r\ne\":\"ch\"}\r\n0\r\n\r\n").expect("write");
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).expect("read");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 201"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    emu.stop();
    assert!(
        std::net::TcpStream::connect(&host).is_err() || raw(&host, "GET", "/", &[], None).is_err()
    );
}
