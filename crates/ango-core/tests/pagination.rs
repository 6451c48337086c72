//! Auto-pagination: every item exactly once and in order, whatever the page size and
//! prefetch; servers that send too much, too little or no total; errors; early drop.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ango_core::{Client, Error, GetTasksParams, Value};
use serde_json::json;
use support::{Recorded, Recorder, Reply};

/// A synthetic listing the fake server pages through.
#[derive(Debug, Clone, Copy)]
struct Listing {
    /// Items the server has.
    available: u64,
    /// What it says `total` is (`None`: no total in the answer).
    reported_total: Option<u64>,
    /// Send `limit` items on every page, past the end of the list.
    over_deliver: bool,
    /// Answer this page with an error.
    failing_page: Option<u64>,
    /// Serve at most this many items per page, whatever `limit` asks for.
    cap: Option<u64>,
}

impl Listing {
    fn exact(total: u64) -> Listing {
        Listing {
            available: total,
            reported_total: Some(total),
            over_deliver: false,
            failing_page: None,
            cap: None,
        }
    }

    fn capped(self, cap: u64) -> Listing {
        Listing {
            cap: Some(cap),
            ..self
        }
    }
}

fn item(i: u64) -> Value {
    json!({"_id": format!("id-{i}"), "n": i})
}

fn number(r: &Recorded, name: &str) -> u64 {
    r.query_value(name).unwrap().parse().unwrap()
}

/// One page of `listing` under `key`, as `/v2` answers it.
fn page_of(listing: &Listing, key: &str, r: &Recorded) -> Reply {
    let (page, limit) = (number(r, "page"), number(r, "limit"));
    let limit = listing.cap.map_or(limit, |cap| limit.min(cap));
    if listing.failing_page == Some(page) {
        return Reply::status(400, r#"{"status":"fail","message":"page refused"}"#);
    }
    let start = (page - 1) * limit;
    let end = if listing.over_deliver {
        start + limit
    } else {
        (start + limit).min(listing.available)
    };
    let items: Vec<Value> = (start..end.max(start)).map(item).collect();
    let mut data = serde_json::Map::new();
    data.insert(key.into(), Value::Array(items));
    if let Some(total) = listing.reported_total {
        data.insert("total".into(), json!(total));
    }
    Reply::json(json!({"status": "success", "data": data}))
}

/// A server answering `/v2/project/<total>-<cap>/tasks` with an exact listing of
/// `<total>` items, at most `<cap>` per page (0: as many as asked).
fn sized_lists() -> Recorder {
    Recorder::with_responder(|r| {
        let (total, cap) = r
            .path
            .strip_prefix("/v2/project/")?
            .strip_suffix("/tasks")?
            .split_once('-')?;
        let (total, cap): (u64, u64) = (total.parse().ok()?, cap.parse().ok()?);
        let listing = match cap {
            0 => Listing::exact(total),
            cap => Listing::exact(total).capped(cap),
        };
        Some(page_of(&listing, "tasks", r))
    })
}

fn task_server(listing: Listing) -> Recorder {
    Recorder::with_responder(move |r| {
        (r.path == "/v2/project/p1/tasks").then(|| page_of(&listing, "tasks", r))
    })
}

fn with_concurrency(client: &Client, concurrency: usize) -> Client {
    client.with_settings(|s| s.concurrency = concurrency)
}

fn numbers(items: impl IntoIterator<Item = Value>) -> Vec<u64> {
    items
        .into_iter()
        .map(|v| v["n"].as_u64().expect("an item"))
        .collect()
}

/// Pages requested so far, with how often each was.
fn pages_requested(server: &Recorder) -> BTreeMap<u64, usize> {
    let mut pages = BTreeMap::new();
    for r in server.requests() {
        *pages.entry(number(&r, "page")).or_insert(0) += 1;
    }
    pages
}

fn every_item_once_in_order(concurrency: usize) {
    let server = sized_lists();
    let client = with_concurrency(&server.client(), concurrency);
    for total in [0u64, 1, 99, 100, 101, 1001, 2500] {
        // 0: the server serves the 1000 asked for; else it caps every page.
        for cap in [0u64, 1, 7, 100] {
            if cap == 1 && total > 101 {
                continue; // thousands of requests: nothing more to learn
            }
            server.clear();
            let mut pages = client
                .raw()
                .iter_tasks(
                    &format!("{total}-{cap}"),
                    &GetTasksParams::default(),
                    Some(100),
                )
                .unwrap();
            assert_eq!(pages.total(), None, "nothing is read before the first poll");
            let mut items = Vec::new();
            for result in pages.by_ref() {
                items.push(result.unwrap());
            }
            assert_eq!(pages.total(), Some(total));
            assert!(pages.next().is_none(), "a finished iterator stays finished");
            let context = format!("total {total}, cap {cap}, concurrency {concurrency}");
            assert_eq!(numbers(items), (0..total).collect::<Vec<_>>(), "{context}");
            let served = if cap == 0 { 1000 } else { cap };
            let expected_pages = total.div_ceil(served).max(1);
            assert_eq!(
                pages_requested(&server),
                (1..=expected_pages).map(|p| (p, 1)).collect(),
                "{context}"
            );
            for r in server.requests() {
                // The largest page first; then the size the server really serves.
                let expected_limit = if number(&r, "page") == 1 {
                    1000
                } else {
                    served
                };
                assert_eq!(number(&r, "limit"), expected_limit, "{context}");
                assert_eq!(r.query_value("includeAnswer"), Some("false"));
            }
        }
    }
}

#[test]
fn every_item_exactly_once_in_order_one_page_at_a_time() {
    every_item_once_in_order(1);
}

#[test]
fn every_item_exactly_once_in_order_with_prefetch() {
    every_item_once_in_order(8);
}

#[test]
fn assets_and_projects_page_the_same_way() {
    let server = Recorder::with_responder(|r| match r.path.as_str() {
        "/v2/project/p1/assets" => Some(page_of(&Listing::exact(25).capped(10), "assets", r)),
        "/v2/listProjects" => Some(page_of(&Listing::exact(23).capped(10), "projects", r)),
        _ => None,
    });
    for concurrency in [1, 8] {
        let client = with_concurrency(&server.client(), concurrency);
        let mut filters = serde_json::Map::new();
        filters.insert("externalId".into(), json!("a.jpg"));
        let assets: Vec<Value> = client
            .raw()
            .iter_assets("p1", &filters, Some(10))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(numbers(assets), (0..25).collect::<Vec<_>>());
        let projects: Vec<Value> = client
            .raw()
            .iter_projects(Some(10))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(numbers(projects), (0..23).collect::<Vec<_>>());
    }
    let asset_calls: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/assets"))
        .collect();
    assert_eq!(asset_calls.len(), 6);
    assert!(
        asset_calls
            .iter()
            .all(|r| r.query_value("filters") == Some(r#"{"externalId": "a.jpg"}"#))
    );
}

#[test]
fn a_server_sending_more_than_its_total_is_cut_off() {
    for concurrency in [1, 8] {
        // Every page is full, past the end.
        let server = task_server(Listing {
            available: 0,
            reported_total: Some(15),
            over_deliver: true,
            failing_page: None,
            cap: Some(10),
        });
        let client = with_concurrency(&server.client(), concurrency);
        let items: Vec<Value> = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(10))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(numbers(items), (0..15).collect::<Vec<_>>());
        assert_eq!(pages_requested(&server).len(), 2);

        // A first page larger than asked for already holds everything.
        let server = Recorder::with_responder(|r| {
            let items: Vec<Value> = (0..50).map(item).collect();
            (r.path == "/v2/project/p1/tasks").then(|| {
                Reply::json(json!({"status": "success", "data": {"tasks": items, "total": 15}}))
            })
        });
        let client = with_concurrency(&server.client(), concurrency);
        let items: Vec<Value> = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(10))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(numbers(items), (0..15).collect::<Vec<_>>());
    }
}

#[test]
fn without_a_total_pages_are_read_until_a_short_one() {
    for concurrency in [1, 8] {
        // A short first page may be a cap: the next page (of that size) tells.
        for (available, expected_pages) in [(25u64, 3u64), (20, 3), (5, 2), (0, 1)] {
            let server = task_server(Listing {
                available,
                reported_total: None,
                over_deliver: false,
                failing_page: None,
                cap: Some(10),
            });
            let client = with_concurrency(&server.client(), concurrency);
            let mut pages = client
                .raw()
                .iter_tasks("p1", &GetTasksParams::default(), Some(10))
                .unwrap();
            let items: Vec<Value> = pages.by_ref().map(Result::unwrap).collect();
            assert_eq!(numbers(items), (0..available).collect::<Vec<_>>());
            assert_eq!(pages.total(), None);
            assert_eq!(
                pages_requested(&server),
                (1..=expected_pages).map(|p| (p, 1)).collect(),
                "{available} items, concurrency {concurrency}"
            );
        }
    }
}

#[test]
fn a_server_running_dry_before_its_total_is_an_inconsistency_after_every_item() {
    for concurrency in [1, 8] {
        let server = task_server(Listing {
            available: 30,
            reported_total: Some(50),
            over_deliver: false,
            failing_page: None,
            cap: Some(10),
        });
        let client = with_concurrency(&server.client(), concurrency);
        let results: Vec<Result<Value, Error>> = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(10))
            .unwrap()
            .collect();
        let (last, items) = results.split_last().unwrap();
        let items: Vec<Value> = items.iter().map(|r| r.as_ref().unwrap().clone()).collect();
        assert_eq!(numbers(items), (0..30).collect::<Vec<_>>(), "each once");
        assert!(
            matches!(last, Err(Error::Inconsistent(_))),
            "concurrency {concurrency}: {last:?}"
        );
    }
}

#[test]
fn an_error_on_page_three_is_yielded_once_and_ends_the_iteration() {
    for concurrency in [1, 8] {
        let server = task_server(Listing {
            failing_page: Some(3),
            ..Listing::exact(100).capped(10)
        });
        let client = with_concurrency(&server.client(), concurrency);
        let mut pages = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(10))
            .unwrap();
        let mut items = Vec::new();
        let mut errors = Vec::new();
        for result in pages.by_ref() {
            match result {
                Ok(item) => {
                    assert!(errors.is_empty(), "no item after the error");
                    items.push(item);
                }
                Err(error) => errors.push(error),
            }
        }
        assert_eq!(numbers(items), (0..20).collect::<Vec<_>>());
        assert_eq!(errors.len(), 1, "concurrency {concurrency}: {errors:?}");
        assert_eq!(errors[0].status(), Some(400));
        assert!(pages.next().is_none());
        assert!(pages.next().is_none());
    }
}

#[test]
fn a_malformed_page_is_a_decode_error() {
    let server = Recorder::with_responder(|_| {
        Some(Reply::json(
            json!({"status": "success", "data": {"tasks": {"not": "a list"}, "total": 5}}),
        ))
    });
    let mut pages = server
        .client()
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), None)
        .unwrap();
    assert!(matches!(pages.next(), Some(Err(Error::Decode { .. }))));
    assert!(pages.next().is_none());
}

/// Waits until no request has arrived for a while (in-flight prefetches to land).
fn settled_request_count(server: &Recorder) -> usize {
    let mut last = server.requests().len();
    let mut quiet_rounds = 0;
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(20));
        let now = server.requests().len();
        if now == last {
            quiet_rounds += 1;
            if quiet_rounds == 5 {
                break;
            }
        } else {
            quiet_rounds = 0;
            last = now;
        }
    }
    last
}

#[test]
fn dropping_the_iterator_early_stops_the_prefetch() {
    let server = task_server(Listing::exact(100_000).capped(10));
    let client = with_concurrency(&server.client(), 8);
    let prefetch_window = 4; // page_size 10 × concurrency 8 < one page: the minimum
    let mut pages = client
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), Some(10))
        .unwrap();
    assert_eq!(numbers([pages.next().unwrap().unwrap()]), vec![0]);
    drop(pages);
    let seen = settled_request_count(&server);
    assert!(
        (1..=1 + prefetch_window).contains(&seen),
        "{seen} pages requested after taking one item"
    );
    // However late a stopped worker's last request lands, the bound holds.
    std::thread::sleep(Duration::from_millis(100));
    let later = server.requests().len();
    assert!(later <= 1 + prefetch_window, "{later} pages after the drop");

    // Taking a few pages' worth stays within the window ahead of what was consumed.
    server.clear();
    let taken: Vec<Value> = client
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), Some(10))
        .unwrap()
        .take(35)
        .map(Result::unwrap)
        .collect();
    assert_eq!(numbers(taken), (0..35).collect::<Vec<_>>());
    let seen = settled_request_count(&server);
    assert!(seen <= 4 + prefetch_window, "{seen} pages for 4 consumed");

    // One page at a time: exactly the pages consumed.
    server.clear();
    let one_by_one = with_concurrency(&client, 1);
    let first = one_by_one
        .raw()
        .iter_tasks("p1", &GetTasksParams::default(), Some(10))
        .unwrap()
        .next();
    assert!(first.is_some());
    assert_eq!(settled_request_count(&server), 1);
}

#[test]
fn page_sizes_out_of_range_are_refused_before_any_request() {
    let server = Recorder::start();
    let client = server.client();
    for size in [0, 1001] {
        let tasks = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(size));
        assert!(matches!(tasks, Err(Error::InvalidArgument(_))), "{size}");
        let assets = client
            .raw()
            .iter_assets("p1", &serde_json::Map::new(), Some(size));
        assert!(matches!(assets, Err(Error::InvalidArgument(_))), "{size}");
        assert!(matches!(
            client.raw().iter_projects(Some(size)),
            Err(Error::InvalidArgument(_))
        ));
    }
    for size in [Some(1), Some(1000), None] {
        let pages = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), size)
            .unwrap();
        drop(pages);
    }
    assert!(server.requests().is_empty(), "iterators are lazy");
}

#[test]
fn iterators_ask_for_the_largest_pages_and_keep_the_filters() {
    let server = task_server(Listing::exact(1500));
    let params = GetTasksParams {
        page: 7,
        limit: 3,
        stage: Some("Label".into()),
        include_answer: true,
        ..GetTasksParams::default()
    };
    for page_size in [None, Some(10)] {
        server.clear();
        let items: Vec<Value> = with_concurrency(&server.client(), 1)
            .raw()
            .iter_tasks("p1", &params, page_size)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 1500);
        let requests = server.requests();
        assert_eq!(
            requests.len(),
            2,
            "the page size does not set the request count"
        );
        for (i, r) in requests.iter().enumerate() {
            assert_eq!(number(r, "page"), i as u64 + 1, "the given page is ignored");
            assert_eq!(number(r, "limit"), 1000, "the given limit is ignored");
            assert_eq!(r.query_value("stage"), Some("Label"));
            assert_eq!(r.query_value("includeAnswer"), Some("true"));
        }
    }
}

#[test]
fn a_server_refusing_large_pages_is_paged_with_the_callers_page_size() {
    let server = Recorder::with_responder(|r| {
        if number(r, "limit") > 100 {
            return Some(Reply::status(
                400,
                r#"{"status":"fail","message":"limit must be at most 100"}"#,
            ));
        }
        Some(page_of(&Listing::exact(130), "tasks", r))
    });
    for concurrency in [1, 8] {
        server.clear();
        let items: Vec<Value> = with_concurrency(&server.client(), concurrency)
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(50))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(numbers(items), (0..130).collect::<Vec<_>>());
        let limits: Vec<u64> = server
            .requests()
            .iter()
            .map(|r| number(r, "limit"))
            .collect();
        assert_eq!(limits, vec![1000, 50, 50, 50]);
    }
}

#[test]
fn the_prefetch_window_follows_the_page_size() {
    // Pages of 1000; the window holds about page_size × concurrency items, at least
    // four pages, at most the concurrency.
    for (page_size, window) in [(100u64, 4usize), (500, 4), (1000, 8)] {
        let server = task_server(Listing::exact(1_000_000));
        let client = with_concurrency(&server.client(), 8);
        let mut pages = client
            .raw()
            .iter_tasks("p1", &GetTasksParams::default(), Some(page_size))
            .unwrap();
        assert!(pages.next().unwrap().is_ok());
        let seen = settled_request_count(&server);
        assert!(
            seen <= 1 + window,
            "page size {page_size}: {seen} pages requested with one consumed"
        );
        drop(pages);
    }
}
