//! The Socket.IO connector against a fake hub that checks the exact frames.

mod hub;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ango_plugins::{
    CallbackResult, FnCallback, LogLevel, Overflow, PluginConfig, PluginKind, PluginRequest,
    RunningPlugin,
};
use hub::{FakeHub, WAIT, event_of, plugin_frame};
use serde_json::{Map, Value, json};

fn config(hub: &FakeHub, kind: PluginKind) -> PluginConfig {
    let mut config = PluginConfig::new("PID", "SECRET", kind);
    config.hub_url = hub.url();
    config.api_host = "http://127.0.0.1:9".into();
    config.reconnect.initial_delay = Duration::from_millis(50);
    config.reconnect.max_delay = Duration::from_millis(400);
    config.echo_logs = false;
    config
}

fn start(
    config: PluginConfig,
    f: impl Fn(PluginRequest) -> CallbackResult + Send + Sync + 'static,
) -> RunningPlugin {
    RunningPlugin::start(config, Arc::new(FnCallback(f))).expect("the plugin starts")
}

fn request(session: &str) -> Value {
    json!({"session": session, "orgId": "o1", "runBy": "u1", "apiKey": "k", "configJSON": "{}"})
}

#[test]
fn heartbeat_on_connect_then_response_and_log_records_echo_the_session() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::BatchModel), |req| {
        let mut fields = Map::new();
        fields.insert("foo".into(), json!("bar"));
        req.logger.log(LogLevel::Warning, "warn with kw", fields);
        req.logger
            .log(LogLevel::Debug, "not sent at INFO", Map::new());
        CallbackResult::Value(json!({
            "batches": req.data["batches"].clone(),
            "project": req.data.get("projectId").cloned(),
        }))
    });
    let conn = hub.next_conn(WAIT).expect("the plugin connects");
    assert!(
        conn.uri
            .starts_with("/socket.io/?transport=websocket&EIO=4&t="),
        "{}",
        conn.uri
    );
    let t: f64 = conn.uri.rsplit("t=").next().unwrap().parse().unwrap();
    assert!(t > 1.6e9, "t is a unix time: {t}");
    conn.handshake(1000, 1000);
    assert_eq!(
        conn.expect_frame(),
        r#"42/plugin,["heartbeat",{"id":"PID","secret":"SECRET"}]"#
    );
    let deadline = Instant::now() + WAIT;
    while !plugin.is_connected() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(plugin.is_connected());

    conn.send(plugin_frame(&request("s1"), None));
    assert_eq!(
        conn.expect_frame(),
        r#"42/plugin,["log",{"foo":"bar","level":"WARNING","organization":"o1","pluginId":"PID","runBy":"u1","session":"s1","msg":"warn with kw"}]"#
    );
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": {"batches": [], "project": null}, "session": "s1"})
    );
    // An explicit null `batches` stays null, as in the official runtime.
    let mut data = request("s2");
    data["batches"] = Value::Null;
    conn.send(plugin_frame(&data, None));
    let _log = conn.expect_event("log");
    assert_eq!(
        conn.expect_event("response")["response"]["batches"],
        Value::Null
    );
    plugin.shutdown();
    assert_eq!(conn.expect_frame(), "41/plugin,");
    plugin.join().unwrap();
}

#[test]
fn failures_panics_and_nothing_end_the_session_with_an_error_record() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::Markdown), |req| {
        match req.session() {
            "raise" => CallbackResult::Failed("boom".into()),
            "none" => CallbackResult::Nothing,
            "panic" => panic!("kaput"),
            _ => CallbackResult::Value(json!("fine")),
        }
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(&request("raise"), None));
    let log = conn.expect_event("log");
    assert_eq!(log["level"], "ERROR");
    assert_eq!(log["msg"], "Plugin callback failed: boom");
    assert_eq!(log["session"], "raise");
    assert_eq!(
        conn.expect_event("response"),
        json!({"error": true, "message": "boom", "session": "raise"})
    );

    conn.send(plugin_frame(&request("none"), None));
    let _log = conn.expect_event("log");
    let record = conn.expect_event("response");
    assert_eq!(record["error"], true);
    assert_eq!(record["session"], "none");
    assert!(
        record["message"].as_str().unwrap().contains("nothing"),
        "{record}"
    );

    conn.send(plugin_frame(&request("panic"), None));
    let _log = conn.expect_event("log");
    let record = conn.expect_event("response");
    assert_eq!(record["error"], true);
    assert!(
        record["message"].as_str().unwrap().contains("kaput"),
        "{record}"
    );

    // A request without a session still gets a record, with session "".
    conn.send(plugin_frame(&json!({"apiKey": "k"}), None));
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": "fine", "session": ""})
    );
    plugin.shutdown();
}

#[test]
fn server_acks_are_always_answered() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::Input), |_| {
        CallbackResult::Value(json!(1))
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(&request("a"), Some(7)));
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": 1, "session": "a"})
    );
    assert_eq!(conn.expect_frame(), "43/plugin,7[]");
    conn.send(r#"42/plugin,8["somethingElse",{"x":1}]"#);
    assert_eq!(conn.expect_frame(), "43/plugin,8[]");
    plugin.shutdown();
}

#[test]
fn malformed_frames_and_unknown_events_are_ignored_and_the_connection_stays_up() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::FileExplorer), |req| {
        CallbackResult::Value(json!({"files": [], "session": req.session()}))
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    for garbage in [
        "4garbage",
        r#"42/plugin,["plugin""#,
        "9what",
        "",
        r#"42/plugin,"just a string""#,
        r#"42/plugin,["plugin","not an object"]"#,
        r#"42/plugin,[]"#,
        r#"42/plugin,["unknown",{}]"#,
        r#"42/other,["plugin",{"session":"wrong namespace"}]"#,
        r#"42["plugin",{"session":"default namespace"}]"#,
        r#"451-/plugin,["plugin",{"_placeholder":true,"num":0}]"#,
        "43/plugin,1[]",
    ] {
        conn.send(garbage);
    }
    conn.send(plugin_frame(&request("ok"), None));
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": {"files": [], "session": "ok"}, "session": "ok"})
    );
    assert_eq!(hub.accepted.load(Ordering::SeqCst), 1, "no reconnection");
    assert!(plugin.is_connected());
    plugin.shutdown();
}

#[test]
fn a_kick_reconnects_with_a_new_heartbeat_and_queued_results_follow_it() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::BatchModel), |req| {
        std::thread::sleep(Duration::from_millis(300));
        CallbackResult::Value(json!(req.session()))
    });
    let (first, _) = hub.connect_plugin(1000, 1000);
    first.send(plugin_frame(&request("slow"), Some(9)));
    std::thread::sleep(Duration::from_millis(50));
    first.send("41/plugin,");
    let (second, heartbeat) = hub.connect_plugin(1000, 1000);
    assert_eq!(heartbeat, json!({"id": "PID", "secret": "SECRET"}));
    // The result computed while the plugin was away arrives after the new heartbeat.
    assert_eq!(
        second.expect_event("response"),
        json!({"response": "slow", "session": "slow"})
    );
    // The ack belonged to the kicked connection: it is not sent on the new one.
    assert_eq!(second.recv(Duration::from_millis(300)), None);
    assert!(first.wait_closed(WAIT));
    plugin.shutdown();
    plugin.join().unwrap();
}

#[test]
fn a_restarted_server_is_reached_again_with_backoff() {
    let hub = FakeHub::start();
    let plugin = start(config(&hub, PluginKind::BatchModel), |_| {
        CallbackResult::Value(json!("up"))
    });
    let (_conn, _) = hub.connect_plugin(1000, 1000);
    let port = hub.stop();
    let deadline = Instant::now() + WAIT;
    while plugin.is_connected() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!plugin.is_connected(), "the loss is noticed");
    // Down for a while: several attempts fail (connection refused) before it is back.
    std::thread::sleep(Duration::from_millis(600));
    let hub = FakeHub::on_port(port);
    let (conn, heartbeat) = hub.connect_plugin(1000, 1000);
    assert_eq!(heartbeat["id"], "PID");
    conn.send(plugin_frame(&request("again"), None));
    assert_eq!(conn.expect_event("response")["response"], "up");
    plugin.shutdown();
}

#[test]
fn a_silent_server_is_dropped_after_ping_interval_plus_timeout() {
    let hub = FakeHub::with_ping(0, 100);
    let plugin = start(config(&hub, PluginKind::BatchModel), |_| {
        CallbackResult::Value(json!(0))
    });
    // Pings every 100 ms, declared dead after 100 + 1000 ms of silence.
    let (conn, _) = hub.connect_plugin(100, 1000);
    std::thread::sleep(Duration::from_millis(400));
    assert!(conn.pongs.load(Ordering::SeqCst) >= 1, "pings are answered");
    assert!(
        !conn.wait_closed(Duration::from_millis(300)),
        "alive while pinged"
    );
    conn.stop_pings();
    assert!(
        conn.wait_closed(WAIT),
        "the plugin gives up on the silent hub"
    );
    let (_again, heartbeat) = hub.connect_plugin(100, 1000);
    assert_eq!(heartbeat["secret"], "SECRET");
    plugin.shutdown();
}

#[test]
fn a_five_second_callback_with_one_second_pings_stays_connected() {
    let hub = FakeHub::with_ping(0, 1000);
    let plugin = start(config(&hub, PluginKind::BatchModel), |_| {
        std::thread::sleep(Duration::from_secs(5));
        CallbackResult::Value(json!("done"))
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(&request("long"), None));
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": "done", "session": "long"})
    );
    assert!(
        conn.pongs.load(Ordering::SeqCst) >= 3,
        "pings answered meanwhile"
    );
    assert_eq!(hub.accepted.load(Ordering::SeqCst), 1, "never reconnected");
    plugin.shutdown();
}

#[test]
fn fifty_events_with_concurrency_four_are_all_answered() {
    let hub = FakeHub::start();
    let mut cfg = config(&hub, PluginKind::BatchModel);
    cfg.concurrency = 4;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let plugin = {
        let (in_flight, max_seen) = (Arc::clone(&in_flight), Arc::clone(&max_seen));
        start(cfg, move |req| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max_seen.fetch_max(now, Ordering::SeqCst);
            // Wait (bounded) for the pool to fill, so that the bound is what is measured.
            let until = Instant::now() + Duration::from_secs(2);
            while max_seen.load(Ordering::SeqCst) < 4 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(5));
            in_flight.fetch_sub(1, Ordering::SeqCst);
            CallbackResult::Value(json!(req.session()))
        })
    };
    let (conn, _) = hub.connect_plugin(1000, 1000);
    for i in 0..50 {
        conn.send(plugin_frame(&request(&format!("s{i}")), None));
    }
    let frames = conn.collect(50, Duration::from_secs(20));
    assert_eq!(frames.len(), 50);
    let mut sessions: Vec<String> = frames
        .iter()
        .map(|f| {
            let r = event_of(f, "response");
            assert_eq!(r["response"], r["session"]);
            r["session"].as_str().unwrap().to_string()
        })
        .collect();
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 50);
    assert_eq!(max_seen.load(Ordering::SeqCst), 4);
    plugin.shutdown();
}

#[test]
fn overflow_reject_refuses_at_once_with_an_error_record() {
    let hub = FakeHub::start();
    let mut cfg = config(&hub, PluginKind::Model);
    cfg.concurrency = 1;
    cfg.queue_capacity = 0;
    cfg.overflow = Overflow::Reject;
    let gate = Arc::new(Mutex::new(()));
    let held = gate.lock().unwrap();
    let plugin = {
        let gate = Arc::clone(&gate);
        start(cfg, move |_| {
            let _wait = gate.lock().unwrap();
            CallbackResult::Value(json!({"objects": []}))
        })
    };
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(&request("first"), None));
    std::thread::sleep(Duration::from_millis(100));
    conn.send(plugin_frame(&request("second"), Some(3)));
    let record = conn.expect_event("response");
    assert_eq!(record["session"], "second");
    assert_eq!(record["error"], true);
    assert!(record["message"].as_str().unwrap().contains("busy"));
    assert_eq!(conn.expect_frame(), "43/plugin,3[]");
    drop(held);
    assert_eq!(
        conn.expect_event("response"),
        json!({"response": {"objects": [], "classifications": [], "relations": []}, "session": "first"})
    );
    plugin.shutdown();
}

#[test]
fn shutdown_drains_in_flight_work_then_leaves_the_namespace() {
    let hub = FakeHub::start();
    let started = Arc::new(AtomicUsize::new(0));
    let plugin = {
        let started = Arc::clone(&started);
        start(config(&hub, PluginKind::BatchModel), move |_| {
            started.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            CallbackResult::Value(json!("drained"))
        })
    };
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(&request("d"), None));
    let deadline = Instant::now() + WAIT;
    while started.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    plugin.shutdown();
    assert!(plugin.wait_timeout(Duration::ZERO));
    assert_eq!(conn.expect_event("response")["response"], "drained");
    assert_eq!(conn.expect_frame(), "41/plugin,");
    assert!(conn.wait_closed(WAIT));
    plugin.join().unwrap();
}

#[test]
fn a_hub_that_never_answers_ends_the_runtime_after_max_attempts() {
    let mut cfg = PluginConfig::new("PID", "SECRET", PluginKind::Export);
    cfg.hub_url = ango_testkit::closed_port_url();
    cfg.echo_logs = false;
    cfg.reconnect.initial_delay = Duration::from_millis(10);
    cfg.reconnect.max_attempts = Some(2);
    let plugin = start(cfg, |_| CallbackResult::Nothing);
    assert!(plugin.wait_timeout(WAIT));
    let error = plugin.take_error().expect("the fatal error");
    assert!(error.to_string().contains("2 attempts"), "{error}");
    assert!(plugin.take_error().is_none(), "taken once");
    plugin.join().unwrap();
}

#[test]
fn bad_configurations_are_refused_before_anything_starts() {
    let mut cfg = PluginConfig::new("PID", "SECRET", PluginKind::Export);
    cfg.hub_url = "eu-api.ango.ai".into();
    assert!(RunningPlugin::start(cfg, Arc::new(FnCallback(|_| CallbackResult::Nothing))).is_err());
    let cfg = PluginConfig::new("", "SECRET", PluginKind::Export);
    assert!(RunningPlugin::start(cfg, Arc::new(FnCallback(|_| CallbackResult::Nothing))).is_err());
}

#[test]
fn heartbeats_repeat_at_the_configured_interval() {
    let hub = FakeHub::start();
    let mut cfg = config(&hub, PluginKind::BatchModel);
    cfg.heartbeat_interval = Duration::from_millis(150);
    let plugin = start(cfg, |_| CallbackResult::Nothing);
    let (conn, first) = hub.connect_plugin(1000, 1000);
    assert_eq!(first, json!({"id": "PID", "secret": "SECRET"}));
    for _ in 0..2 {
        assert_eq!(
            conn.expect_frame(),
            r#"42/plugin,["heartbeat",{"id":"PID","secret":"SECRET"}]"#
        );
    }
    plugin.shutdown();
}

#[test]
fn shutdown_while_the_hub_never_opens_the_session_returns_promptly() {
    // A server that accepts the websocket but never sends the Engine.IO OPEN.
    // With a 120-s connect timeout, only a shutdown that interrupts the wait for OPEN
    // finishes within WAIT.
    let hub = FakeHub::start();
    let mut cfg = config(&hub, PluginKind::BatchModel);
    cfg.connect_timeout = Duration::from_secs(120);
    let plugin = Arc::new(start(cfg, |_| CallbackResult::Nothing));
    let _conn = hub.next_conn(WAIT).expect("the plugin connects");
    let (tx, rx) = std::sync::mpsc::channel();
    let stopper = Arc::clone(&plugin);
    std::thread::spawn(move || {
        stopper.shutdown();
        let _ = tx.send(());
    });
    rx.recv_timeout(WAIT)
        .expect("shutdown returns while waiting for OPEN");
    assert!(!plugin.is_connected());
}
