//! The emulator's plugin hub: Socket.IO (websocket) plugins, REST plugins,
//! sessions, logs, kicks, ping timeouts and the workflow Plugin stage.
//! The websocket plugin here is a tiny hand-written Socket.IO client.

use ango_testkit::client as common;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ango_emulator::{Emulator, EmulatorConfig};
use common::Api;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

const KEY: &str = "hub-key";

fn start_with(cfg: EmulatorConfig) -> (Emulator, Api) {
    let emu = Emulator::start(cfg.api_key(KEY)).expect("start emulator");
    let api = Api::new(emu.url(), KEY);
    (emu, api)
}

fn start() -> (Emulator, Api) {
    start_with(EmulatorConfig::default())
}

/// A minimal Socket.IO v5 client over a tungstenite websocket.
struct Plugin {
    ws: WebSocket<TcpStream>,
    /// Answer Engine.IO pings automatically.
    auto_pong: bool,
    open: Value,
    /// Set once the server closed the connection.
    closed: bool,
}

/// One received event: (name, payload, ack id).
type Event = (String, Value, Option<u64>);

impl Plugin {
    fn connect(emu: &Emulator) -> Plugin {
        let host = emu.url().trim_start_matches("http://").to_string();
        let stream = TcpStream::connect(&host).expect("tcp connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket&t=1");
        let (ws, resp) = tungstenite::client(url.as_str(), stream).expect("websocket handshake");
        assert_eq!(resp.status().as_u16(), 101);
        let mut p = Plugin {
            ws,
            auto_pong: true,
            open: Value::Null,
            closed: false,
        };
        let open = p.recv(Duration::from_secs(10)).expect("OPEN packet");
        let body = open
            .strip_prefix('0')
            .expect("Engine.IO OPEN starts with 0");
        p.open = serde_json::from_str(body).expect("OPEN json");
        p
    }

    /// Connects, joins `/plugin` and sends the heartbeat.
    fn join(emu: &Emulator, id: &str, secret: &str) -> Plugin {
        let mut p = Plugin::connect(emu);
        p.send("40/plugin,{}");
        let ack = p.recv(Duration::from_secs(10)).expect("namespace CONNECT");
        assert!(ack.starts_with("40/plugin,{\"sid\":"), "{ack}");
        p.heartbeat(id, secret);
        p
    }

    fn heartbeat(&mut self, id: &str, secret: &str) {
        self.emit("heartbeat", json!({"id": id, "secret": secret}));
    }

    fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    fn emit(&mut self, name: &str, payload: Value) {
        let frame = format!("42/plugin,{}", json!([name, payload]));
        self.send(&frame);
    }

    /// The next text frame (pings answered when `auto_pong`), None on
    /// timeout or close.
    fn recv(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    let t = t.as_str().to_string();
                    if t == "2" && self.auto_pong {
                        self.send("3");
                        continue;
                    }
                    return Some(t);
                }
                Ok(Message::Close(_)) => {
                    self.closed = true;
                    return None;
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    self.closed = true;
                    return None;
                }
            }
        }
        None
    }

    /// The next `42/plugin,` event.
    fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let frame = self.recv(left)?;
            let Some(rest) = frame.strip_prefix("42/plugin,") else {
                continue;
            };
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let ack = rest[..digits].parse().ok();
            let arr: Value = serde_json::from_str(&rest[digits..]).expect("event json");
            return Some((
                arr[0].as_str().unwrap_or_default().to_string(),
                arr[1].clone(),
                ack,
            ));
        }
    }
}

/// GET of a hub endpoint (bare JSON, no envelope).
fn hub_get(api: &Api, target: &str) -> Value {
    let r = api.call("GET", target, None);
    assert_eq!(r.status, 200, "{target}");
    r.json()
}

/// Polls `GET /__emulator/plugins` until plugin `id` has `connected == want`.
fn wait_connected(api: &Api, id: &str, want: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let v = hub_get(api, "/__emulator/plugins");
        let found = v["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["connected"] == want);
        if found == Some(true) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Runs `POST /__emulator/plugins/{id}/run` on a thread.
fn run_async(api: &Api, id: &str, data: Value, wait: u32) -> mpsc::Receiver<(u16, Value)> {
    let (tx, rx) = mpsc::channel();
    let api = Api::new(&format!("http://{}", api.host), &api.key);
    let target = format!("/__emulator/plugins/{id}/run?wait={wait}");
    std::thread::spawn(move || {
        let r = api.call("POST", &target, Some(&data));
        let _ = tx.send((r.status, r.json()));
    });
    rx
}

#[test]
fn websocket_plugin_receives_a_run_and_its_response_ends_the_session() {
    let (emu, api) = start();
    let mut plugin = Plugin::join(&emu, "model-1", "s3cret");
    assert_eq!(plugin.open["pingInterval"], 25000);
    assert_eq!(plugin.open["pingTimeout"], 20000);
    assert_eq!(plugin.open["upgrades"], json!([]));
    assert!(plugin.open["sid"].is_string());
    assert!(wait_connected(&api, "model-1", true));
    // The same through the library (what the Python and Node bindings call).
    let connected = emu
        .wait_for_plugin("model-1", Duration::from_secs(10))
        .expect("connected");
    assert_eq!(
        (connected["id"].as_str(), &connected["connected"]),
        (Some("model-1"), &json!(true))
    );
    assert_eq!(emu.connected_plugin("model-1"), Some(connected));
    assert_eq!(emu.connected_plugin("nobody"), None);
    assert_eq!(
        emu.wait_for_plugin("nobody", Duration::from_millis(50)),
        None
    );

    let run = run_async(
        &api,
        "model-1",
        json!({"projectId": "p1", "configJSON": "{\"threshold\": 0.5}"}),
        20,
    );
    let (name, data, ack) = plugin
        .next_event(Duration::from_secs(10))
        .expect("plugin event");
    assert_eq!(name, "plugin");
    let session = data["session"].as_str().expect("session id").to_string();
    assert_eq!(data["apiKey"], KEY);
    assert_eq!(data["projectId"], "p1");
    assert_eq!(data["configJSON"], "{\"threshold\": 0.5}");
    assert_eq!(data["orgId"], emu.organization_id());
    assert!(data["runBy"].as_str().is_some_and(|s| !s.is_empty()));
    if let Some(ack) = ack {
        plugin.send(&format!("43/plugin,{ack}[]"));
    }
    plugin.emit(
        "log",
        json!({"level": "INFO", "msg": "working", "session": session, "pluginId": "model-1"}),
    );
    plugin.emit(
        "response",
        json!({"response": {"labels": 3}, "session": session}),
    );
    let (status, s) = run
        .recv_timeout(Duration::from_secs(20))
        .expect("run answer");
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "done", "{s}");
    assert_eq!(s["session"], session);
    assert_eq!(s["pluginId"], "model-1");
    assert_eq!(s["response"], json!({"labels": 3}));
    assert_eq!(s["error"], false);
    assert_eq!(s["logs"][0]["msg"], "working");
    assert!(
        s["data"].get("apiKey").is_none(),
        "the API key is not echoed"
    );
    assert_eq!(s["acked"], ack.is_some());

    // Recorded and readable over HTTP and through the Rust API.
    let listed = hub_get(&api, "/__emulator/plugins/model-1/sessions");
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["sessions"][0]["session"], session);
    assert_eq!(emu.plugin_sessions("model-1"), listed);

    // The Rust API runs the plugin too (the plugin answers on this thread
    // after the call times out with wait 0: status pending, then done).
    let pending = emu
        .run_plugin("model-1", json!({"session": "fixed-1"}), Duration::ZERO)
        .expect("run");
    assert_eq!(pending["status"], "pending");
    let (_, data, _) = plugin.next_event(Duration::from_secs(10)).expect("event");
    assert_eq!(data["session"], "fixed-1");
    plugin.emit("response", json!({"error": true, "session": "fixed-1"}));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = emu.plugin_sessions("model-1")["sessions"][1].clone();
        if last["status"] != "pending" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(last["status"], "error", "{last}");
    assert_eq!(last["error"], true);
    // A session id cannot be reused; unknown plugins are refused.
    let dup = emu.run_plugin("model-1", json!({"session": "fixed-1"}), Duration::ZERO);
    assert_eq!(dup.unwrap_err().status, 409);
    assert_eq!(
        emu.run_plugin("nope", json!({}), Duration::ZERO)
            .unwrap_err()
            .status,
        404
    );
    let r = api.call(
        "POST",
        "/__emulator/plugins/nope/run?wait=0",
        Some(&json!({})),
    );
    assert_eq!(r.status, 404);
    // Admin endpoints need the key.
    let r = common::raw(&api.host, "GET", "/__emulator/plugins", &[], None).unwrap();
    assert_eq!(r.status, 401);
}

#[test]
fn stopping_the_emulator_closes_plugin_connections() {
    let (mut emu, api) = start();
    let mut plugin = Plugin::join(&emu, "p", "pw");
    assert!(wait_connected(&api, "p", true));
    emu.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !plugin.closed {
        let _ = plugin.recv(Duration::from_millis(100));
    }
    assert!(plugin.closed, "the plugin connection outlived the emulator");
}

#[test]
fn a_run_waits_for_a_registered_plugin_to_connect() {
    let (emu, api) = start();
    emu.register_plugin("late", "pw", None).expect("register");
    let run = run_async(&api, "late", json!({"x": 1}), 20);
    std::thread::sleep(Duration::from_millis(100));
    let mut plugin = Plugin::join(&emu, "late", "pw");
    let (name, data, _) = plugin.next_event(Duration::from_secs(10)).expect("event");
    assert_eq!(name, "plugin");
    assert_eq!(data["x"], 1);
    plugin.emit(
        "response",
        json!({"response": "ok", "session": data["session"]}),
    );
    let (_, s) = run.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(s["status"], "done");
    // A run nobody answers ends as `timeout`.
    let s = emu
        .run_plugin("late", json!({}), Duration::from_millis(200))
        .unwrap();
    assert_eq!(s["status"], "timeout");
}

#[test]
fn a_wrong_secret_is_kicked_and_the_right_one_keeps_working() {
    let (emu, api) = start();
    // Registered over HTTP first: its secret is the reference.
    let r = api.call(
        "POST",
        "/__emulator/plugins",
        Some(&json!({"id": "exp", "secret": "right"})),
    );
    assert_eq!(r.status, 201, "{:?}", r.json());
    let mut bad = Plugin::connect(&emu);
    bad.send("40/plugin,{}");
    assert!(
        bad.recv(Duration::from_secs(10))
            .unwrap()
            .starts_with("40/plugin,")
    );
    bad.heartbeat("exp", "wrong");
    assert_eq!(
        bad.recv(Duration::from_secs(10)).as_deref(),
        Some("41/plugin,")
    );
    // After the kick, its events are not accepted as the plugin's.
    bad.emit("response", json!({"response": "forged", "session": "x"}));
    let v = hub_get(&api, "/__emulator/plugins");
    assert_eq!(v["plugins"][0]["connected"], false, "{v}");

    let mut good = Plugin::join(&emu, "exp", "right");
    assert!(wait_connected(&api, "exp", true));
    let run = run_async(&api, "exp", json!({}), 20);
    let (_, data, _) = good.next_event(Duration::from_secs(10)).unwrap();
    good.emit(
        "response",
        json!({"export": true, "response": "http://signed", "session": data["session"]}),
    );
    let (_, s) = run.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(s["response"], "http://signed");
    // First sight registers: a new id with any secret is accepted.
    let _other = Plugin::join(&emu, "brand-new", "whatever");
    assert!(wait_connected(&api, "brand-new", true));
    // A connected plugin that later sends a wrong secret is kicked and no
    // longer counts as connected.
    good.heartbeat("exp", "changed");
    let mut kicked = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !kicked {
        kicked = good.recv(Duration::from_millis(100)).as_deref() == Some("41/plugin,");
    }
    assert!(kicked, "no kick after a wrong secret");
    assert!(wait_connected(&api, "exp", false));
}

#[test]
fn malformed_frames_and_unknown_events_are_ignored_without_dropping() {
    let (emu, api) = start();
    let mut plugin = Plugin::join(&emu, "fuzzy", "pw");
    assert!(wait_connected(&api, "fuzzy", true));
    for frame in [
        "",
        "x",
        "4",
        "4garbage",
        "49/plugin,[]",
        "42/plugin,not json",
        "42/plugin,{}",
        "42/plugin,[]",
        "42/plugin,[1,2]",
        "42/plugin,[\"unknown-event\",{\"a\":1}]",
        "42/plugin,[\"response\",{\"session\":\"no-such-session\"}]",
        "42/plugin,[\"log\",\"not an object\"]",
        "42/plugin,99999999999999999999999[\"x\"]",
        "42/other,[\"heartbeat\",{}]",
        "43/plugin,7[]",
        "42/plugin,[\"heartbeat\",{}]",
    ] {
        plugin.send(frame);
    }
    plugin
        .ws
        .send(Message::binary(vec![0u8, 1, 2, 3]))
        .expect("binary");
    // Random frames built from protocol fragments (reproducible).
    let pieces = [
        "4",
        "2",
        "3",
        "40",
        "41",
        "42",
        "43",
        "44",
        "/plugin",
        ",",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "heartbeat",
        "response",
        "log",
        "session",
        ":",
        "1",
        "99",
        "null",
        "\u{0}",
        "é",
    ];
    let mut seed = 0x5EED_u64;
    for _ in 0..300 {
        let mut frame = String::from("4");
        for _ in 0..1 + (seed % 12) {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            frame.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        // Never a heartbeat with another secret or a namespace DISCONNECT
        // (those rightly end the plugin's session).
        if !frame.contains("heartbeat") && !frame.starts_with("41") {
            plugin.send(&frame);
        }
    }
    // Still connected and working.
    let run = run_async(&api, "fuzzy", json!({}), 20);
    let (name, data, _) = plugin.next_event(Duration::from_secs(10)).expect("event");
    assert_eq!(name, "plugin");
    plugin.emit(
        "response",
        json!({"response": 1, "session": data["session"]}),
    );
    let (_, s) = run.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(s["status"], "done");
    let v = hub_get(&api, "/__emulator/plugins");
    assert!(
        v["ignoredFrames"].as_u64().unwrap() >= 10,
        "ignored frames not counted: {v}"
    );
    assert_eq!(v["plugins"][0]["connected"], true);
}

#[test]
fn a_client_that_does_not_answer_pings_is_dropped() {
    let (emu, api) = start_with(EmulatorConfig::default().plugin_ping(150, 300));
    let mut silent = Plugin::join(&emu, "silent", "pw");
    silent.auto_pong = false;
    assert_eq!(silent.open["pingInterval"], 150);
    assert_eq!(silent.open["pingTimeout"], 300);
    // A well-behaved plugin on its own thread answers pings and one run.
    let mut alive = Plugin::join(&emu, "alive", "pw");
    let alive_thread = std::thread::spawn(move || {
        let (_, data, _) = alive.next_event(Duration::from_secs(30)).expect("event");
        alive.emit(
            "response",
            json!({"response": "still here", "session": data["session"]}),
        );
        // Keep answering pings until the run has been checked.
        let _ = alive.recv(Duration::from_millis(500));
    });
    assert!(wait_connected(&api, "silent", true));
    assert!(wait_connected(&api, "alive", true));
    // The silent one sees pings, then the connection ends.
    let mut saw_ping = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !silent.closed {
        if silent.recv(Duration::from_millis(100)).as_deref() == Some("2") {
            saw_ping = true;
        }
    }
    assert!(saw_ping, "no ping received");
    assert!(silent.closed, "the silent client was not dropped");
    assert!(wait_connected(&api, "silent", false));
    // The client that answers pings is still there and usable.
    let s = emu
        .run_plugin("alive", json!({}), Duration::from_secs(20))
        .unwrap();
    assert_eq!(s["response"], "still here", "{s}");
    alive_thread.join().expect("alive plugin");
}

/// A REST-connector plugin: answers each `POST /plugin` with `answer(body)`
/// and reports (path, secret header, body) of every request.
fn rest_plugin(
    answer: impl Fn(&Value) -> (u16, String) + Send + Sync + 'static,
) -> (
    ango_testkit::RawServer,
    mpsc::Receiver<(String, Option<String>, Value)>,
) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = ango_testkit::RawServer::answering(move |request| {
        let path = match request.raw_query.as_str() {
            "" => request.path.clone(),
            query => format!("{}?{query}", request.path),
        };
        let secret = request.header("secret").map(str::to_string);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let (status, text) = answer(&body);
        let _ = tx.lock().unwrap().send((path, secret, body));
        Some(ango_testkit::raw_response(
            &format!("{status} X"),
            &[("Content-Type", b"application/json")],
            text.as_bytes(),
        ))
    });
    (server, rx)
}

#[test]
fn rest_plugins_are_called_with_their_secret() {
    let (emu, api) = start();
    let (server, seen) = rest_plugin(|body| {
        let session = body["session"].clone();
        match body["mode"].as_str() {
            Some("deny") => (401, "{\"detail\":\"Unauthorized\"}".into()),
            Some("later") => (200, "null".into()),
            _ => (
                200,
                json!({"response": "hello from REST", "session": session}).to_string(),
            ),
        }
    });
    let url = server.url.clone();
    let r = api.call(
        "POST",
        "/__emulator/plugins",
        Some(&json!({"id": "rest-1", "secret": "sek", "restUrl": url})),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["restUrl"], url);

    let s = emu
        .run_plugin("rest-1", json!({"projectId": "p"}), Duration::from_secs(20))
        .unwrap();
    assert_eq!(s["status"], "done", "{s}");
    assert_eq!(s["response"], "hello from REST");
    let (path, secret, body) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(path, "/plugin");
    assert_eq!(secret.as_deref(), Some("sek"));
    assert_eq!(body["apiKey"], KEY);
    assert_eq!(body["projectId"], "p");
    assert_eq!(body["session"], s["session"]);

    // A refusal is an error session.
    let s = emu
        .run_plugin("rest-1", json!({"mode": "deny"}), Duration::from_secs(20))
        .unwrap();
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["response"]["httpStatus"], 401);
    let _ = seen.recv_timeout(Duration::from_secs(10)).unwrap();

    // A plugin that answers null reports through /v2/pluginLog and
    // /v2/pluginResponse (what Export plugins do in REST mode).
    let s = emu
        .run_plugin(
            "rest-1",
            json!({"mode": "later", "session": "rest-s3"}),
            Duration::from_millis(300),
        )
        .unwrap();
    assert_ne!(s["status"], "done");
    api.post(
        "/v2/pluginLog",
        json!({"level": "INFO", "msg": "exporting", "session": "rest-s3", "pluginId": "rest-1"}),
    );
    api.post(
        "/v2/pluginResponse",
        json!({"export": true, "response": "http://x/export.zip", "session": "rest-s3"}),
    );
    let sessions = emu.plugin_sessions("rest-1");
    let s3 = &sessions["sessions"][2];
    assert_eq!(s3["session"], "rest-s3");
    assert_eq!(s3["status"], "done", "{s3}");
    assert_eq!(s3["response"], "http://x/export.zip");
    assert_eq!(s3["logs"][0]["msg"], "exporting");
}

#[test]
fn a_plugin_stage_sends_tasks_and_the_plugins_annotate_moves_them_on() {
    let (emu, api) = start();
    let mut plugin = Plugin::join(&emu, "wf-model", "pw");
    assert!(wait_connected(&api, "wf-model", true));
    let pid = api.ok(
        "POST",
        "/v2/project",
        Some(&json!({"name": "wf", "description": ""})),
    )["data"]["project"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let stages = json!([
        {"id": "Start", "type": "Start", "name": "Start", "next": ["P1"]},
        {"id": "P1", "type": "Plugin", "name": "Model", "pluginId": "wf-model",
         "categorySchema": [{"schemaId": "s1", "modelClass": "car"}], "overwrite": false,
         "next": ["Label"]},
        {"id": "Label", "type": "Label", "name": "Label", "next": ["Complete"]},
        {"id": "Complete", "type": "Complete", "name": "Complete", "next": []},
    ]);
    api.post(&format!("/v2/project/{pid}"), json!({"stages": stages}));
    api.post(
        &format!("/v2/project/{pid}/cloud"),
        json!({"assets": [{"data": "https://x/a.png", "externalId": "a.png"}]}),
    );
    let (name, data, _) = plugin
        .next_event(Duration::from_secs(10))
        .expect("workflow event");
    assert_eq!(name, "plugin");
    assert_eq!(data["workflow"], true);
    assert_eq!(data["projectId"], pid);
    assert_eq!(data["dataURL"], "https://x/a.png");
    assert_eq!(data["overwrite"], false);
    assert_eq!(data["categorySchema"][0]["modelClass"], "car");
    assert!(data["assetId"].is_string());
    let task_id = data["taskId"].as_str().unwrap().to_string();
    // The task waits in the Plugin stage.
    let task = api.ok("GET", &format!("/v2/task/{task_id}"), None);
    assert_eq!(task["data"]["task"]["stage"], "P1", "{task}");
    assert_eq!(
        emu.plugin_sessions("wf-model")["sessions"][0]["status"],
        "pending"
    );

    // The plugin annotates with nextStage and isPlugin (using the apiKey it got).
    let annotation = json!({"answer": {"objects": [], "classifications": [], "relations": []},
                            "duration": 0});
    let r = common::raw(
        &api.host,
        "POST",
        &format!("/v2/annotate/{task_id}?nextStage=true&isPlugin=true"),
        &[
            ("apikey", data["apiKey"].as_str().unwrap()),
            ("Content-Type", "application/json"),
        ],
        Some(annotation.to_string().as_bytes()),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let task = api.ok("GET", &format!("/v2/task/{task_id}"), None);
    assert_eq!(task["data"]["task"]["stage"], "Label");
    let s = &emu.plugin_sessions("wf-model")["sessions"][0];
    assert_eq!(s["status"], "done", "{s}");
    assert_eq!(s["workflow"], true);
    assert_eq!(s["taskId"], task_id);
    assert_eq!(s["response"]["answer"]["objects"], json!([]));

    // An error record ends a workflow session as an error (the task stays).
    // This asset is stored in the emulator: the plugin gets a URL it can
    // read without the API key.
    let up = api.ok(
        "GET",
        &format!("/v2/getUploadUrl?name=b.png&project={pid}&type=assets"),
        None,
    );
    let upload = up["data"]["uploadUrl"].as_str().unwrap().to_string();
    let (_, target) = common::split_url(&upload);
    let put = common::raw(&api.host, "PUT", &target, &[], Some(b"BPNG")).unwrap();
    assert_eq!(put.status, 200);
    let bare = upload.split('?').next().unwrap().to_string();
    api.post(
        &format!("/v2/project/{pid}/cloud"),
        json!({"assets": [{"data": bare, "externalId": "b.png"}]}),
    );
    let (_, data, _) = plugin
        .next_event(Duration::from_secs(10))
        .expect("second task");
    let (_, target) = common::split_url(data["dataURL"].as_str().unwrap());
    let r = common::raw(&api.host, "GET", &target, &[], None).unwrap();
    assert_eq!(r.status, 200, "{target}");
    assert_eq!(r.body, b"BPNG");
    plugin.emit(
        "response",
        json!({"error": true, "session": data["session"]}),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && emu.plugin_sessions("wf-model")["sessions"][1]["status"] == "pending"
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        emu.plugin_sessions("wf-model")["sessions"][1]["status"],
        "error"
    );
}

#[test]
fn the_emulator_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Emulator>();
    shareable::<ango_emulator::HubError>();
}
