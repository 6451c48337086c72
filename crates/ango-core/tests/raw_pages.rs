//! Listings read with `Pages::with_raw_items` (issue 11): each item's JSON text exactly
//! as the server sent it, with every guarantee of the decoded iterator (order, capped
//! pages, re-reads with `_id` de-duplication, errors at their position, panics caught).

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::{Error, GetTasksParams, Pages, Value};
use serde_json::json;
use support::{Recorded, Recorder, Reply};

const HANG: Duration = Duration::from_secs(60);

/// Every raw item's text (or the error) of `pages`, in another thread, bounded in time.
fn drain_raw(pages: Pages) -> Vec<Result<String, Error>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pages = pages.with_raw_items();
        let mut out = Vec::new();
        while let Some(item) = pages.next_raw() {
            out.push(item.map(|raw| raw.get().to_string()));
        }
        let _ = tx.send(out);
    });
    rx.recv_timeout(HANG).expect("the iteration hung")
}

fn number(r: &Recorded, name: &str) -> u64 {
    r.query_value(name).unwrap().parse().unwrap()
}

/// Item `i` as text, with what a decode-and-re-encode would change: spacing, escapes,
/// a float's spelling, key order.
fn item_text(i: u64) -> String {
    format!(
        r#"{{ "_id" : "{i:024x}", "n": {i}, "name": "t\u00e9\"{i}\/", "score": 1.50, "z": [ ], "a": {{"k": null}} }}"#
    )
}

/// A page of `items` (cut to `cap` items per page) as the server's exact text.
fn page_text(items: &[u64], total: u64, page: u64, limit: u64, cap: u64) -> Reply {
    let limit = limit.min(cap);
    let served: Vec<String> = items
        .iter()
        .skip(((page - 1) * limit) as usize)
        .take(limit as usize)
        .map(|&i| item_text(i))
        .collect();
    Reply::bytes(
        format!(
            r#"{{"status": "success", "data": {{"total": {total}, "tasks": [{}]}}}}"#,
            served.join(" , ")
        )
        .into_bytes(),
    )
}

fn iter(server: &Recorder, concurrency: usize) -> Pages {
    server
        .client()
        .with_settings(|s| s.concurrency = concurrency)
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), Some(100))
        .unwrap()
}

fn numbers(texts: &[String]) -> Vec<u64> {
    texts
        .iter()
        .map(|t| {
            serde_json::from_str::<Value>(t).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

fn split(results: Vec<Result<String, Error>>) -> (Vec<String>, Option<Error>) {
    let mut texts = Vec::new();
    let mut error = None;
    for result in results {
        assert!(error.is_none(), "nothing after an error");
        match result {
            Ok(text) => texts.push(text),
            Err(e) => error = Some(e),
        }
    }
    (texts, error)
}

#[test]
fn raw_items_are_the_servers_text_in_order_across_capped_pages() {
    for concurrency in [1, 4] {
        let items: Vec<u64> = (0..250).collect();
        let server = Recorder::with_responder(move |r| {
            Some(page_text(
                &items,
                250,
                number(r, "page"),
                number(r, "limit"),
                100,
            ))
        });
        let (texts, error) = split(drain_raw(iter(&server, concurrency)));
        assert!(error.is_none(), "concurrency {concurrency}: {error:?}");
        let expected: Vec<String> = (0..250).map(item_text).map(|t| t.trim().into()).collect();
        assert_eq!(
            texts, expected,
            "concurrency {concurrency}: byte for byte, in order"
        );
        // The decoded iterator over the same server agrees item for item.
        let decoded: Vec<Value> = iter(&server, concurrency).map(Result::unwrap).collect();
        let raw: Vec<Value> = texts
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        assert_eq!(decoded, raw);
    }
}

#[test]
fn raw_items_taken_with_next_are_decoded() {
    let items: Vec<u64> = (0..30).collect();
    let server = Recorder::with_responder(move |r| {
        Some(page_text(
            &items,
            30,
            number(r, "page"),
            number(r, "limit"),
            10,
        ))
    });
    let mut pages = iter(&server, 4).with_raw_items();
    let first = pages.next().unwrap().unwrap();
    assert_eq!(first["name"], json!("t\u{e9}\"0/"));
    let second = pages.next_raw().unwrap().unwrap();
    assert_eq!(second.get(), item_text(1).trim());
    assert_eq!(pages.count(), 28);
}

#[test]
fn raw_items_leaving_the_listing_are_read_again_and_served_once() {
    for concurrency in [1, 4] {
        let listing = Arc::new(Mutex::new((0..300u64).collect::<Vec<u64>>()));
        let served_first = Arc::new(Mutex::new(false));
        let server = {
            let listing = listing.clone();
            Recorder::with_responder(move |r| {
                let mut items = listing.lock().unwrap();
                let page = number(r, "page");
                let reply = page_text(&items, items.len() as u64, page, number(r, "limit"), 100);
                let mut first = served_first.lock().unwrap();
                if page == 1 && !*first {
                    *first = true;
                    items.drain(0..50);
                }
                Some(reply)
            })
        };
        let (texts, error) = split(drain_raw(iter(&server, concurrency)));
        assert!(error.is_none(), "concurrency {concurrency}: {error:?}");
        let mut numbers = numbers(&texts);
        assert_eq!(numbers[..100], (0..100).collect::<Vec<_>>()[..]);
        numbers.sort();
        assert_eq!(numbers, (0..300).collect::<Vec<_>>(), "every task once");
    }
}

#[test]
fn a_raw_item_served_twice_under_one_id_is_an_inconsistency_after_the_rest() {
    // Every reading serves item 5 twice: read again, then Inconsistent; never twice.
    let server = Recorder::with_responder(move |r| {
        let mut items: Vec<u64> = (0..20).collect();
        items[6] = 5;
        Some(page_text(
            &items,
            20,
            number(r, "page"),
            number(r, "limit"),
            10,
        ))
    });
    let (texts, error) = split(drain_raw(iter(&server, 4)));
    let mut expected: Vec<u64> = (0..20).filter(|&n| n != 6).collect();
    expected.sort();
    let mut got = numbers(&texts);
    got.sort();
    assert_eq!(got, expected, "item 5 once");
    assert!(matches!(error, Some(Error::Inconsistent(_))), "{error:?}");
}

#[test]
fn a_failing_raw_page_reaches_the_consumer_at_its_position() {
    for (concurrency, failure) in [(1, 500), (4, 500), (1, 0), (4, 0), (1, 1), (4, 1)] {
        let server = Recorder::with_responder(move |r| {
            let page = number(r, "page");
            if page == 3 {
                return Some(match failure {
                    0 => Reply::bytes(b"<html>not json".to_vec()),
                    1 => Reply::bytes(
                        br#"{"data": {"tasks": {"no": "list"}, "total": 100}}"#.to_vec(),
                    ),
                    status => Reply::status(status, r#"{"status":"error","message":"boom"}"#),
                });
            }
            let items: Vec<u64> = (0..100).collect();
            Some(page_text(&items, 100, page, number(r, "limit"), 10))
        });
        let (texts, error) = split(drain_raw(iter(&server, concurrency)));
        assert_eq!(numbers(&texts), (0..20).collect::<Vec<_>>(), "{failure}");
        match failure {
            0 | 1 => assert!(matches!(error, Some(Error::Decode { .. })), "{error:?}"),
            status => assert_eq!(error.and_then(|e| e.status()), Some(status)),
        }
    }
}

#[test]
fn raw_replies_without_data_or_items_are_empty_listings() {
    for body in [
        r#"{"status": "success"}"#,
        r#"{"data": null}"#,
        r#"{"data": {"tasks": null}}"#,
        "[1, 2]",
    ] {
        let server =
            Recorder::with_responder(move |_| Some(Reply::bytes(body.as_bytes().to_vec())));
        let raw = drain_raw(iter(&server, 4));
        assert!(raw.is_empty(), "{body}: {raw:?}");
        let decoded: Vec<_> = iter(&server, 4).collect();
        assert!(decoded.is_empty(), "{body}");
    }
}

#[test]
fn a_raw_fetch_that_panics_is_an_internal_error_and_leaves_the_thread_clean() {
    let server = Recorder::with_responder(|_| {
        Some(Reply::json(
            json!({"status": "success", "data": {"project": {"_id": "p1"}}}),
        ))
    });
    let client = server.client();
    // Prefetch 0: every page is fetched in this thread.
    let pages = Pages::new("tasks", 10, 0, |_, _| -> ango_core::Result<Value> {
        panic!("raw page bug")
    });
    let mut pages = pages.with_raw_items();
    match pages.next_raw() {
        Some(Err(Error::Internal(text))) => assert!(text.contains("raw page bug"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert!(pages.next_raw().is_none());
    // A later ordinary call on this thread is decoded as usual (not captured).
    let project = client.raw().get_project("p1").unwrap();
    assert_eq!(project["data"]["project"]["_id"], json!("p1"));
}

#[test]
fn a_raw_fetch_that_sends_no_request_is_an_internal_error() {
    let pages = Pages::new("tasks", 10, 0, |_, _| {
        Ok(json!({"data": {"tasks": [], "total": 0}}))
    });
    let results = drain_raw(pages);
    assert!(
        matches!(results[..], [Err(Error::Internal(_))]),
        "{results:?}"
    );
}
