//! The REST connector: auth, validation, answers, and the records it sends to the API.

use ango_testkit as support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use ango_plugins::{
    CallbackResult, Connector, FnCallback, LogLevel, PluginConfig, PluginKind, PluginRequest,
    RunningPlugin,
};
use serde_json::{Map, Value, json};
use support::Recorder;

fn start(
    api: &Recorder,
    kind: PluginKind,
    tune: impl FnOnce(&mut PluginConfig),
    f: impl Fn(PluginRequest) -> CallbackResult + Send + Sync + 'static,
) -> RunningPlugin {
    let mut config = PluginConfig::new("PID", "s3cret", kind);
    config.connector = Connector::Rest;
    config.port = 0;
    config.bind_address = "127.0.0.1".into();
    config.api_host = api.url.clone();
    config.echo_logs = false;
    tune(&mut config);
    RunningPlugin::start(config, Arc::new(FnCallback(f))).expect("the plugin serves")
}

/// Sends one raw HTTP/1.1 request and returns (status, body).
fn http(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "{head}\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn post(addr: SocketAddr, secret_header: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        addr,
        &format!("POST /plugin HTTP/1.1\r\n{secret_header}\r\nContent-Type: application/json"),
        body.to_string().as_bytes(),
    );
    (status, serde_json::from_str(&text).unwrap())
}

fn data(session: &str) -> Value {
    json!({"session": session, "apiKey": "user-key", "orgId": "o1", "runBy": "u1", "configJSON": "{}"})
}

#[test]
fn the_secret_is_required_on_both_routes() {
    let api = Recorder::start();
    let plugin = start(
        &api,
        PluginKind::BatchModel,
        |_| {},
        |_| CallbackResult::Value(json!("ran")),
    );
    let addr = plugin.local_addr().unwrap();
    assert_eq!(
        http(addr, "GET /heartbeat HTTP/1.1", b""),
        (401, r#"{"detail":"Unauthorized"}"#.to_string())
    );
    assert_eq!(
        http(addr, "GET /heartbeat HTTP/1.1\r\nSecret: wrong", b""),
        (401, r#"{"detail":"Unauthorized"}"#.to_string())
    );
    assert_eq!(
        http(addr, "GET /heartbeat HTTP/1.1\r\nSecret: s3cret0", b""),
        (401, r#"{"detail":"Unauthorized"}"#.to_string())
    );
    assert_eq!(
        http(addr, "GET /heartbeat HTTP/1.1\r\nsecret: s3cret", b""),
        (200, r#""ok""#.to_string())
    );
    let (status, body) = post(addr, "SECRET: nope", &data("s"));
    assert_eq!((status, body), (401, json!({"detail": "Unauthorized"})));
    assert_eq!(http(addr, "GET /nothing HTTP/1.1", b"").0, 404);
    assert_eq!(
        http(addr, "GET /plugin HTTP/1.1\r\nSecret: s3cret", b"").0,
        405
    );
    assert!(api.requests().is_empty(), "nothing ran");
    plugin.shutdown();
}

#[test]
fn bodies_that_are_not_json_objects_are_422() {
    let api = Recorder::start();
    let plugin = start(
        &api,
        PluginKind::Input,
        |c| c.max_body_bytes = 1000,
        |_| CallbackResult::Value(json!("ran")),
    );
    let addr = plugin.local_addr().unwrap();
    let (status, body) = post(addr, "Secret: s3cret", &json!([1, 2]));
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "dict_type");
    assert_eq!(body["detail"][0]["loc"], json!(["body"]));
    let (status, text) = http(
        addr,
        "POST /plugin HTTP/1.1\r\nSecret: s3cret",
        b"{not json",
    );
    assert_eq!(status, 422);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["detail"][0]["type"], "json_invalid");
    let big = vec![b' '; 2000];
    assert_eq!(
        http(addr, "POST /plugin HTTP/1.1\r\nSecret: s3cret", &big).0,
        413
    );
    assert!(api.requests().is_empty(), "nothing ran");
    plugin.shutdown();
}

#[test]
fn a_result_is_the_http_answer_and_logs_go_to_plugin_log() {
    let api = Recorder::start();
    let plugin = start(
        &api,
        PluginKind::BatchModel,
        |_| {},
        |req| {
            req.logger
                .log(LogLevel::Debug, "dropped at INFO", Map::new());
            let mut fields = Map::new();
            fields.insert("step".into(), json!(1));
            req.logger.log(LogLevel::Info, "working", fields);
            CallbackResult::Value(json!({"batches": req.data["batches"].clone()}))
        },
    );
    let addr = plugin.local_addr().unwrap();
    let (status, body) = post(addr, "Secret: s3cret", &data("s1"));
    assert_eq!(status, 200);
    assert_eq!(body, json!({"response": {"batches": []}, "session": "s1"}));
    let requests = api.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let log = &requests[0];
    assert_eq!(
        (log.method.as_str(), log.path.as_str()),
        ("POST", "/v2/pluginLog")
    );
    assert_eq!(log.header("apikey"), Some("user-key"));
    assert_eq!(
        log.json(),
        json!({"step": 1, "level": "INFO", "organization": "o1", "pluginId": "PID", "runBy": "u1", "session": "s1", "msg": "working"})
    );
    plugin.shutdown();
}

#[test]
fn a_failure_is_500_and_its_error_record_reaches_plugin_response() {
    let api = Recorder::start();
    let plugin = start(
        &api,
        PluginKind::Markdown,
        |_| {},
        |req| match req.session() {
            "none" => CallbackResult::Nothing,
            _ => CallbackResult::Failed("boom".into()),
        },
    );
    let addr = plugin.local_addr().unwrap();
    let (status, body) = post(addr, "Secret: s3cret", &data("s2"));
    assert_eq!((status, body), (500, json!({"detail": "boom"})));
    let requests = api.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v2/pluginLog", "/v2/pluginResponse"]);
    assert_eq!(requests[0].json()["msg"], "Plugin callback failed: boom");
    assert_eq!(requests[0].json()["level"], "ERROR");
    assert_eq!(
        requests[1].json(),
        json!({"error": true, "message": "boom", "session": "s2"})
    );
    assert_eq!(requests[1].header("apikey"), Some("user-key"));

    api.clear();
    let (status, _) = post(addr, "Secret: s3cret", &data("none"));
    assert_eq!(status, 500);
    let record = api.last().json();
    assert_eq!(
        (record["error"].clone(), record["session"].clone()),
        (json!(true), json!("none"))
    );
    plugin.shutdown();
}

#[test]
fn a_failing_log_endpoint_never_fails_the_callback() {
    let api = Recorder::with_responder(|r| {
        (r.path == "/v2/pluginLog").then(|| support::Reply::status(500, "log store down"))
    });
    let plugin = start(
        &api,
        PluginKind::BatchModel,
        |c| c.log_level = LogLevel::Debug,
        |req| {
            req.logger
                .log(LogLevel::Debug, "debug is sent at DEBUG", Map::new());
            CallbackResult::Value(json!("still fine"))
        },
    );
    let addr = plugin.local_addr().unwrap();
    let (status, body) = post(addr, "Secret: s3cret", &data("s3"));
    assert_eq!(
        (status, body["response"].clone()),
        (200, json!("still fine"))
    );
    assert_eq!(api.requests()[0].json()["level"], "DEBUG");
    plugin.shutdown();
    plugin.join().unwrap();
}

#[test]
fn shutdown_finishes_the_running_request_then_stops_serving() {
    let api = Recorder::start();
    let plugin = Arc::new(start(
        &api,
        PluginKind::BatchModel,
        |_| {},
        |_| {
            std::thread::sleep(Duration::from_millis(300));
            CallbackResult::Value(json!("finished"))
        },
    ));
    let addr = plugin.local_addr().unwrap();
    let client = std::thread::spawn(move || post(addr, "Secret: s3cret", &data("s4")));
    std::thread::sleep(Duration::from_millis(100));
    plugin.shutdown();
    let (status, body) = client.join().unwrap();
    assert_eq!((status, body["response"].clone()), (200, json!("finished")));
    assert!(TcpStream::connect(addr).is_err() || http_refused(addr));
}

/// After shutdown the listener is closed; a connect may still succeed on some systems
/// only to be reset.
fn http_refused(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return true;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"GET /heartbeat HTTP/1.1\r\nSecret: s3cret\r\n\r\n");
    let mut buf = [0u8; 16];
    !matches!(stream.read(&mut buf), Ok(n) if n > 0)
}

#[test]
fn a_plugin_started_from_binding_options_stops_in_the_background() {
    let api = Recorder::start();
    let options = json!({"id": "PID", "secret": "s3cret", "connector": "rest", "port": 0,
        "bind_address": "127.0.0.1", "apiHost": api.url, "echoLogs": false, "useEnv": false});
    let config = ango_plugins::plugin_config("batch_model", options).unwrap();
    assert_eq!(config.connector, Connector::Rest);
    let plugin = RunningPlugin::start(
        config,
        Arc::new(FnCallback(|request: PluginRequest| {
            let kind = PluginKind::BatchModel;
            match request.session() {
                "bytes" => CallbackResult::from_json_with_file(kind, json!({"b": null}), vec![1]),
                _ => CallbackResult::from_json(kind, json!({"ok": true})),
            }
        })),
    )
    .unwrap();
    let addr = plugin.local_addr().unwrap();
    let (status, body) = post(addr, "Secret: s3cret", &data("json"));
    assert_eq!(
        (status, body["response"].clone()),
        (200, json!({"ok": true}))
    );
    let (status, body) = post(addr, "Secret: s3cret", &data("bytes"));
    assert_eq!(status, 500);
    assert!(
        body["detail"].as_str().unwrap().contains("binary data"),
        "{body}"
    );
    // Seconds as a binding gets them: NaN and negatives do not wait.
    assert!(!plugin.wait_seconds(f64::NAN) && !plugin.wait_seconds(-1.0));
    plugin.shutdown_in_background().unwrap();
    assert!(plugin.wait_seconds(f64::INFINITY));
    assert!(plugin.finish().is_ok() && plugin.finish().is_ok());
    assert!(plugin.wait_seconds(0.0));
}
