//! Lazy auto-pagination: every task, asset or project as one iterator.
//!
//! The first page is fetched when the iterator is first polled; it tells the `total`.
//! Further pages are fetched by background threads, at most `prefetch` pages ahead of
//! the consumer, and handed over in order. Iteration stops exactly at `total` (a server
//! that sends more is cut off; one that runs dry early ends the iteration).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};

use serde_json::Value;

use crate::assets::GetAssetsParams;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::tasks::GetTasksParams;

/// The largest page the service serves.
pub const MAX_PAGE_SIZE: u64 = 1000;
/// The page size used when none is given.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

type Fetch = dyn Fn(u64) -> Result<Value> + Send + Sync;

/// Everything the worker threads and the consumer share.
struct Shared {
    fetch: Box<Fetch>,
    list_key: &'static str,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// The next page a worker may claim.
    next_page: u64,
    /// The last page (inclusive) that exists.
    last_page: u64,
    /// The page the consumer waits for next.
    wanted_page: u64,
    /// Fetched pages not yet consumed.
    ready: BTreeMap<u64, Result<Vec<Value>>>,
    /// How far ahead of `wanted_page` workers may fetch.
    window: u64,
    /// The consumer has gone.
    cancelled: bool,
}

/// An iterator over every item of a paged listing; see the module docs.
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Pages {
    shared: Arc<Shared>,
    page_size: u64,
    prefetch: usize,
    started: bool,
    buffer: VecDeque<Value>,
    /// Items still to yield; `None` until the first page told the total.
    remaining: Option<u64>,
    /// The server's `total`, once known.
    reported_total: Option<u64>,
    /// Pages are fetched one by one when the server gives no usable total.
    sequential_page: Option<u64>,
    finished: bool,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("list_key", &self.shared.list_key)
            .field("page_size", &self.page_size)
            .field("remaining", &self.remaining)
            .finish()
    }
}

impl Pages {
    /// Pages over `fetch(page)` (pages numbered from 1), reading items from
    /// `data.<list_key>` and the count from `data.total`, with up to `prefetch` pages
    /// fetched ahead in parallel (0 or 1: one at a time, in the consumer's thread).
    pub fn new(
        list_key: &'static str,
        page_size: u64,
        prefetch: usize,
        fetch: impl Fn(u64) -> Result<Value> + Send + Sync + 'static,
    ) -> Pages {
        Pages {
            shared: Arc::new(Shared {
                fetch: Box::new(fetch),
                list_key,
                state: Mutex::new(State {
                    next_page: 2,
                    last_page: 1,
                    wanted_page: 2,
                    ready: BTreeMap::new(),
                    window: prefetch.max(1) as u64,
                    cancelled: false,
                }),
                changed: Condvar::new(),
            }),
            page_size,
            prefetch,
            started: false,
            buffer: VecDeque::new(),
            remaining: None,
            reported_total: None,
            sequential_page: None,
            finished: false,
        }
    }

    /// The total the server reported, once the first page has been read.
    pub fn total(&self) -> Option<u64> {
        self.reported_total
    }

    fn first_page(&mut self) -> Result<()> {
        let page = (self.shared.fetch)(1)?;
        let total = page
            .get("data")
            .and_then(|d| d.get("total"))
            .and_then(Value::as_u64);
        let items = items_of(page, self.shared.list_key)?;
        match total {
            Some(total) => {
                self.reported_total = Some(total);
                self.remaining = Some(total);
                let last_page = total.div_ceil(self.page_size.max(1)).max(1);
                if let Ok(mut state) = self.shared.state.lock() {
                    state.last_page = last_page;
                }
                if last_page > 1 && self.prefetch > 1 {
                    let workers = (self.prefetch as u64).min(last_page - 1);
                    for _ in 0..workers {
                        let shared = Arc::clone(&self.shared);
                        std::thread::spawn(move || worker(shared));
                    }
                } else if last_page > 1 {
                    self.sequential_page = Some(2);
                }
            }
            None => {
                // No total: read pages until a short or empty one.
                if items.len() as u64 >= self.page_size {
                    self.sequential_page = Some(2);
                }
            }
        }
        self.push_items(items);
        Ok(())
    }

    fn push_items(&mut self, items: Vec<Value>) {
        for item in items {
            match &mut self.remaining {
                Some(0) => break,
                Some(n) => *n -= 1,
                None => {}
            }
            self.buffer.push_back(item);
        }
    }

    /// Fetches the next page, from the workers or directly; `false` when there is none.
    fn next_page(&mut self) -> Result<bool> {
        if self.remaining == Some(0) {
            return Ok(false);
        }
        if let Some(page) = self.sequential_page {
            let value = (self.shared.fetch)(page)?;
            let items = items_of(value, self.shared.list_key)?;
            let last = match self.reported_total {
                Some(total) => page >= total.div_ceil(self.page_size.max(1)),
                None => (items.len() as u64) < self.page_size,
            };
            self.sequential_page = if last || items.is_empty() {
                None
            } else {
                Some(page + 1)
            };
            let empty = items.is_empty();
            self.push_items(items);
            return Ok(!empty);
        }
        let Ok(mut state) = self.shared.state.lock() else {
            return Err(Error::Transport("pagination state poisoned".into()));
        };
        if state.wanted_page > state.last_page {
            return Ok(false);
        }
        loop {
            let wanted = state.wanted_page;
            if let Some(result) = state.ready.remove(&wanted) {
                state.wanted_page += 1;
                self.shared.changed.notify_all();
                drop(state);
                let items = result?;
                let empty = items.is_empty();
                self.push_items(items);
                return Ok(!empty);
            }
            state = match self.shared.changed.wait(state) {
                Ok(s) => s,
                Err(_) => return Err(Error::Transport("pagination state poisoned".into())),
            };
        }
    }
}

fn worker(shared: Arc<Shared>) {
    loop {
        let page = {
            let Ok(mut state) = shared.state.lock() else {
                return;
            };
            loop {
                if state.cancelled || state.next_page > state.last_page {
                    return;
                }
                if state.next_page < state.wanted_page + state.window {
                    break;
                }
                state = match shared.changed.wait(state) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
            let page = state.next_page;
            state.next_page += 1;
            page
        };
        let result = (shared.fetch)(page).and_then(|v| items_of(v, shared.list_key));
        let Ok(mut state) = shared.state.lock() else {
            return;
        };
        if result.is_err() {
            // No page after a failed one is useful: stop the others.
            state.last_page = state.last_page.min(page);
        }
        state.ready.insert(page, result);
        shared.changed.notify_all();
    }
}

fn items_of(mut page: Value, key: &str) -> Result<Vec<Value>> {
    match page
        .get_mut("data")
        .and_then(|d| d.get_mut(key))
        .map(Value::take)
    {
        Some(Value::Array(items)) => Ok(items),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(other) => Err(Error::decode(
            format!("data.{key} is not a list"),
            other.to_string().as_bytes(),
        )),
    }
}

impl Iterator for Pages {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if self.finished {
                return None;
            }
            let step = if self.started {
                self.next_page()
            } else {
                self.started = true;
                self.first_page().map(|()| true)
            };
            match step {
                Ok(true) => {}
                Ok(false) => {
                    if self.buffer.is_empty() {
                        self.finish();
                        return None;
                    }
                }
                Err(error) => {
                    self.finish();
                    return Some(Err(error));
                }
            }
        }
    }
}

impl Pages {
    fn finish(&mut self) {
        self.finished = true;
        if let Ok(mut state) = self.shared.state.lock() {
            state.cancelled = true;
        }
        self.shared.changed.notify_all();
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.finish();
    }
}

fn page_size(size: Option<u64>) -> Result<u64> {
    match size.unwrap_or(DEFAULT_PAGE_SIZE) {
        0 => Err(Error::invalid("page_size must be at least 1")),
        n if n > MAX_PAGE_SIZE => Err(Error::invalid(format!(
            "page_size must be at most {MAX_PAGE_SIZE}"
        ))),
        n => Ok(n),
    }
}

impl Client {
    fn prefetch(&self) -> usize {
        self.settings().concurrency.min(4)
    }

    /// Every task of a project matching `params` (its `page` and `limit` are ignored),
    /// `page_size` per request (default 100, at most 1000).
    pub fn iter_tasks(
        &self,
        project_id: &str,
        params: &GetTasksParams,
        page_size: Option<u64>,
    ) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let (client, project_id, params) = (self.clone(), project_id.to_string(), params.clone());
        Ok(Pages::new("tasks", size, self.prefetch(), move |page| {
            client.get_tasks(
                &project_id,
                &GetTasksParams {
                    page,
                    limit: size,
                    ..params.clone()
                },
            )
        }))
    }

    /// Every asset of a project matching `filters`.
    pub fn iter_assets(
        &self,
        project_id: &str,
        filters: &serde_json::Map<String, Value>,
        page_size: Option<u64>,
    ) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let (client, project_id, filters) = (self.clone(), project_id.to_string(), filters.clone());
        Ok(Pages::new("assets", size, self.prefetch(), move |page| {
            client.get_assets(
                &project_id,
                &GetAssetsParams {
                    page,
                    limit: size,
                    filters: filters.clone(),
                },
            )
        }))
    }

    /// Every project visible to the API key.
    pub fn iter_projects(&self, page_size: Option<u64>) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let client = self.clone();
        Ok(Pages::new("projects", size, self.prefetch(), move |page| {
            client.list_projects(page, size)
        }))
    }
}
