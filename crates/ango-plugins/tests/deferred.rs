//! `ango_plugins::deferred`: requests settled later from another thread (the Node
//! binding's event loop), their loggers and export rows reached by token.

use ango_testkit as support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ango_plugins::deferred::{Deferred, Outcome, Token};
use ango_plugins::{
    CallbackResult, Connector, ExportRowStream, LogLevel, PluginCallback, PluginConfig, PluginKind,
    PluginLogger, PluginRequest, RunningPlugin,
};
use serde_json::{Map, Value, json};
use support::{Recorder, Reply};

/// Generous bound for anything a test waits for (never a timing assertion).
const BOUND: Duration = Duration::from_secs(30);

fn request(data: Value, logger: PluginLogger, rows: Option<ExportRowStream>) -> PluginRequest {
    let Value::Object(data) = data else {
        panic!("data must be an object")
    };
    PluginRequest {
        data,
        logger,
        export_rows: rows,
    }
}

fn local_logger(level: LogLevel) -> PluginLogger {
    PluginLogger::detached("PID", "org", "user", "sess", level)
}

type Callback = Arc<dyn PluginCallback>;

/// A deferred, its callback, and the receiver its dispatch hands each request to.
fn queued(kind: PluginKind) -> (Deferred, Callback, Receiver<(Token, String)>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (deferred, callback) = Deferred::new(kind, move |token, json| {
        tx.lock()
            .unwrap()
            .send((token, json))
            .map_err(|e| e.to_string())
    });
    (deferred, Arc::new(callback), rx)
}

/// Runs one call of `callback` on its own thread; its result arrives on the receiver.
fn call_in_background(
    callback: Arc<dyn PluginCallback>,
    request: PluginRequest,
) -> Receiver<CallbackResult> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(callback.call(request));
    });
    rx
}

#[test]
fn complete_resolves_the_waiting_call() {
    let (deferred, callback, dispatched) = queued(PluginKind::Input);
    let result = call_in_background(
        Arc::clone(&callback),
        request(
            json!({"session": "s1", "n": 2}),
            local_logger(LogLevel::Info),
            None,
        ),
    );
    let (token, json) = dispatched.recv_timeout(BOUND).expect("dispatched");
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        json!({"session": "s1", "n": 2})
    );
    assert_eq!(deferred.pending(), 1);
    deferred.complete(
        token,
        Outcome {
            value_json: Some(r#"{"answer": [1, 2]}"#.into()),
            ..Outcome::default()
        },
    );
    assert_eq!(
        result.recv_timeout(BOUND).expect("the call returned"),
        CallbackResult::Value(json!({"answer": [1, 2]}))
    );
    assert_eq!(deferred.pending(), 0);
    // A second completion of the same token is a no-op.
    deferred.complete(token, Outcome::failed("late"));

    // Each request gets its own token; a thrown error is the Failed message.
    let second = call_in_background(
        Arc::clone(&callback),
        request(json!({}), local_logger(LogLevel::Info), None),
    );
    let (token2, _) = dispatched.recv_timeout(BOUND).expect("dispatched");
    assert_ne!(token, token2);
    deferred.complete(token2, Outcome::failed("boom"));
    assert_eq!(
        second.recv_timeout(BOUND).unwrap(),
        CallbackResult::Failed("boom".into())
    );
}

#[test]
fn a_dispatch_failure_yields_failed_with_its_message() {
    let (deferred, callback) = Deferred::new(PluginKind::Markdown, |_, _| {
        Err("could not call the JavaScript callback (Closing)".to_string())
    });
    let result = callback.call(request(json!({}), local_logger(LogLevel::Info), None));
    assert_eq!(
        result,
        CallbackResult::Failed("could not call the JavaScript callback (Closing)".into())
    );
    assert_eq!(deferred.pending(), 0, "the failed request is forgotten");
}

#[test]
fn unknown_tokens_are_ignored() {
    let (deferred, callback, dispatched) = queued(PluginKind::Input);
    let result = call_in_background(
        Arc::clone(&callback),
        request(json!({}), local_logger(LogLevel::Warning), None),
    );
    let (token, _) = dispatched.recv_timeout(BOUND).expect("dispatched");
    let unknown = token + 1000;
    deferred.complete(unknown, Outcome::failed("not yours"));
    deferred.log(unknown, "ERROR", "nobody", Some("{}"));
    assert!(!deferred.log_enabled(unknown, "CRITICAL"));
    assert_eq!(deferred.export_next(unknown, 10).unwrap(), None);
    assert_eq!(deferred.pending(), 1, "the real request still waits");
    // The known token reaches its logger (level WARNING).
    assert!(deferred.log_enabled(token, "ERROR"));
    assert!(deferred.log_enabled(token, "30"));
    assert!(!deferred.log_enabled(token, "INFO"));
    // Not an export: no rows.
    assert_eq!(deferred.export_next(token, 10).unwrap(), None);
    deferred.complete(token, Outcome::default());
    assert_eq!(result.recv_timeout(BOUND).unwrap(), CallbackResult::Nothing);
    // Once settled, the token is unknown too.
    assert!(!deferred.log_enabled(token, "ERROR"));
}

#[test]
fn outcomes_convert_per_kind() {
    let text = |s: &str| Outcome {
        value_json: Some(s.into()),
        ..Outcome::default()
    };
    let failed = |r: CallbackResult, needle: &str| match r {
        CallbackResult::Failed(m) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected a failure with {needle:?}, got {other:?}"),
    };
    failed(
        text("{not json").into_result(PluginKind::Input),
        "the result is not JSON",
    );
    // The error wins over a value.
    let both = Outcome {
        error: Some("thrown".into()),
        ..text("1")
    };
    assert_eq!(
        both.into_result(PluginKind::Input),
        CallbackResult::Failed("thrown".into())
    );
    assert_eq!(
        Outcome::default().into_result(PluginKind::Model),
        CallbackResult::Nothing
    );
    let export = Outcome {
        value_json: Some(r#"{"file": null, "fileName": "out.csv"}"#.into()),
        file: Some(b"a,b".to_vec()),
        ..Outcome::default()
    };
    assert_eq!(
        export.into_result(PluginKind::Export),
        CallbackResult::ExportFile {
            bytes: b"a,b".to_vec(),
            file_name: "out.csv".into(),
            storage_id: None,
        }
    );
}

/// A zip archive with one entry holding `body`.
fn zip_of(body: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file("export.ndjson", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(body).unwrap();
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// The rows of an NDJSON export served by a local server.
fn export_rows(server: &Recorder, body: &[u8]) -> ExportRowStream {
    server.push(Reply::bytes(zip_of(body)));
    let archive = server
        .client()
        .download_export(&format!("{}/export.zip", server.url))
        .expect("the export downloads");
    ExportRowStream::new(archive.ndjson_rows().expect("NDJSON rows"))
}

#[test]
fn export_rows_are_read_in_batches_and_rows_that_are_not_utf8_are_refused() {
    let server = Recorder::start();
    let rows = export_rows(
        &server,
        b"{\"a\": 1}\n\n{\"b\": \"\xc3\xa9\"}\n{\"c\": \"\xff\"}\n{\"d\": 4}\n",
    );
    let (deferred, callback, dispatched) = queued(PluginKind::Export);
    let result = call_in_background(
        Arc::clone(&callback),
        request(json!({}), local_logger(LogLevel::Info), Some(rows)),
    );
    let (token, _) = dispatched.recv_timeout(BOUND).expect("dispatched");
    let trimmed = |batch: Vec<String>| -> Vec<String> {
        batch
            .into_iter()
            .map(|r| r.trim_end().to_string())
            .collect()
    };
    let first = deferred.export_next(token, 1).unwrap().expect("a row");
    assert_eq!(trimmed(first), [r#"{"a": 1}"#]);
    let second = deferred.export_next(token, 1).unwrap().expect("a row");
    assert_eq!(trimmed(second), ["{\"b\": \"\u{e9}\"}"]);
    // The next row is not UTF-8: refused as a decode error, not replaced with U+FFFD.
    match deferred.export_next(token, 1) {
        Err(ango_core::Error::Decode { message, .. }) => {
            assert!(message.contains("UTF-8"), "{message}")
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let last = deferred.export_next(token, 10).unwrap().expect("a row");
    assert_eq!(trimmed(last), [r#"{"d": 4}"#]);
    assert_eq!(deferred.export_next(token, 10).unwrap(), None, "the end");
    deferred.complete(token, Outcome::failed("done"));
    assert_eq!(
        result.recv_timeout(BOUND).unwrap(),
        CallbackResult::Failed("done".into())
    );
}

#[test]
fn dropping_or_closing_the_deferred_fails_waiting_calls() {
    for close in [false, true] {
        let (deferred, callback, dispatched) = queued(PluginKind::BatchModel);
        let result = call_in_background(
            Arc::clone(&callback),
            request(json!({}), local_logger(LogLevel::Info), None),
        );
        dispatched.recv_timeout(BOUND).expect("dispatched");
        if close {
            deferred.close();
            deferred.close(); // idempotent
        } else {
            drop(deferred);
        }
        match result
            .recv_timeout(BOUND)
            .expect("the waiting call returned")
        {
            CallbackResult::Failed(message) => {
                assert!(message.contains("never completed"), "{message}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        // A later request fails at once, without being dispatched.
        let later = callback.call(request(json!({}), local_logger(LogLevel::Info), None));
        assert!(matches!(later, CallbackResult::Failed(_)), "{later:?}");
        assert!(dispatched.try_recv().is_err());
    }
}

#[test]
fn a_plugin_with_a_request_pending_shuts_down_once_its_deferred_is_dropped() {
    let api = Recorder::start();
    let (deferred, callback, dispatched) = queued(PluginKind::BatchModel);
    let mut config = PluginConfig::new("PID", "s3cret", PluginKind::BatchModel);
    config.connector = Connector::Rest;
    config.port = 0;
    config.bind_address = "127.0.0.1".into();
    config.api_host = api.url.clone();
    config.echo_logs = false;
    let plugin = RunningPlugin::start(config, callback).expect("the plugin serves");
    let addr = plugin.local_addr().unwrap();
    let body =
        json!({"session": "s", "apiKey": "k", "orgId": "o", "runBy": "u", "configJSON": "{}"})
            .to_string();
    let client = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        let head = format!(
            "POST /plugin HTTP/1.1\r\nHost: x\r\nSecret: s3cret\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    });
    let (token, _) = dispatched.recv_timeout(BOUND).expect("dispatched");
    // The "event loop" can still log through the request while it waits.
    assert!(deferred.log_enabled(token, "INFO"));
    plugin.shutdown_in_background().unwrap();
    drop(deferred);
    assert!(
        plugin.wait_seconds(BOUND.as_secs_f64()),
        "the plugin stopped"
    );
    let response = client.join().unwrap();
    assert!(response.starts_with("HTTP/1.1 "), "{response:?}");
}

#[test]
fn log_goes_to_the_request_logger() {
    let api = Recorder::start();
    let logger = PluginLogger::rest(
        "PID",
        "org",
        "user",
        "sess",
        "run-key",
        &api.url,
        LogLevel::Info,
        BOUND,
    );
    let (deferred, callback, dispatched) = queued(PluginKind::Input);
    let result = call_in_background(Arc::clone(&callback), request(json!({}), logger, None));
    let (token, _) = dispatched.recv_timeout(BOUND).expect("dispatched");
    deferred.log(token, "DEBUG", "filtered out", None);
    deferred.log(token, "WARNING", "hello", Some(r#"{"step": 3}"#));
    let deadline = Instant::now() + BOUND;
    let record = loop {
        let sent: Vec<Map<String, Value>> = api
            .requests()
            .iter()
            .filter(|r| r.path == "/v2/pluginLog")
            .filter_map(|r| r.json().as_object().cloned())
            .collect();
        if let Some(first) = sent.into_iter().next() {
            break first;
        }
        assert!(Instant::now() < deadline, "no log record was sent");
        thread::sleep(Duration::from_millis(20));
    };
    let text = Value::Object(record).to_string();
    assert!(
        text.contains("hello") && text.contains("\"step\":3"),
        "{text}"
    );
    assert!(!text.contains("filtered out"), "{text}");
    deferred.complete(token, Outcome::default());
    assert_eq!(result.recv_timeout(BOUND).unwrap(), CallbackResult::Nothing);
}

#[test]
fn the_dispatch_function_is_released_with_the_callback_not_the_deferred() {
    /// Sets its flag when dropped (as Node's threadsafe function unrefs the event loop).
    struct Released(Arc<AtomicBool>);
    impl Drop for Released {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let released = Arc::new(AtomicBool::new(false));
    let held = Released(Arc::clone(&released));
    let (deferred, callback) = Deferred::new(PluginKind::Input, move |_, _| {
        let _ = &held;
        Err("unused".to_string())
    });
    drop(callback);
    assert!(
        released.load(Ordering::SeqCst),
        "the runtime's side owned the dispatch"
    );
    // The binding's side still answers (every token is unknown now).
    assert_eq!(deferred.pending(), 0);
    assert!(!deferred.log_enabled(1, "ERROR"));
}
