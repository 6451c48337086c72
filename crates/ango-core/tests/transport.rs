//! The wire layer: headers, JSON bodies, errors and retries.

mod support;

use ango_core::Error;
use serde_json::json;
use support::{Recorder, Reply};

#[test]
fn sends_apikey_and_json_content_type_and_python_style_body() {
    let server = Recorder::start();
    server.client().purge_project("p1", "My Project é").unwrap();
    let r = server.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/project/p1/purge");
    assert_eq!(r.header("apikey"), Some("test-key"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body_text(), r#"{"confirmName": "My Project \u00e9"}"#);
}

#[test]
fn http_errors_carry_status_and_the_body_text() {
    let server = Recorder::start();
    server.push(Reply::status(
        404,
        r#"{"status":"fail","message":"Project not found"}"#,
    ));
    let err = server.client().raw().get_project("nope").unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(
        err.to_string(),
        r#"{"status":"fail","message":"Project not found"}"#
    );
    assert_eq!(err.code(), "HTTP");
}

#[test]
fn malformed_responses_are_typed_errors() {
    let server = Recorder::start();
    let client = server.client();
    server.push(Reply::status(502, "<html><body>Bad Gateway</body></html>"));
    assert_eq!(
        client.raw().get_project("p").unwrap_err().status(),
        Some(502)
    );
    server.push(Reply::bytes(b"{\"status\": \"succ".to_vec()));
    assert!(matches!(
        client.raw().get_project("p").unwrap_err(),
        Error::Decode { .. }
    ));
    server.push(Reply::bytes(Vec::new()));
    assert!(matches!(
        client.raw().get_project("p").unwrap_err(),
        Error::Decode { .. }
    ));
    server.push(Reply::bytes(b"<html>ok</html>".to_vec()));
    assert!(matches!(
        client.raw().get_project("p").unwrap_err(),
        Error::Decode { .. }
    ));
}

#[test]
fn idempotent_calls_are_retried_and_honour_retry_after() {
    let server = Recorder::start();
    server.push(Reply::status(503, "busy").with_header("retry-after-ms", "10"));
    server.push(Reply::status(429, "slow down").with_header("retry-after", "0"));
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {"_id": "p"}}}),
    ));
    let client = ango_core::Client::builder("k")
        .host(&server.url)
        .max_retries(3)
        .build()
        .unwrap();
    let project = client.raw().get_project("p").unwrap();
    assert_eq!(project["data"]["project"]["_id"], "p");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn auth_errors_are_never_retried_and_rate_limits_report_retry_after() {
    let server = Recorder::start();
    server.push(Reply::status(401, "unauthorized"));
    let client = ango_core::Client::builder("k")
        .host(&server.url)
        .max_retries(3)
        .build()
        .unwrap();
    assert_eq!(
        client.raw().get_project("p").unwrap_err().status(),
        Some(401)
    );
    assert_eq!(server.requests().len(), 1);

    let limited = Recorder::start();
    limited.push(Reply::status(429, "limit").with_header("retry-after", "7"));
    let err = limited.client().raw().get_project("p").unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(7)));
}

#[test]
fn connection_refused_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = ango_core::Client::builder("k")
        .host(url)
        .max_retries(0)
        .build()
        .unwrap();
    assert!(matches!(
        client.raw().get_project("p").unwrap_err(),
        Error::Connection(_)
    ));
}

#[test]
fn make_request_sends_the_raw_endpoint_and_refuses_bad_methods() {
    let server = Recorder::start();
    let client = server.client();
    client
        .make_request(
            "post",
            "/v2/project/p1?x=a%20b",
            Some(&json!({"name": "n"})),
        )
        .unwrap();
    let r = server.only();
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.raw_query.as_str()),
        ("POST", "/v2/project/p1", "x=a%20b")
    );
    assert_eq!(r.body_text(), r#"{"name": "n"}"#);
    assert!(matches!(
        client.make_request("GE T", "/v2/x", None),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        client.make_request("GET", "v2/x", None),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn raw_reply_gives_the_body_undecoded_after_the_same_request() {
    let server = Recorder::start();
    let body = br#"{"status": "success", "data": {"project": {"_id": "p1", "n": NaN}}}"#.to_vec();
    server.push(Reply::bytes(body.clone()));
    let client = server.client();
    let raw = client.raw_reply(|c| c.raw().get_project("p1")).unwrap();
    assert_eq!(
        raw, body,
        "the body is handed over as received (even JSON serde refuses)"
    );
    // The request is the plain call's, and a plain call afterwards decodes as usual.
    let captured = server.only();
    server.clear();
    server.push(Reply::json(json!({"status": "success", "data": {"x": 1}})));
    assert_eq!(client.raw().get_project("p1").unwrap()["data"]["x"], 1);
    let plain = server.only();
    assert_eq!(
        (
            captured.method.as_str(),
            captured.path.as_str(),
            captured.query.clone()
        ),
        (
            plain.method.as_str(),
            plain.path.as_str(),
            plain.query.clone()
        )
    );
    assert_eq!(captured.header("apikey"), plain.header("apikey"));
    assert_eq!(
        captured.header("content-type"),
        plain.header("content-type")
    );
}

#[test]
fn raw_reply_refuses_calls_that_send_several_requests_and_passes_errors_through() {
    let server = Recorder::start();
    let client = server.client();
    let err = client
        .raw_reply(|c| {
            c.raw().get_project("a")?;
            c.raw().get_project("b")
        })
        .unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    assert_eq!(server.requests().len(), 2);
    // No request at all is refused too; an HTTP error is the call's own error.
    let err = client
        .raw_reply(|_| Ok(serde_json::Value::Null))
        .unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    server.push(Reply::status(404, "gone"));
    let err = client.raw_reply(|c| c.raw().get_project("x")).unwrap_err();
    assert_eq!(err.status(), Some(404));
    // Capturing ends with the call: the next plain call decodes its reply.
    server.push(Reply::json(json!({"ok": true})));
    assert_eq!(client.raw().get_project("y").unwrap()["ok"], true);
}

#[test]
fn host_names_and_ip_literals_both_reach_the_server_repeatedly() {
    // The resolver answers IP literals itself and caches names: both must keep working
    // across new connections (each reply closes its connection).
    let server = Recorder::start();
    let port = server.url.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let client = ango_core::Client::builder("k")
            .host(&host)
            .max_retries(0)
            .build()
            .unwrap();
        for _ in 0..3 {
            server.push(Reply::json(json!({"ok": 1})).with_header("connection", "close"));
            assert_eq!(client.raw().get_project("p").unwrap()["ok"], 1, "{host}");
        }
    }
    assert_eq!(server.requests().len(), 6);
}
