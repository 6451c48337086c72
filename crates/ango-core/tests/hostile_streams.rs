//! Streams against misbehaving servers (issue 13, items 3, 4 and 7): iterators that
//! never hang and never end short without an error; exports whose corruption is caught;
//! uploads whose registration is checked after an ambiguous failure.

mod support;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::{Error, GetTasksParams, Pages, Value};
use serde_json::json;
use support::{Recorded, Recorder, Reply};

/// How long any iteration in these tests may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(60);

/// Runs `pages` to the end in another thread; panics if it does not end in time.
fn drain(pages: Pages) -> Vec<Result<Value, Error>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(pages.collect::<Vec<_>>());
    });
    rx.recv_timeout(HANG).expect("the iteration hung")
}

fn oid(i: u64) -> String {
    format!("{i:024x}")
}

fn task(i: u64) -> Value {
    json!({"_id": oid(i), "n": i})
}

fn number(r: &Recorded, name: &str) -> u64 {
    r.query_value(name).unwrap().parse().unwrap()
}

fn page_reply(items: &[u64], total: u64, page: u64, limit: u64, cap: u64) -> Reply {
    let limit = limit.min(cap);
    let start = ((page - 1) * limit) as usize;
    let served: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit as usize)
        .map(|&i| task(i))
        .collect();
    Reply::json(json!({"status": "success", "data": {"tasks": served, "total": total}}))
}

/// The numbers yielded, asserting every result before the last is an item.
fn split(results: Vec<Result<Value, Error>>) -> (Vec<u64>, Option<Error>) {
    let mut numbers = Vec::new();
    let mut error = None;
    for result in results {
        assert!(error.is_none(), "nothing after an error");
        match result {
            Ok(item) => numbers.push(item["n"].as_u64().unwrap()),
            Err(e) => error = Some(e),
        }
    }
    (numbers, error)
}

fn counts(numbers: &[u64]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for n in numbers {
        *counts.entry(*n).or_insert(0) += 1;
    }
    counts
}

fn iter(server: &Recorder, concurrency: usize, page_size: u64) -> Pages {
    server
        .client()
        .with_settings(|s| s.concurrency = concurrency)
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), Some(page_size))
        .unwrap()
}

#[test]
fn a_last_page_shorter_than_the_total_never_hangs_and_is_reported() {
    // The server promises 300 and has 250: every item once, then Inconsistent.
    for concurrency in [1, 2, 8] {
        let items: Vec<u64> = (0..250).collect();
        let server = Recorder::with_responder(move |r| {
            Some(page_reply(
                &items,
                300,
                number(r, "page"),
                number(r, "limit"),
                100,
            ))
        });
        let (numbers, error) = split(drain(iter(&server, concurrency, 100)));
        assert_eq!(numbers, (0..250).collect::<Vec<_>>(), "in order, once");
        assert!(
            matches!(error, Some(Error::Inconsistent(_))),
            "concurrency {concurrency}: {error:?}"
        );
    }
}

#[test]
fn items_leaving_the_listing_while_it_is_read_are_all_served_once() {
    // After page 1, the first 50 tasks leave the listing (labelled elsewhere): later
    // pages shift, so a plain page loop would skip 50 tasks that never left.
    for concurrency in [1, 4] {
        let listing = Arc::new(Mutex::new((0..300u64).collect::<Vec<u64>>()));
        let served_first = Arc::new(Mutex::new(false));
        let server = {
            let listing = listing.clone();
            Recorder::with_responder(move |r| {
                let mut items = listing.lock().unwrap();
                let page = number(r, "page");
                let reply = page_reply(&items, items.len() as u64, page, number(r, "limit"), 100);
                let mut first = served_first.lock().unwrap();
                if page == 1 && !*first {
                    *first = true;
                    items.drain(0..50);
                }
                Some(reply)
            })
        };
        let (numbers, error) = split(drain(iter(&server, concurrency, 100)));
        assert!(error.is_none(), "concurrency {concurrency}: {error:?}");
        let counts = counts(&numbers);
        assert_eq!(counts.len(), 300, "concurrency {concurrency}: every task");
        assert!(counts.values().all(|&c| c == 1), "each exactly once");
        assert_eq!(
            numbers[..100],
            (0..100).collect::<Vec<_>>()[..],
            "the first page in order"
        );
    }
}

#[test]
fn items_added_at_the_front_while_it_is_read_are_all_served_once() {
    // Sorted newest first: 20 new tasks arrive after page 1, pushing everything down.
    for concurrency in [1, 4] {
        let listing = Arc::new(Mutex::new((0..300u64).collect::<Vec<u64>>()));
        let served_first = Arc::new(Mutex::new(false));
        let server = {
            let listing = listing.clone();
            Recorder::with_responder(move |r| {
                let mut items = listing.lock().unwrap();
                let page = number(r, "page");
                let reply = page_reply(&items, items.len() as u64, page, number(r, "limit"), 100);
                let mut first = served_first.lock().unwrap();
                if page == 1 && !*first {
                    *first = true;
                    for n in 1000..1020 {
                        items.insert(0, n);
                    }
                }
                Some(reply)
            })
        };
        let (numbers, error) = split(drain(iter(&server, concurrency, 100)));
        assert!(error.is_none(), "concurrency {concurrency}: {error:?}");
        let counts = counts(&numbers);
        assert_eq!(counts.len(), 320, "every task, the new ones included");
        assert!(counts.values().all(|&c| c == 1), "each exactly once");
    }
}

#[test]
fn a_total_that_never_settles_is_an_inconsistency_not_a_hang() {
    for concurrency in [1, 4] {
        let calls = Arc::new(Mutex::new(0u64));
        let server = Recorder::with_responder(move |r| {
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            let items: Vec<u64> = (0..300).collect();
            // The total flips on every request.
            let total = 300 + (*calls % 2) * 7;
            Some(page_reply(
                &items,
                total,
                number(r, "page"),
                number(r, "limit"),
                100,
            ))
        });
        let (numbers, error) = split(drain(iter(&server, concurrency, 100)));
        assert!(matches!(error, Some(Error::Inconsistent(_))), "{error:?}");
        assert!(counts(&numbers).values().all(|&c| c == 1), "never twice");
        assert!(server.requests().len() <= 3 * 4, "bounded re-reading");
    }
}

#[test]
fn a_server_capping_the_page_size_still_yields_every_row_once_in_order() {
    for concurrency in [1, 2, 4, 8] {
        let server = Recorder::with_responder(|r| {
            let items: Vec<u64> = (0..300).collect();
            Some(page_reply(
                &items,
                300,
                number(r, "page"),
                number(r, "limit"),
                100,
            ))
        });
        let (numbers, error) = split(drain(iter(&server, concurrency, 200)));
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            numbers,
            (0..300).collect::<Vec<_>>(),
            "300 of 300, in order"
        );
        let mut asked: Vec<(u64, u64)> = server
            .requests()
            .iter()
            .map(|r| (number(r, "page"), number(r, "limit")))
            .collect();
        asked.sort();
        assert_eq!(asked, vec![(1, 1000), (2, 100), (3, 100)]);
    }
}

#[test]
fn rows_without_ids_that_go_missing_are_an_inconsistency() {
    let server = Recorder::with_responder(|r| {
        let page = number(r, "page");
        let rows: Vec<Value> = if page == 1 {
            (0..10).map(|n| json!({"n": n})).collect()
        } else {
            vec![json!({"n": 10})]
        };
        Some(Reply::json(
            json!({"status": "success", "data": {"tasks": rows, "total": 20}}),
        ))
    });
    let (numbers, error) = split(drain(iter(&server, 1, 10)));
    assert_eq!(numbers, (0..11).collect::<Vec<_>>());
    assert!(matches!(error, Some(Error::Inconsistent(_))), "{error:?}");
    assert_eq!(server.requests().len(), 2, "no re-reading without ids");
}

#[test]
fn a_failing_prefetch_page_reaches_the_consumer_at_its_position() {
    for (concurrency, failure) in [(1, 500), (4, 500), (1, 0), (4, 0)] {
        let server = Recorder::with_responder(move |r| {
            let page = number(r, "page");
            if page == 3 {
                return Some(if failure == 0 {
                    Reply::bytes(b"<html>not json".to_vec())
                } else {
                    Reply::status(failure, r#"{"status":"error","message":"boom"}"#)
                });
            }
            let items: Vec<u64> = (0..100).collect();
            Some(page_reply(&items, 100, page, number(r, "limit"), 10))
        });
        let client = server
            .client()
            .with_settings(|s| s.concurrency = concurrency);
        let pages = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(10))
            .unwrap();
        let (numbers, error) = split(drain(pages));
        assert_eq!(numbers, (0..20).collect::<Vec<_>>());
        match failure {
            0 => assert!(matches!(error, Some(Error::Decode { .. })), "{error:?}"),
            status => assert_eq!(error.and_then(|e| e.status()), Some(status)),
        }
    }
}

#[test]
fn a_panicking_fetch_is_an_internal_error_at_its_position() {
    for prefetch in [0, 1, 4] {
        let pages = Pages::new("tasks", 10, prefetch, |page, limit| {
            if page == 3 {
                panic!("worker bug on page {page}");
            }
            let items: Vec<Value> = ((page - 1) * limit..page * limit).map(task).collect();
            Ok(json!({"data": {"tasks": items, "total": 100}}))
        });
        let (numbers, error) = split(drain(pages));
        assert_eq!(numbers, (0..20).collect::<Vec<_>>(), "prefetch {prefetch}");
        match error {
            Some(Error::Internal(text)) => assert!(text.contains("worker bug"), "{text}"),
            other => panic!("prefetch {prefetch}: {other:?}"),
        }
    }
}

#[test]
fn a_panicking_first_page_is_an_internal_error() {
    let pages = Pages::new("tasks", 10, 4, |_, _| -> ango_core::Result<Value> {
        panic!("first page bug")
    });
    let (numbers, error) = split(drain(pages));
    assert!(numbers.is_empty());
    assert!(matches!(error, Some(Error::Internal(_))), "{error:?}");
}

#[test]
fn dropping_a_slow_iterator_stops_its_workers() {
    let started = Arc::new(Mutex::new(0u64));
    let pages = {
        let started = started.clone();
        Pages::new("tasks", 10, 4, move |page, limit| {
            *started.lock().unwrap() += 1;
            if page > 1 {
                std::thread::sleep(Duration::from_millis(50));
            }
            let items: Vec<Value> = ((page - 1) * limit..page * limit).map(task).collect();
            Ok(json!({"data": {"tasks": items, "total": 1_000_000}}))
        })
    };
    let mut pages = pages;
    assert!(pages.next().unwrap().is_ok());
    drop(pages);
    std::thread::sleep(Duration::from_millis(300));
    let after_drop = *started.lock().unwrap();
    assert!(after_drop <= 1 + 4, "{after_drop} pages started");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(*started.lock().unwrap(), after_drop, "nothing starts later");
}

// ---------------------------------------------------------------------------------
// Exports (item 4)
// ---------------------------------------------------------------------------------

use ango_core::models::{ExportFormat, ExportOptions};
use std::io::{BufRead, BufReader, Write};

fn crc_of(content: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(content);
    crc.sum()
}

fn deflate(content: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// What one header of a hand-written single-entry zip declares.
#[derive(Clone, Copy)]
struct Declared {
    crc: u32,
    compressed: u32,
    size: u32,
}

/// A single-entry zip whose local header and central directory declare what is given.
fn zip_with(name: &str, method: u16, data: &[u8], local: Declared, central: Declared) -> Vec<u8> {
    let mut out = Vec::new();
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    put32(&mut out, 0x0403_4b50);
    for v in [20, 0, method, 0, 0x21] {
        put16(&mut out, v);
    }
    for v in [local.crc, local.compressed, local.size] {
        put32(&mut out, v);
    }
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let central_start = out.len();
    put32(&mut out, 0x0201_4b50);
    for v in [20, 20, 0, method, 0, 0x21] {
        put16(&mut out, v);
    }
    for v in [central.crc, central.compressed, central.size] {
        put32(&mut out, v);
    }
    for v in [name.len() as u16, 0, 0, 0, 0] {
        put16(&mut out, v);
    }
    put32(&mut out, 0);
    put32(&mut out, 0);
    out.extend_from_slice(name.as_bytes());
    let central_size = out.len() - central_start;
    put32(&mut out, 0x0605_4b50);
    for v in [0, 0, 1, 1] {
        put16(&mut out, v);
    }
    put32(&mut out, central_size as u32);
    put32(&mut out, central_start as u32);
    put16(&mut out, 0);
    out
}

/// A deflated single-entry zip whose two headers both declare `declared`.
fn deflated_declaring(content: &[u8], declared: impl Fn(Declared) -> Declared) -> Vec<u8> {
    let data = deflate(content);
    let honest = Declared {
        crc: crc_of(content),
        compressed: data.len() as u32,
        size: content.len() as u32,
    };
    let d = declared(honest);
    zip_with("p1.ndjson", 8, &data, d, d)
}

const NDJSON: &[u8] =
    b"{\"externalId\": \"a.jpg\"}\n{\"externalId\": \"b.jpg\"}\n{\"externalId\": \"c.jpg\"}\n";

fn archive_message(error: Option<Error>) -> String {
    match error {
        Some(Error::Archive(message)) => message,
        other => panic!("expected an archive error, got {other:?}"),
    }
}

fn export_server(download: Vec<u8>) -> Recorder {
    let server = Recorder::start();
    server.push(Reply::bytes(download));
    server
}

fn download(server: &Recorder) -> ango_core::Result<ango_core::export::ExportArchive> {
    server
        .client()
        .download_export(&format!("{}/files/p1.zip", server.url))
}

#[test]
fn a_wrong_crc_is_an_archive_error_on_every_reading_path() {
    let corrupt = deflated_declaring(NDJSON, |d| Declared {
        crc: d.crc ^ 0x0400_0000,
        ..d
    });
    // The whole-document and counting readers refuse it before returning anything.
    let server = export_server(corrupt.clone());
    let archive = download(&server).unwrap();
    assert!(archive_message(archive.count_lines().err()).contains("CRC"));
    assert!(archive_message(archive.to_json().err()).contains("CRC"));
    let server = export_server(corrupt.clone());
    let ndjson = download(&server).unwrap().ndjson_rows();
    assert!(
        archive_message(ndjson.err()).contains("CRC"),
        "no rows at all"
    );
    // A stream of rows ends with the error instead of ending cleanly.
    let server = export_server(corrupt);
    let mut rows: Vec<_> = download(&server)
        .unwrap()
        .rows(ExportFormat::Ndjson)
        .unwrap()
        .collect();
    let last = rows.pop().unwrap();
    assert!(archive_message(last.err()).contains("CRC"));
    assert!(rows.len() <= 3 && rows.iter().all(Result::is_ok));

    // The same as a JSON array: the last element is followed by the error.
    let json = b"[{\"a\": 1}, {\"b\": 2}]";
    let data = deflate(json);
    let d = Declared {
        crc: crc_of(json) ^ 1,
        compressed: data.len() as u32,
        size: json.len() as u32,
    };
    let server = export_server(zip_with("p1.json", 8, &data, d, d));
    let rows: Vec<_> = download(&server)
        .unwrap()
        .rows(ExportFormat::Json)
        .unwrap()
        .collect();
    assert!(
        matches!(rows.last(), Some(Err(Error::Archive(_)))),
        "{rows:?}"
    );
}

#[test]
fn an_entry_shorter_than_its_header_says_is_an_archive_error() {
    // Deflated: the stream ends 40 bytes before the declared size.
    let short = deflated_declaring(NDJSON, |d| Declared {
        size: d.size + 40,
        ..d
    });
    let server = export_server(short);
    let archive = download(&server).unwrap();
    assert!(archive_message(archive.count_lines().err()).contains("shorter"));
    // Stored: fewer data bytes than both headers declare (the archive was cut and
    // re-assembled), so the entry runs into the central directory.
    let d = Declared {
        crc: crc_of(NDJSON),
        compressed: NDJSON.len() as u32,
        size: NDJSON.len() as u32,
    };
    let mut cut = zip_with("p1.ndjson", 0, NDJSON, d, d);
    let data_start = 30 + "p1.ndjson".len();
    cut.drain(data_start + 20..data_start + 30);
    let end = cut.len() - 22;
    let offset = u32::from_le_bytes(cut[end + 16..end + 20].try_into().unwrap()) - 10;
    cut[end + 16..end + 20].copy_from_slice(&offset.to_le_bytes());
    let server = export_server(cut);
    let error = match download(&server) {
        Err(e) => Some(e),
        Ok(archive) => archive.to_json().err(),
    };
    assert!(matches!(error, Some(Error::Archive(_))), "{error:?}");
}

#[test]
fn a_local_header_disagreeing_with_the_central_directory_is_refused() {
    let data = deflate(NDJSON);
    let honest = Declared {
        crc: crc_of(NDJSON),
        compressed: data.len() as u32,
        size: NDJSON.len() as u32,
    };
    for local in [
        Declared {
            crc: honest.crc ^ 1,
            ..honest
        },
        Declared {
            size: honest.size + 1,
            ..honest
        },
    ] {
        let server = export_server(zip_with("p1.ndjson", 8, &data, local, honest));
        assert!(archive_message(download(&server).err()).contains("disagree"));
    }
}

/// How one download request is answered by [`flaky_download_server`].
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// Declares the whole length, sends `n` bytes, closes.
    CutAfter(usize),
    /// Answers a `Range: bytes=k-` request with 206 and the rest.
    Rest,
    /// The whole body.
    Whole,
}

/// A download server following `script`, one answer per request (the last repeats),
/// recording each request's `Range` header; `ranges` tells whether it says it accepts
/// byte ranges.
fn flaky_download_server(
    body: Vec<u8>,
    script: Vec<Answer>,
    ranges: bool,
) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/files/p1.zip", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range:") {
                    range = Some(v.trim().to_string());
                }
            }
            recorded.lock().unwrap().push(range.clone());
            let accept = if ranges {
                "accept-ranges: bytes\r\n"
            } else {
                ""
            };
            let answer = script[i.min(script.len() - 1)];
            let _ = match answer {
                Answer::CutAfter(n) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\n{accept}etag: \"v1\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(&body[..n])
                }
                Answer::Rest => {
                    let start: usize = range
                        .as_deref()
                        .and_then(|r| r.strip_prefix("bytes="))
                        .and_then(|r| r.trim_end_matches('-').parse().ok())
                        .unwrap_or(0);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 206 Partial Content\r\n{accept}content-range: bytes {start}-{}/{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len() - 1,
                        body.len(),
                        body.len() - start
                    );
                    stream.write_all(&body[start..])
                }
                Answer::Whole => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\n{accept}content-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(&body)
                }
            };
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    (url, seen)
}

fn retrying_client(retries: u32) -> ango_core::Client {
    ango_core::Client::builder("test-key")
        .host("http://127.0.0.1:9")
        .retry_policy(ango_core::RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..ango_core::RetryPolicy::default()
        })
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

fn big_ndjson_zip() -> (Vec<u8>, u64) {
    let mut content = Vec::new();
    for i in 0..20_000 {
        writeln!(content, "{{\"externalId\": \"image_{i}.jpg\", \"n\": {i}}}").unwrap();
    }
    let data = deflate(&content);
    let d = Declared {
        crc: crc_of(&content),
        compressed: data.len() as u32,
        size: content.len() as u32,
    };
    (zip_with("p1.ndjson", 8, &data, d, d), 20_000)
}

#[test]
fn a_download_cut_short_is_resumed_with_a_range_request() {
    let (zip, rows) = big_ndjson_zip();
    let cut = zip.len() / 3;
    let (url, ranges) =
        flaky_download_server(zip.clone(), vec![Answer::CutAfter(cut), Answer::Rest], true);
    let archive = retrying_client(2).download_export(&url).unwrap();
    assert_eq!(archive.count_lines().unwrap(), rows);
    assert_eq!(
        *ranges.lock().unwrap(),
        vec![None, Some(format!("bytes={cut}-"))]
    );
}

#[test]
fn a_download_cut_short_without_range_support_starts_again() {
    let (zip, rows) = big_ndjson_zip();
    let (url, ranges) = flaky_download_server(
        zip.clone(),
        vec![Answer::CutAfter(zip.len() / 2), Answer::Whole],
        false,
    );
    let archive = retrying_client(2).download_export(&url).unwrap();
    assert_eq!(archive.count_lines().unwrap(), rows);
    assert_eq!(*ranges.lock().unwrap(), vec![None, None]);
}

#[test]
fn a_download_that_keeps_breaking_off_is_a_bounded_connection_error() {
    let (zip, _) = big_ndjson_zip();
    for retries in [0, 2] {
        let (url, ranges) = flaky_download_server(zip.clone(), vec![Answer::CutAfter(1000)], false);
        let error = retrying_client(retries).download_export(&url).unwrap_err();
        assert!(
            matches!(error, Error::Connection(_) | Error::Timeout(_)),
            "{error:?}"
        );
        assert_eq!(ranges.lock().unwrap().len(), retries as usize + 1);
    }
}

#[test]
fn export_to_file_leaves_only_the_export_in_its_folder() {
    let dir = support::TempDir::new();
    let path = dir.join("export.zip");
    let (good, _) = big_ndjson_zip();
    let corrupt = deflated_declaring(NDJSON, |d| Declared { crc: !d.crc, ..d });
    let server = Recorder::start();
    let client = server.client();
    let serve = |download: Vec<u8>| {
        server.push(Reply::json(json!({
            "status": "success",
            "data": {"exportPath": format!("{}/files/p1.zip", server.url)}
        })));
        server.push(Reply::bytes(download));
    };
    let listing = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    serve(corrupt.clone());
    let error = client.export_to_file("p1", &ExportOptions::default(), &path);
    assert!(matches!(error, Err(Error::Archive(_))), "{error:?}");
    assert!(listing().is_empty(), "{:?}", listing());

    serve(good.clone());
    client
        .export_to_file("p1", &ExportOptions::default(), &path)
        .unwrap();
    assert_eq!(listing(), vec!["export.zip".to_string()]);
    assert_eq!(std::fs::read(&path).unwrap(), good);

    // A corrupt export never replaces a good one.
    serve(corrupt);
    assert!(
        client
            .export_to_file("p1", &ExportOptions::default(), &path)
            .is_err()
    );
    assert_eq!(listing(), vec!["export.zip".to_string()]);
    assert_eq!(std::fs::read(&path).unwrap(), good);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private: {mode:o}");
    }
}

// ---------------------------------------------------------------------------------
// Uploads (item 7)
// ---------------------------------------------------------------------------------

use ango_core::upload::{FileStatus, UploadFile, UploadOptions};

/// How the hub answers the registration (`POST /cloud`) and the check (`GET /assets`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Registration {
    /// Registers the assets, then drops the connection without answering.
    RegisterThenDrop,
    /// Answers 502 without registering anything.
    BadGatewayUnregistered,
    /// Answers 400 (a plain refusal).
    Refused,
}

/// A tiny hub on loopback (one request per connection) that stores registered assets.
struct UploadHub {
    url: String,
    assets: Arc<Mutex<Vec<Value>>>,
    calls: Arc<Mutex<Vec<String>>>,
}

fn upload_hub(registration: Registration, check_fails: bool) -> UploadHub {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let assets: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (state, log, host) = (assets.clone(), calls.clone(), url.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (state, log, host) = (state.clone(), log.clone(), host.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
                let (path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
                let query = support::parse_query(raw_query);
                let get = |name: &str| {
                    query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                log.lock().unwrap().push(format!("{method} {path}"));
                let answer: Option<(u16, Value)> = match (method.as_str(), path) {
                    ("GET", "/v2/project/p1") => Some((
                        200,
                        json!({"status": "success", "data": {"project": {"_id": "p1", "type": "ango", "batches": []}}}),
                    )),
                    ("GET", "/v2/getUploadUrl") => Some((
                        200,
                        json!({"status": "success", "data": {"uploadUrl": format!("{host}/bucket/{}?sig=1", get("name").unwrap_or_default())}}),
                    )),
                    ("PUT", _) => Some((200, json!({}))),
                    ("POST", "/v2/project/p1/cloud") => match registration {
                        Registration::RegisterThenDrop => {
                            let sent: Value = serde_json::from_slice(&body).unwrap();
                            let mut stored = state.lock().unwrap();
                            for asset in sent["assets"].as_array().unwrap() {
                                let n = stored.len();
                                stored.push(json!({
                                    "_id": format!("{n:024x}"),
                                    "externalId": asset["externalId"],
                                    "data": asset["data"],
                                }));
                            }
                            None
                        }
                        Registration::BadGatewayUnregistered => {
                            Some((502, json!({"status": "error", "message": "bad gateway"})))
                        }
                        Registration::Refused => {
                            Some((400, json!({"status": "fail", "message": "no"})))
                        }
                    },
                    ("GET", "/v2/project/p1/assets") if check_fails => {
                        Some((500, json!({"status": "error", "message": "check down"})))
                    }
                    ("GET", "/v2/project/p1/assets") => {
                        let filters: Value =
                            serde_json::from_str(&get("filters").unwrap_or_default())
                                .unwrap_or(Value::Null);
                        let matching: Vec<Value> = state
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|a| a["externalId"] == filters["externalId"])
                            .cloned()
                            .collect();
                        let total = matching.len();
                        Some((
                            200,
                            json!({"status": "success", "data": {"assets": matching, "total": total}}),
                        ))
                    }
                    _ => Some((404, json!({"status": "fail", "message": "unknown route"}))),
                };
                if let Some((status, value)) = answer {
                    let body = value.to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                // No answer: the connection is dropped after the request was read.
                let _ = stream.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    UploadHub { url, assets, calls }
}

fn upload_client(hub: &UploadHub) -> ango_core::Client {
    ango_core::Client::builder("test-key")
        .host(&hub.url)
        .retry_policy(ango_core::RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..ango_core::RetryPolicy::default()
        })
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

fn upload_two(hub: &UploadHub) -> ango_core::upload::UploadReport {
    let dir = support::TempDir::new();
    let files = [
        UploadFile {
            external_id: Some("a.jpg".into()),
            ..UploadFile::new(dir.file("a.jpg", b"a"))
        },
        UploadFile {
            external_id: Some("b.jpg".into()),
            ..UploadFile::new(dir.file("b.jpg", b"b"))
        },
    ];
    upload_client(hub)
        .upload_files("p1", &files, &UploadOptions::default())
        .unwrap()
}

fn cloud_posts(hub: &UploadHub) -> usize {
    hub.calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "POST /v2/project/p1/cloud")
        .count()
}

#[test]
fn assets_registered_before_the_connection_dropped_are_reported_registered() {
    let hub = upload_hub(Registration::RegisterThenDrop, false);
    // An older asset with the same external id (an earlier upload) is not ours.
    hub.assets.lock().unwrap().push(
        json!({"_id": "f".repeat(24), "externalId": "a.jpg", "data": format!("{}/bucket/old.jpg", hub.url)}),
    );
    let report = upload_two(&hub);
    for file in &report.files {
        assert_eq!(file.status.registration(), "registered", "{file:?}");
    }
    assert!(report.is_complete(), "{report:?}");
    assert!(report.registration_error.is_none());
    assert_eq!(cloud_posts(&hub), 1, "the registration is never repeated");
    assert_eq!(hub.assets.lock().unwrap().len(), 3, "no duplicate");
}

#[test]
fn a_check_that_fails_too_reports_unknown() {
    let hub = upload_hub(Registration::RegisterThenDrop, true);
    let report = upload_two(&hub);
    for file in &report.files {
        match &file.status {
            FileStatus::Unknown { url, error } => {
                assert!(url.contains("/bucket/"), "{url}");
                assert!(error.contains("check"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(file.status.registration(), "unknown");
    }
    assert!(!report.is_complete());
    assert!(matches!(
        report.registration_error,
        Some(Error::Connection(_) | Error::Timeout(_) | Error::Transport(_))
    ));
    assert_eq!(cloud_posts(&hub), 1);
}

#[test]
fn a_server_error_without_registration_is_checked_and_reported_not_registered() {
    let hub = upload_hub(Registration::BadGatewayUnregistered, false);
    let report = upload_two(&hub);
    for file in &report.files {
        assert_eq!(file.status.registration(), "not_registered", "{file:?}");
    }
    assert_eq!(
        report.registration_error.as_ref().and_then(Error::status),
        Some(502)
    );
    let checks = hub
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "GET /v2/project/p1/assets")
        .count();
    assert_eq!(checks, 2, "one lookup per file");
}

#[test]
fn a_plain_refusal_is_not_registered_without_any_lookup() {
    let hub = upload_hub(Registration::Refused, false);
    let report = upload_two(&hub);
    for file in &report.files {
        assert_eq!(file.status.registration(), "not_registered", "{file:?}");
    }
    assert!(
        !hub.calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.contains("/assets")),
        "a 400 needs no lookup"
    );
}

#[test]
fn pages_asking_200_from_a_server_serving_100_get_all_300_rows() {
    // The issue's case as such: 200 asked, 100 served, 300 in all, prefetch > 1.
    for prefetch in [0, 2, 4] {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let pages = Pages::new("tasks", 200, prefetch, move |page, limit| {
            log.lock().unwrap().push((page, limit));
            let served = limit.min(100);
            let start = (page - 1) * served;
            let items: Vec<Value> = (start..(start + served).min(300)).map(task).collect();
            Ok(json!({"data": {"tasks": items, "total": 300}}))
        });
        let (numbers, error) = split(drain(pages));
        assert!(error.is_none(), "{error:?}");
        assert_eq!(numbers, (0..300).collect::<Vec<_>>(), "prefetch {prefetch}");
        let mut asked = asked.lock().unwrap().clone();
        asked.sort();
        assert_eq!(asked, vec![(1, 200), (2, 100), (3, 100)]);
    }
}

#[test]
fn a_re_reading_that_meets_rows_without_ids_never_yields_twice() {
    // Reading 1 runs dry (with ids); the re-reading serves rows without ids.
    let calls = Arc::new(Mutex::new(0u64));
    let pages = {
        let calls = calls.clone();
        Pages::new("tasks", 10, 0, move |page, limit| {
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            let first_reading = *calls <= 3;
            let items: Vec<Value> = ((page - 1) * limit..(page * limit).min(25))
                .map(|n| {
                    if first_reading {
                        task(n)
                    } else {
                        json!({"n": n})
                    }
                })
                .collect();
            Ok(json!({"data": {"tasks": items, "total": 30}}))
        })
    };
    let (numbers, error) = split(drain(pages));
    assert_eq!(numbers, (0..25).collect::<Vec<_>>(), "each once");
    assert!(matches!(error, Some(Error::Inconsistent(_))), "{error:?}");
}
