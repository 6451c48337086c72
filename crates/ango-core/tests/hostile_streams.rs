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
                u64::MAX,
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
                let reply = page_reply(
                    &items,
                    items.len() as u64,
                    page,
                    number(r, "limit"),
                    u64::MAX,
                );
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
                let reply = page_reply(
                    &items,
                    items.len() as u64,
                    page,
                    number(r, "limit"),
                    u64::MAX,
                );
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
                u64::MAX,
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
        assert_eq!(asked, vec![(1, 200), (2, 100), (3, 100)]);
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
            Some(page_reply(&items, 100, page, number(r, "limit"), u64::MAX))
        });
        let client = server
            .client()
            .with_settings(|s| s.concurrency = concurrency);
        let pages = client
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
