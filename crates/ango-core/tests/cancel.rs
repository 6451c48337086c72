//! Cancellation (`Client::with_cancel`): against misbehaving loopback servers (a body
//! dribbled byte by byte, a 503 asking to wait minutes, a page that takes forever, slow
//! storage PUTs) a cancelled call returns `Error::Cancelled` long before the server
//! would have finished, and nothing is sent after the token is cancelled.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::upload::{FileStatus, UploadFile, UploadOptions};
use ango_core::{Cancel, Client, Error, GetTasksParams, RetryPolicy};
use ango_testkit::RawServer;

/// The most any call here may take once cancelled: generous, since the servers below
/// would otherwise hold the call for many minutes.
const BOUND: Duration = Duration::from_secs(30);

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Head {
    method: String,
    target: String,
    /// Set by the test harness: the token was already cancelled when this arrived.
    after_cancel: bool,
}

/// A loopback server, one thread per connection, one request per connection: `answer`
/// writes the whole reply itself (and may dribble it, or stall).
struct Server {
    url: String,
    heads: Arc<Mutex<Vec<Head>>>,
    stop: Arc<AtomicBool>,
    _raw: RawServer,
}

impl Server {
    fn start(
        cancel: &Cancel,
        answer: impl Fn(&Head, &mut TcpStream, &AtomicBool) + Send + Sync + 'static,
    ) -> Server {
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping, cancel) = (heads.clone(), stop.clone(), cancel.clone());
        let raw = RawServer::start(move |mut stream| {
            let Some(head) = read_head(&mut stream, &cancel) else {
                return;
            };
            seen.lock().unwrap().push(head.clone());
            answer(&head, &mut stream, &stopping);
        });
        Server {
            url: raw.url.clone(),
            heads,
            stop,
            _raw: raw,
        }
    }

    fn heads(&self) -> Vec<Head> {
        self.heads.lock().unwrap().clone()
    }

    fn count(&self, prefix: &str) -> usize {
        self.heads()
            .iter()
            .filter(|h| h.target.starts_with(prefix))
            .count()
    }

    /// Waits (bounded) until `n` requests have arrived.
    fn wait_for(&self, n: usize) {
        for _ in 0..3000 {
            if self.heads().len() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the server saw {:?}, expected {n} requests", self.heads());
    }

    fn assert_nothing_after_cancel(&self) {
        let late: Vec<Head> = self
            .heads()
            .into_iter()
            .filter(|h| h.after_cancel)
            .collect();
        assert!(late.is_empty(), "requests sent after cancel: {late:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_head(stream: &mut TcpStream, cancel: &Cancel) -> Option<Head> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let after_cancel = cancel.is_cancelled();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Head {
        method,
        target,
        after_cancel,
    })
}

fn reply(stream: &mut TcpStream, status: &str, extra: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Sends a 200 head announcing `length` bytes, then one byte every 20 ms until the
/// server stops or the client goes away (never finishing in any test's lifetime).
fn dribble(stream: &mut TcpStream, length: usize, stop: &AtomicBool) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.write_all(b"{\"status\":\"success\",\"data\":{\"x\":\"");
    for _ in 0..length {
        if stop.load(Ordering::SeqCst) || stream.write_all(b"a").is_err() {
            return;
        }
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client(url: &str, retries: u32) -> Client {
    Client::builder("test-key")
        .host(url)
        .retry_policy(RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .request_timeout(Some(Duration::from_secs(600)))
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

/// Runs `work` on a thread, cancels once `ready` says so, and returns the outcome
/// (panicking if it does not come within [`BOUND`]).
fn cancel_when<T: Send + 'static>(
    cancel: &Cancel,
    ready: impl FnOnce(),
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    ready();
    cancel.cancel();
    outcome
        .recv_timeout(BOUND)
        .expect("the cancelled call did not return")
}

#[test]
fn a_cancelled_token_sends_nothing() {
    let cancel = Cancel::new();
    let server = Server::start(&cancel, |_, stream, _| reply(stream, "200 OK", "", "{}"));
    let plain = client(&server.url, 0);
    let cancellable = plain.with_cancel(&cancel);
    assert!(cancellable.get_project("p1").is_ok());
    assert_eq!(server.heads().len(), 1);
    cancel.cancel();
    let err = cancellable.get_project("p1").unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(err.code(), "CANCELLED");
    assert!(matches!(
        cancellable.iter_projects(None).unwrap().next(),
        Some(Err(Error::Cancelled))
    ));
    assert!(matches!(
        cancellable.make_request("GET", "/v2/x", None),
        Err(Error::Cancelled)
    ));
    assert_eq!(server.heads().len(), 1, "{:?}", server.heads());
    // The token belongs to the clone made with it: the original still works, and
    // settings changes keep the token.
    assert!(plain.get_project("p1").is_ok());
    assert!(matches!(
        cancellable
            .with_settings(|s| s.concurrency = 2)
            .get_project("p"),
        Err(Error::Cancelled)
    ));
    assert!(cancellable.cancel_token().is_some() && plain.cancel_token().is_none());
}

#[test]
fn a_slow_body_stops_between_chunks() {
    let cancel = Cancel::new();
    let started = Arc::new(AtomicUsize::new(0));
    let seen = started.clone();
    let server = Server::start(&cancel, move |_, stream, stop| {
        seen.fetch_add(1, Ordering::SeqCst);
        dribble(stream, 100_000, stop);
    });
    let client = client(&server.url, 3).with_cancel(&cancel);
    let outcome = cancel_when(
        &cancel,
        || {
            server.wait_for(1);
            std::thread::sleep(Duration::from_millis(100));
        },
        move || client.get_project("p1"),
    );
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    assert_eq!(server.heads().len(), 1, "{:?}", server.heads());
    server.assert_nothing_after_cancel();
}

#[test]
fn a_server_that_never_answers_is_left() {
    let cancel = Cancel::new();
    let server = Server::start(&cancel, |_, _stream, stop| {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let client = client(&server.url, 3).with_cancel(&cancel);
    let outcome = cancel_when(
        &cancel,
        || server.wait_for(1),
        move || client.list_projects(1, 10),
    );
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    assert_eq!(server.heads().len(), 1, "{:?}", server.heads());
    server.assert_nothing_after_cancel();
}

#[test]
fn a_long_retry_after_wait_is_cut_short() {
    let cancel = Cancel::new();
    let server = Server::start(&cancel, |_, stream, _| {
        reply(
            stream,
            "503 Service Unavailable",
            "retry-after: 100\r\n",
            r#"{"status":"error"}"#,
        )
    });
    let client = client(&server.url, 5).with_cancel(&cancel);
    let outcome = cancel_when(
        &cancel,
        || {
            server.wait_for(1);
            std::thread::sleep(Duration::from_millis(50));
        },
        move || client.get_project("p1"),
    );
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    // The retry the server asked for (in 100 s) never went out.
    assert_eq!(server.heads().len(), 1, "{:?}", server.heads());
    server.assert_nothing_after_cancel();
}

/// A page of `n` tasks with ids `offset..offset+n`, total `total`.
fn page(offset: usize, n: usize, total: usize) -> String {
    let tasks: Vec<String> = (offset..offset + n)
        .map(|i| format!(r#"{{"_id":"t{i}"}}"#))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"tasks":[{}],"total":{total}}}}}"#,
        tasks.join(",")
    )
}

/// Page 1 of a 5,000-task listing comes at once; every later page is dribbled.
fn slow_pages(cancel: &Cancel) -> Server {
    Server::start(cancel, |head, stream, stop| {
        if head.target.contains("page=1&") {
            reply(stream, "200 OK", "", &page(0, 1000, 5000));
        } else {
            dribble(stream, 100_000, stop);
        }
    })
}

#[test]
fn pages_stop_while_waiting_for_a_slow_page() {
    for concurrency in [1, 4] {
        let cancel = Cancel::new();
        let server = slow_pages(&cancel);
        let client = client(&server.url, 0)
            .with_settings(|s| s.concurrency = concurrency)
            .with_cancel(&cancel);
        let mut pages = client
            .iter_tasks("p1", &GetTasksParams::default(), None)
            .unwrap();
        for _ in 0..1000 {
            assert!(pages.next().unwrap().is_ok());
        }
        let (outcome, pages) = cancel_when(
            &cancel,
            || {
                server.wait_for(2);
                std::thread::sleep(Duration::from_millis(100));
            },
            move || (pages.next(), pages),
        );
        assert!(
            matches!(outcome, Some(Err(Error::Cancelled))),
            "concurrency {concurrency}: {outcome:?}"
        );
        let mut pages = pages;
        assert!(pages.next().is_none());
        // Workers stuck in slow pages stop at their next chunk and fetch no more.
        std::thread::sleep(Duration::from_millis(300));
        let tasks = server.count("/v2/project/p1/tasks");
        assert!(
            (2..=concurrency + 1).contains(&tasks),
            "concurrency {concurrency}: {:?}",
            server.heads()
        );
        server.assert_nothing_after_cancel();
    }
}

#[test]
fn an_upload_reports_every_file_and_registers_nothing_after_cancel() {
    let cancel = Cancel::new();
    let puts = Arc::new(AtomicUsize::new(0));
    let put_count = puts.clone();
    let server = Server::start(&cancel, move |head, stream, stop| {
        match (head.method.as_str(), head.target.split('?').next().unwrap()) {
            ("GET", "/v2/project/p1") => reply(
                stream,
                "200 OK",
                "",
                r#"{"status":"success","data":{"project":{"_id":"p1","type":"ango"}}}"#,
            ),
            ("GET", "/v2/getUploadUrl") => {
                let addr = stream.local_addr().unwrap();
                let name = head.target.split("name=").nth(1).unwrap_or("x");
                let name = name.split('&').next().unwrap();
                reply(
                    stream,
                    "200 OK",
                    "",
                    &format!(
                        r#"{{"status":"success","data":{{"uploadUrl":"http://{addr}/bucket/{name}?sig=1"}}}}"#
                    ),
                )
            }
            ("PUT", _) => {
                // The first two PUTs succeed; later ones never answer.
                if put_count.fetch_add(1, Ordering::SeqCst) < 2 {
                    reply(stream, "200 OK", "", "");
                } else {
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                        if stream.write_all(b"").is_err() {
                            return;
                        }
                    }
                }
            }
            _ => reply(stream, "200 OK", "", r#"{"status":"success","data":{}}"#),
        }
    });
    let dir = std::env::temp_dir().join(format!("ango-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<UploadFile> = (0..8)
        .map(|i| {
            let path = dir.join(format!("f{i}.txt"));
            std::fs::write(&path, format!("file {i}")).unwrap();
            UploadFile::new(path)
        })
        .collect();
    let client = Client::builder("test-key")
        .host(&server.url)
        .max_retries(0)
        .request_timeout(Some(Duration::from_secs(600)))
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
        .with_cancel(&cancel);
    let options = UploadOptions {
        concurrency: Some(2),
        ..UploadOptions::default()
    };
    let sent = files.clone();
    let report = cancel_when(
        &cancel,
        || {
            while puts.load(Ordering::SeqCst) < 3 {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(50));
        },
        move || client.upload_files("p1", &sent, &options),
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The stalled PUTs were dropped while waiting for their answer.
    let report = report.expect("an upload reports per file");
    assert_eq!(report.files.len(), files.len());
    for (outcome, file) in report.files.iter().zip(&files) {
        assert_eq!(outcome.path, file.path);
        assert!(!outcome.is_uploaded(), "{outcome:?}");
        let FileStatus::Failed { error } = &outcome.status else {
            panic!("{outcome:?}");
        };
        assert!(error.contains("cancelled"), "{error}");
    }
    assert!(matches!(report.registration_error, Some(Error::Cancelled)));
    // The one serialized shape of the report.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["registration_error"], "operation cancelled");
    assert_eq!(json["response"], serde_json::Value::Null);
    assert_eq!(json["files"][0]["status"]["outcome"], "failed");
    assert_eq!(
        json["files"][7]["external_id"],
        files[7].path.to_string_lossy().as_ref()
    );
    assert!(json["files"][0]["status"]["error"].is_string());
    assert_eq!(
        server.count("/v2/project/p1/cloud"),
        0,
        "{:?}",
        server.heads()
    );
    // Every file was PUT at most once.
    assert!(server.count("/bucket/") <= files.len());
    server.assert_nothing_after_cancel();
}

#[test]
fn a_scope_cancels_clients_without_a_token() {
    let cancel = Cancel::new();
    let server = Server::start(&cancel, |_, stream, stop| dribble(stream, 100_000, stop));
    let plain = client(&server.url, 3);
    let scoped = cancel.clone();
    let outcome = cancel_when(
        &cancel,
        || server.wait_for(1),
        move || ango_core::cancel::scope(&scoped, || plain.get_project("p1")),
    );
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    // Outside the scope the same client is not cancelled.
    let other = Cancel::new();
    let quick = Server::start(&other, |_, stream, _| reply(stream, "200 OK", "", "{}"));
    let plain = client(&quick.url, 0);
    assert!(ango_core::cancel::scope(&other, || plain.get_project("p1")).is_ok());
    assert!(plain.get_project("p1").is_ok());
    other.cancel();
    assert!(plain.get_project("p1").is_ok());
    assert!(matches!(
        ango_core::cancel::scope(&other, || plain.get_project("p1")),
        Err(Error::Cancelled)
    ));
    assert_eq!(quick.heads().len(), 3);
    server.assert_nothing_after_cancel();
}
