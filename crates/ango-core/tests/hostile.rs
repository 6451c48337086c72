//! The core against hostile servers and absurd settings (issue 13): the key never leaves
//! the configured origin, no value from a server, an option or the environment panics,
//! and calls that change state are not repeated after the server may have acted.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::models::{AnnotationPayload, ReviewStatus};
use ango_core::{
    AnnotateOptions, Client, Error, ProgressMode, RetryPolicy, Settings, SettingsOverrides,
};
use serde_json::json;
use support::{Recorder, Reply};

/// Quick retries, so the tests that retry stay fast.
fn fast_retries(retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: retries,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(200),
    }
}

fn client_for(url: &str, retries: u32) -> Client {
    Client::builder("test-key")
        .host(url)
        .retry_policy(fast_retries(retries))
        .request_timeout(Some(Duration::from_secs(10)))
        .progress(ProgressMode::Off)
        .build()
        .unwrap()
}

// ------------------------------------------------------------------ item 1: redirects

#[test]
fn a_redirect_to_another_origin_never_receives_the_key() {
    let elsewhere = Recorder::start();
    let target = format!("{}/stolen", elsewhere.url);
    let api = Recorder::with_responder(move |_| {
        Some(Reply::status(302, "").with_header("location", &target))
    });
    let client = client_for(&api.url, 3);

    let err = client.raw().get_project("p1").unwrap_err();
    assert_eq!(err.status(), Some(302), "{err:?}");
    assert!(err.to_string().contains("redirect"), "{err}");
    let err = client.raw().create_project("n", None, None).unwrap_err();
    assert_eq!(err.status(), Some(302));
    let err = client
        .make_request("DELETE", "/v2/project/p1", None)
        .unwrap_err();
    assert_eq!(err.status(), Some(302));

    // Every call reached the API host once (a 3xx is not retried) and nothing else.
    assert_eq!(api.requests().len(), 3);
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin received {:#?}",
        elsewhere.requests()
    );
}

#[test]
fn a_redirect_body_is_the_error_text() {
    let api = Recorder::with_responder(|_| {
        Some(Reply::status(307, "moved for maintenance").with_header("location", "/v2/other"))
    });
    let err = client_for(&api.url, 0).raw().get_project("p1").unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert_eq!(err.to_string(), "moved for maintenance");
    assert_eq!(
        api.requests().len(),
        1,
        "a same-origin redirect is not followed either"
    );
}

// ------------------------------------------------------------------ item 2: no panics

/// A server answering each connection's first request with a canned raw response.
struct RawServer {
    url: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl RawServer {
    /// `answer(request_head, body)` returns the raw bytes to write, or `None` to drop
    /// the connection after reading the request.
    fn start(answer: impl Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let answer = Arc::new(answer);
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let answer = answer.clone();
                std::thread::spawn(move || serve_raw(stream, &*answer));
            }
        });
        RawServer {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            port,
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Answers one request: raw response bytes, or `None` to drop the connection.
type Answer = dyn Fn(&str, &[u8]) -> Option<Vec<u8>>;

fn serve_raw(stream: TcpStream, answer: &Answer) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut stream = stream;
    if let Some(bytes) = answer(&head, &body) {
        let _ = stream.write_all(&bytes);
        let _ = stream.flush();
    }
    // Dropping the stream closes the connection (with or without an answer).
}

fn raw_response(status: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn nasty_retry_headers_never_panic() {
    let values: Vec<&[u8]> = vec![
        b"1e30",
        b"1e308",
        b"1e400",
        b"inf",
        b"-inf",
        b"NaN",
        b"-1",
        b"-0",
        b"99999999999999999999999999",
        b"0x10",
        b"",
        b"   ",
        b"1,5",
        b"Fri, 31 Dec 9999 23:59:59 GMT",
        b"Mon, 01 Jan 0001 00:00:00 GMT",
        b"Thu, 01 Jan 1970 00:00:00 GMT",
        b"Sun, 31 Feb 2021 25:61:61 GMT",
        b"\xff\xfe\x80",
        "\u{e9}t\u{e9}".as_bytes(),
    ];
    for name in ["retry-after", "retry-after-ms"] {
        for status in ["429 Too Many Requests", "503 Service Unavailable"] {
            for value in &values {
                let (name, value, status) = (name, value.to_vec(), status);
                let server = RawServer::start(move |_, _| {
                    Some(raw_response(status, &[(name, &value)], b"{\"busy\": true}"))
                });
                let result = client_for(&server.url, 1).raw().get_project("p1");
                let err = result.expect_err("the server always refuses");
                assert!(matches!(err.status(), Some(429 | 503)), "{name}: {err:?}");
            }
        }
    }
}

#[test]
fn hostile_bodies_are_decode_errors() {
    let deep = "[".repeat(100_000);
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"\xff\xfe\x00garbage".to_vec(),
        b"{\"data\": 1e99999}".to_vec(),
        b"{\"a\": 1} trailing".to_vec(),
        b"".to_vec(),
        b"\"\\ud800\"".to_vec(),
    ];
    for body in bodies {
        let server = Recorder::start();
        server.push(Reply::bytes(body.clone()));
        match server.client().raw().get_project("p1") {
            Err(Error::Decode { .. }) => {}
            // Lone surrogates and huge numbers may decode (serde_json's choice).
            Ok(_) => {}
            other => panic!(
                "{:?}: {other:?}",
                String::from_utf8_lossy(&body[..body.len().min(20)])
            ),
        }
    }
}

#[test]
fn absurd_timeouts_from_options_and_environment_still_work() {
    let server = Recorder::start();
    let env = |value: &'static str| {
        Settings::default().apply_env(move |name| (name == "ANGO_TIMEOUT").then(|| value.into()))
    };
    let mut settings = vec![env("1e20"), env("NaN"), env("-5"), env("inf"), env("1e400")];
    settings.push(Settings {
        request_timeout: Some(Duration::MAX),
        connect_timeout: Some(Duration::MAX),
        ..Settings::default()
    });
    for settings in settings {
        let client = Client::builder("test-key")
            .host(&server.url)
            .settings(settings)
            .progress(ProgressMode::Off)
            .build()
            .unwrap();
        client.get_project("p1").unwrap();
        let overridden = client.with_overrides(&SettingsOverrides {
            request_timeout: Some(SettingsOverrides::timeout_from_millis(1e25).unwrap()),
            connect_timeout: Some(SettingsOverrides::timeout_from_secs(1e20).unwrap()),
            ..SettingsOverrides::default()
        });
        overridden.get_project("p1").unwrap();
    }
    assert!(SettingsOverrides::timeout_from_secs(f64::NAN).is_err());
}

#[test]
fn a_user_agent_with_a_newline_is_an_invalid_argument() {
    let err = Client::builder("k")
        .host("http://127.0.0.1:9")
        .user_agent("me\r\nX-Injected: yes")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

// ------------------------------------------------------------------ item 5: retry classes

/// A server that reads every request whole, counts it by `METHOD path`, then drops the
/// connection without answering, except for the second and later GETs of a path.
fn dropping_server() -> (RawServer, Arc<Mutex<HashMap<String, usize>>>) {
    let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = counts.clone();
    let server = RawServer::start(move |head, _body| {
        let line = head.lines().next().unwrap_or("");
        let mut parts = line.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").split('?').next().unwrap_or("");
        let key = format!("{method} {path}");
        let n = {
            let mut counts = seen.lock().unwrap();
            let n = counts.entry(key).or_insert(0);
            *n += 1;
            *n
        };
        (method == "GET" && n > 1).then(|| {
            let body = json!({"status": "success", "data": {"task": {"answer": null}}});
            raw_response("200 OK", &[], body.to_string().as_bytes())
        })
    });
    (server, counts)
}

#[test]
fn state_changes_are_sent_once_when_the_connection_drops_after_sending() {
    let (server, counts) = dropping_server();
    let client = client_for(&server.url, 3);

    let payload = AnnotationPayload::default();
    let options = AnnotateOptions {
        overwrite: true,
        send_to_next_stage: true,
        is_plugin: false,
    };
    assert!(client.annotate_task("t1", &payload, options).is_err());
    assert!(
        client
            .review_task("t1", ReviewStatus::Accepted, None)
            .is_err()
    );
    assert!(
        client
            .import_labels("p1", &[json!({"externalId": "a"})])
            .is_err()
    );
    assert!(
        client
            .make_request("POST", "/v2/unknown/action", None)
            .is_err()
    );
    // A read is repeated, and succeeds the second time.
    client.raw().get_task("t1", false).unwrap();

    let counts = counts.lock().unwrap().clone();
    for key in [
        "POST /v2/annotate/t1",
        "POST /v2/review/t1",
        "POST /v2/import/labels",
        "POST /v2/unknown/action",
    ] {
        assert_eq!(counts.get(key), Some(&1), "{key}: {counts:?}");
    }
    assert_eq!(counts.get("GET /v2/task/t1"), Some(&2), "{counts:?}");
}

#[test]
fn a_setter_is_repeated_when_the_connection_drops() {
    let (server, counts) = dropping_server();
    let client = client_for(&server.url, 2);
    assert!(
        client
            .update_tasks_priority("p1", 5, &Default::default())
            .is_err()
    );
    let counts = counts.lock().unwrap().clone();
    assert_eq!(
        counts.get("POST /v2/project/p1/updatePriority"),
        Some(&3),
        "a Safe call is tried 1 + max_retries times: {counts:?}"
    );
}

#[test]
fn state_changes_are_retried_when_the_server_says_it_did_not_act() {
    let server = Recorder::start();
    server.push(Reply::status(503, "busy").with_header("retry-after", "0"));
    server.push(Reply::json(json!({"status": "success", "data": {}})));
    let client = client_for(&server.url, 3);
    client
        .review_task("t1", ReviewStatus::Rejected, None)
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

// ------------------------------------------------------------------ item 10: odd arguments

#[test]
fn make_request_percent_encodes_the_endpoint_like_requests() {
    let server = Recorder::start();
    let client = server.client();
    client
        .make_request(
            "GET",
            "/v2/project/a b/\u{e9}t\u{e9}?q=x y&z=\u{fc}%41",
            None,
        )
        .unwrap();
    let request = server.last();
    assert_eq!(request.path, "/v2/project/a%20b/%C3%A9t%C3%A9");
    assert_eq!(request.raw_query, "q=x%20y&z=%C3%BCA");
}

#[test]
fn get_assets_without_filters_sends_null_like_the_official() {
    let server = Recorder::start();
    let client = server.client();
    client.get_assets_page("p1", 2, 5, None).unwrap();
    server.last().assert_call(
        "GET",
        "/v2/project/p1/assets",
        &[("page", "2"), ("limit", "5"), ("filters", "null")],
        "",
    );
    client
        .get_assets_page("p1", 1, 10, Some(&Default::default()))
        .unwrap();
    assert_eq!(server.last().query_value("filters"), Some("{}"));
}

#[test]
fn negative_pages_are_refused_before_any_request() {
    for (name, value) in [("page", -1), ("limit", -10), ("page", i64::MIN)] {
        let err = ango_core::page_param(name, value).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains(name)),
            "{err:?}"
        );
    }
    assert_eq!(ango_core::page_param("page", 0).unwrap(), 0);
}
