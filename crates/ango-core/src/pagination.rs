//! Lazy auto-pagination: every task, asset or project as one iterator.
//!
//! The first page is fetched when the iterator is first polled; it tells the `total`
//! and how many items the server really serves per page (a server that caps the page
//! size is followed: the rest is asked for in pages of the size it served). Further
//! pages are fetched by background threads, at most a window of pages ahead of the
//! consumer, and handed over in order. The client's iterators ask for the largest pages
//! the service serves and size the window from the caller's `page_size`, so memory is
//! bounded by the window while the number of requests stays as low as the server allows.
//!
//! The iterator never hangs and never ends short without saying so:
//!
//! - a page that fails (an HTTP error after retries, a malformed answer, even a panic
//!   in a worker) is yielded as an error at that page's position, then iteration ends;
//! - a listing that changes while it is read (a `total` that moves, a page shorter than
//!   it should be, the same item twice) is read again from the start, yielding only the
//!   items not yet yielded (matched by `_id`), until one reading is consistent; when
//!   that cannot be achieved (no `_id`s, or the server keeps contradicting itself) the
//!   iteration ends with [`Error::Inconsistent`] after every item it could serve;
//! - dropping the iterator stops the workers: no request starts after the drop.
//!
//! With [`Pages::with_raw_items`], pages are kept as the server sent them: each item's
//! JSON text is handed out by [`Pages::next_raw`] (for bindings that decode JSON
//! straight into their own objects), with the same guarantees.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use std::any::{Any, TypeId};
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::assets::GetAssetsParams;
use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::tasks::GetTasksParams;

/// The largest page the service serves.
pub const MAX_PAGE_SIZE: u64 = 1000;
/// The page size used when none is given.
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// The most pages an iterator fetches ahead.
const MAX_PREFETCH: usize = 16;
/// The fewest pages an iterator fetches ahead (when its concurrency allows), so that
/// the link stays busy while a page is consumed.
const MIN_PREFETCH: u64 = 4;
/// How many times a listing that changed while it was read is read again.
const MAX_REREADS: u32 = 2;

/// Fetches page `page` (from 1) of `limit` items.
type Fetch = dyn Fn(u64, u64) -> Result<Value> + Send + Sync;

/// One item of a page: decoded, or its JSON text as the server sent it.
#[derive(Debug)]
enum Item {
    Value(Value),
    Raw(Box<RawValue>),
}

impl Item {
    fn into_value(self) -> Result<Value> {
        match self {
            Item::Value(value) => Ok(value),
            Item::Raw(raw) => serde_json::from_str(raw.get())
                .map_err(|e| Error::decode(format!("invalid JSON: {e}"), raw.get().as_bytes())),
        }
    }

    fn into_raw(self) -> Result<Box<RawValue>> {
        match self {
            Item::Raw(raw) => Ok(raw),
            Item::Value(value) => serde_json::value::to_raw_value(&value)
                .map_err(|e| Error::Internal(format!("re-encoding an item failed: {e}"))),
        }
    }
}

/// One page as the server answered it, each item with its identity.
#[derive(Debug)]
struct Page {
    items: Vec<(Item, Option<ItemKey>)>,
    total: Option<u64>,
}

/// Runs `fetch` for one page, turning a panic into [`Error::Internal`]. With `raw`,
/// the reply's body is kept undecoded and only split into items.
fn fetch_page(fetch: &Fetch, list_key: &str, raw: bool, page: u64, limit: u64) -> Result<Page> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if raw {
            crate::http::capture_raw_reply(|| fetch(page, limit))
                .and_then(|body| raw_page_of(&body, list_key))
        } else {
            fetch(page, limit).and_then(|value| page_of(value, list_key))
        }
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            if raw {
                // A panic left this thread capturing replies: disarm it (this call
                // sends nothing, so its own error is expected and ignored).
                let _ = crate::http::capture_raw_reply(|| Ok(Value::Null));
            }
            Err(Error::Internal(format!(
                "fetching page {page} panicked: {}",
                Error::panic_text(panic.as_ref())
            )))
        }
    }
}

/// Just the `_id` of an item (the rest is skipped).
#[derive(Deserialize)]
struct RawId {
    #[serde(rename = "_id", default)]
    id: Option<Value>,
}

fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

/// [`page_of`] for an undecoded body: the same items, total and errors, each item
/// kept as its JSON text.
fn raw_page_of(body: &[u8], key: &str) -> Result<Page> {
    let invalid = |e: serde_json::Error| Error::decode(format!("invalid JSON: {e}"), body);
    let reply: &RawValue = serde_json::from_slice(body).map_err(invalid)?;
    // The few keys of the reply and of `data` are decoded, the items only split out
    // (the last of duplicated keys wins, as when decoding).
    let data = if is_object(reply) {
        serde_json::from_str::<HashMap<String, &RawValue>>(reply.get())
            .map_err(invalid)?
            .remove("data")
            .filter(|data| is_object(data))
    } else {
        None
    };
    let Some(data) = data else {
        return Ok(Page {
            items: Vec::new(),
            total: None,
        });
    };
    let fields: HashMap<String, &RawValue> = serde_json::from_str(data.get()).map_err(invalid)?;
    let total = fields
        .get("total")
        .and_then(|t| serde_json::from_str::<Value>(t.get()).ok())
        .and_then(|t| t.as_u64());
    let items = match fields.get(key) {
        None => Vec::new(),
        Some(list) if list.get() == "null" => Vec::new(),
        Some(list) if list.get().starts_with('[') => {
            let list: Vec<&RawValue> = serde_json::from_str(list.get()).map_err(invalid)?;
            list.into_iter()
                .map(|item| (Item::Raw(item.to_owned()), raw_key_of(item)))
                .collect()
        }
        Some(other) => {
            return Err(Error::decode(
                format!("data.{key} is not a list"),
                other.get().as_bytes(),
            ));
        }
    };
    Ok(Page { items, total })
}

/// [`key_of`] for an item's JSON text.
fn raw_key_of(item: &RawValue) -> Option<ItemKey> {
    if !is_object(item) {
        return None;
    }
    match serde_json::from_str::<RawId>(item.get()) {
        Ok(RawId { id }) => id.as_ref().and_then(id_key),
        // A duplicated `_id`: the last one counts, as when decoding.
        Err(_) => serde_json::from_str::<Value>(item.get())
            .ok()
            .as_ref()
            .and_then(key_of),
    }
}

fn page_of(mut value: Value, key: &str) -> Result<Page> {
    let data = value.get_mut("data");
    let total = data
        .as_ref()
        .and_then(|d| d.get("total"))
        .and_then(Value::as_u64);
    let items = match data.and_then(|d| d.get_mut(key)).map(Value::take) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(Error::decode(
                format!("data.{key} is not a list"),
                other.to_string().as_bytes(),
            ));
        }
    };
    let items = items
        .into_iter()
        .map(|item| {
            let key = key_of(&item);
            (Item::Value(item), key)
        })
        .collect();
    Ok(Page { items, total })
}

/// What one reading of the listing shares between its workers and the consumer.
struct Pass {
    fetch: Arc<Fetch>,
    list_key: &'static str,
    /// Pages are kept undecoded.
    raw: bool,
    /// The `limit` sent for every page of this reading.
    limit: u64,
    state: Mutex<PassState>,
    changed: Condvar,
    /// The consumer's cancellation token: its wait for a page ends once cancelled.
    cancel: Option<crate::cancel::Cancel>,
}

struct PassState {
    /// The next page nobody has claimed yet.
    next_page: u64,
    /// The last page (inclusive) worth fetching.
    last_page: u64,
    /// The page the consumer needs next.
    wanted: u64,
    /// How many pages from `wanted` on may be claimed (fetching or fetched).
    window: u64,
    /// Fetched pages not yet consumed.
    ready: BTreeMap<u64, Result<Page>>,
    /// The consumer has gone or moved to another reading.
    cancelled: bool,
}

impl Pass {
    fn lock(&self) -> MutexGuard<'_, PassState> {
        // Nothing panics while holding the lock, but never turn poison into a hang.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The result for `page`: fetched by a worker, or fetched here if nobody has
    /// claimed it yet, so the consumer never waits for work that is not under way.
    fn take(&self, page: u64) -> Result<Page> {
        let mut state = self.lock();
        if state.wanted < page {
            state.wanted = page;
            self.changed.notify_all();
        }
        loop {
            if let Some(result) = state.ready.remove(&page) {
                state.wanted = page + 1;
                self.changed.notify_all();
                return result;
            }
            if state.next_page <= page {
                state.next_page = page + 1;
                state.wanted = page + 1;
                self.changed.notify_all();
                drop(state);
                return fetch_page(&*self.fetch, self.list_key, self.raw, page, self.limit);
            }
            // Claimed by a worker, which always delivers (panics included); a
            // cancelled consumer stops waiting (checked in slices).
            state = match &self.cancel {
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(cancel) => {
                    cancel.check()?;
                    self.changed
                        .wait_timeout(state, crate::cancel::CANCEL_POLL)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    fn cancel(&self) {
        self.lock().cancelled = true;
        self.changed.notify_all();
    }
}

fn worker(pass: Arc<Pass>) {
    loop {
        let page = {
            let mut state = pass.lock();
            loop {
                if state.cancelled || state.next_page > state.last_page {
                    return;
                }
                if state.next_page < state.wanted + state.window {
                    break;
                }
                state = pass.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            let page = state.next_page;
            state.next_page += 1;
            page
        };
        let result = fetch_page(&*pass.fetch, pass.list_key, pass.raw, page, pass.limit);
        let mut state = pass.lock();
        if state.cancelled {
            return;
        }
        if result.is_err() {
            // No page after a failed one will be used: claim no more.
            state.last_page = state.last_page.min(page);
        }
        state.ready.insert(page, result);
        pass.changed.notify_all();
    }
}

/// An item's identity for de-duplication: ObjectIds packed, other ids as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ItemKey {
    ObjectId(u128),
    Text(Box<str>),
}

fn key_of(item: &Value) -> Option<ItemKey> {
    id_key(item.get("_id")?)
}

fn id_key(id: &Value) -> Option<ItemKey> {
    let id = id.as_str()?;
    let object_id = id.len() == 24 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match object_id
        .then(|| u128::from_str_radix(id, 16).ok())
        .flatten()
    {
        Some(packed) => Some(ItemKey::ObjectId(packed)),
        None => Some(ItemKey::Text(id.into())),
    }
}

/// The reading in progress, as the consumer tracks it.
struct Reading {
    pass: Arc<Pass>,
    /// 1 for the first reading, 2 for the first re-reading, ...
    number: u32,
    /// The next page to take.
    page: u64,
    /// The last page of the reading; `None` without a total (read until a short page).
    last_page: Option<u64>,
    /// The total the reading's first page gave.
    total: Option<u64>,
    /// Items received in this reading (before de-duplication), up to `total`.
    received: u64,
    /// Why this reading cannot be trusted to be complete, if it cannot.
    doubt: Option<String>,
}

/// An iterator over every item of a paged listing; see the module docs.
///
/// Items are JSON values ([`Value`], the default) or, from the typed iterators such as
/// [`Client::iter_tasks`], a model of [`types`](crate::types) (see [`Pages::typed`]).
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Pages<T = Value> {
    fetch: Arc<Fetch>,
    list_key: &'static str,
    /// The page size asked for.
    limit: u64,
    /// A smaller page size to fall back to if the server refuses `limit` outright.
    fallback_limit: u64,
    /// Pages fetched ahead by background workers (0 or 1: none, one page at a time).
    prefetch: usize,
    /// Pages are kept undecoded (see [`Pages::with_raw_items`]).
    raw: bool,
    buffer: VecDeque<Item>,
    reading: Option<Reading>,
    /// The total the first page reported.
    reported_total: Option<u64>,
    /// Every item yielded so far and the reading that last saw it; `None` once an item
    /// without an `_id` arrived (then nothing can be de-duplicated or read again).
    seen: Option<HashMap<ItemKey, u32>>,
    /// An error to yield once the buffer is drained.
    pending_error: Option<Error>,
    finished: bool,
    /// Checked before every page (see [`Pages::with_cancel`]).
    cancel: Option<crate::cancel::Cancel>,
    item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("list_key", &self.list_key)
            .field("limit", &self.limit)
            .field("prefetch", &self.prefetch)
            .field("total", &self.reported_total)
            .field("finished", &self.finished)
            .finish()
    }
}

impl Pages<Value> {
    /// Pages over `fetch(page, limit)` (pages numbered from 1), asking for `page_size`
    /// items per page, reading items from `data.<list_key>` and the count from
    /// `data.total`, with up to `prefetch` pages fetched ahead by background threads
    /// (0 or 1: one at a time, in the consumer's thread). `fetch` may be called with a
    /// smaller `limit` than `page_size` when the server serves smaller pages.
    pub fn new(
        list_key: &'static str,
        page_size: u64,
        prefetch: usize,
        fetch: impl Fn(u64, u64) -> Result<Value> + Send + Sync + 'static,
    ) -> Pages {
        Pages {
            fetch: Arc::new(fetch),
            list_key,
            limit: page_size.max(1),
            fallback_limit: page_size.max(1),
            prefetch,
            raw: false,
            buffer: VecDeque::new(),
            reading: None,
            reported_total: None,
            seen: Some(HashMap::new()),
            pending_error: None,
            finished: false,
            cancel: None,
            item: PhantomData,
        }
    }
}

impl<T> Pages<T> {
    /// The same listing, yielding its items decoded as `U` (a model of
    /// [`types`](crate::types) such as [`Task`](crate::Task)): an item that does not
    /// decode is yielded as [`Error::Decode`] naming the type, and iteration goes on.
    /// With [`Pages::with_raw_items`] each item is decoded straight from its JSON text.
    /// Call it before iterating.
    pub fn typed<U>(mut self) -> Pages<U> {
        let pages = Pages {
            fetch: Arc::clone(&self.fetch),
            list_key: self.list_key,
            limit: self.limit,
            fallback_limit: self.fallback_limit,
            prefetch: self.prefetch,
            raw: self.raw,
            buffer: std::mem::take(&mut self.buffer),
            reading: self.reading.take(),
            reported_total: self.reported_total,
            seen: self.seen.take(),
            pending_error: self.pending_error.take(),
            finished: self.finished,
            cancel: self.cancel.take(),
            item: PhantomData,
        };
        self.finished = true;
        pages
    }

    /// Stops between pages with [`Error::Cancelled`] once `cancel` is cancelled (also
    /// while waiting for a page fetched ahead); the client's `iter_*` methods attach the
    /// token of a client made with [`Client::with_cancel`]. Items already buffered are
    /// not yielded after that.
    pub fn with_cancel(mut self, cancel: &crate::cancel::Cancel) -> Self {
        self.cancel = Some(cancel.clone());
        self
    }

    /// Falls back to pages of `page_size` when the server refuses the first request
    /// (HTTP 400 or 422: a server with a lower maximum page size than ours).
    pub fn with_fallback_page_size(mut self, page_size: u64) -> Self {
        self.fallback_limit = page_size.clamp(1, self.limit);
        self
    }

    /// Carries `client`'s cancellation token, if it has one.
    pub(crate) fn cancelled_with(self, client: &Client) -> Self {
        match client.cancel_token() {
            Some(cancel) => self.with_cancel(cancel),
            None => self,
        }
    }

    /// Keeps every page as the server sent it, for [`Pages::next_raw`]: each item's JSON
    /// text is split out of the body but not decoded (items are still matched by
    /// `_id`). `fetch` must then be one call of a [`Client`] method that sends a single
    /// request and returns its reply unchanged (as [`Client::raw_reply`] requires), as
    /// the client's `iter_*` iterators do; otherwise each page fails with
    /// [`Error::Internal`]. Items taken with `next` are decoded then.
    pub fn with_raw_items(mut self) -> Self {
        self.raw = true;
        self
    }

    /// The next item as its JSON text (as the server sent it with
    /// [`Pages::with_raw_items`], re-encoded otherwise); like `next` in every other way.
    pub fn next_raw(&mut self) -> Option<Result<Box<RawValue>>> {
        self.next_item().map(|item| item.and_then(Item::into_raw))
    }

    /// The total the server reported, once the first page has been read.
    pub fn total(&self) -> Option<u64> {
        self.reported_total
    }

    /// How many items the next calls to `next` yield without waiting for the server
    /// (a consumer writing to a pipe flushes when this reaches 0).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    fn new_pass(&self, limit: u64, last_page: u64) -> Arc<Pass> {
        Arc::new(Pass {
            fetch: Arc::clone(&self.fetch),
            list_key: self.list_key,
            raw: self.raw,
            limit,
            state: Mutex::new(PassState {
                next_page: 2,
                last_page,
                wanted: 2,
                window: self.prefetch.max(1) as u64,
                ready: BTreeMap::new(),
                cancelled: false,
            }),
            changed: Condvar::new(),
            cancel: self.cancel.clone(),
        })
    }

    /// Starts reading number `number`: fetches its first page here, then hands the
    /// rest to workers.
    fn start_reading(&mut self, number: u32) -> Result<()> {
        let first = match fetch_page(&*self.fetch, self.list_key, self.raw, 1, self.limit) {
            Err(Error::Http {
                status: 400 | 422, ..
            }) if number == 1 && self.fallback_limit < self.limit => {
                self.limit = self.fallback_limit;
                fetch_page(&*self.fetch, self.list_key, self.raw, 1, self.limit)?
            }
            other => other?,
        };
        let served = first.items.len() as u64;
        if number == 1 {
            self.reported_total = first.total;
        }
        // A server that serves another number of items than asked although it has
        // more (it caps the page size): ask for the rest in pages of the size it served.
        // Without a total, a short first page may be a cap too: look at the next page.
        let limit = match first.total {
            Some(total) if served > 0 && served != self.limit && served < total => served,
            None if served > 0 && served < self.limit => served,
            _ => self.limit,
        };
        let last_page = match first.total {
            Some(total) => Some(total.div_ceil(limit).max(1)),
            // No total: read pages one by one until a short or empty one.
            None if served >= limit => None,
            None => Some(1),
        };
        let pass = self.new_pass(limit, last_page.unwrap_or(u64::MAX));
        let mut reading = Reading {
            pass,
            number,
            page: 2,
            last_page,
            total: first.total,
            received: 0,
            doubt: None,
        };
        self.accept(&mut reading, 1, first);
        if let Some(total) = reading.total
            && reading.received >= total
        {
            // The first page already held everything.
            reading.last_page = Some(1);
        }
        if let Some(last) = reading.last_page
            && last > 1
            && self.prefetch > 1
        {
            let workers = (self.prefetch as u64).min(last - 1);
            for _ in 0..workers {
                let pass = Arc::clone(&reading.pass);
                // If a thread cannot be started, the consumer fetches the pages itself.
                let _ = std::thread::Builder::new()
                    .name("ango-prefetch".into())
                    .spawn(move || worker(pass));
            }
        }
        self.reading = Some(reading);
        Ok(())
    }

    /// Checks one page against what the reading expects and buffers its new items.
    fn accept(&mut self, reading: &mut Reading, page: u64, data: Page) {
        let limit = reading.pass.limit;
        let mut items = data.items;
        match reading.total {
            Some(total) => {
                if data.total != Some(total) && reading.doubt.is_none() {
                    reading.doubt = Some(format!(
                        "the total changed from {total} to {} during the listing",
                        data.total.map_or("none".into(), |t| t.to_string())
                    ));
                }
                let expected = total.saturating_sub((page - 1) * limit).min(limit);
                if (items.len() as u64) < expected && reading.doubt.is_none() {
                    reading.doubt = Some(format!(
                        "page {page} held {} items where {expected} were due (total {total})",
                        items.len()
                    ));
                }
                // A server sending more than its total is cut off.
                let room = total.saturating_sub(reading.received);
                let room = if page == 1 { room } else { room.min(limit) };
                items.truncate(room as usize);
            }
            None => {
                if (items.len() as u64) < limit || items.is_empty() {
                    reading.last_page = Some(page);
                }
            }
        }
        reading.received += items.len() as u64;
        for (item, key) in items {
            self.push_item(reading, item, key);
        }
    }

    fn push_item(&mut self, reading: &mut Reading, item: Item, key: Option<ItemKey>) {
        let Some(seen) = &mut self.seen else {
            // Only a first reading may yield what it cannot de-duplicate.
            if reading.number == 1 {
                self.buffer.push_back(item);
            }
            return;
        };
        let Some(key) = key else {
            // Without ids nothing can be de-duplicated from here on.
            self.seen = None;
            if reading.number == 1 {
                self.buffer.push_back(item);
            } else if reading.doubt.is_none() {
                // Re-reading cannot tell whether it was yielded already: say so.
                reading.doubt = Some("an item without _id appeared when re-reading".into());
            }
            return;
        };
        match seen.insert(key, reading.number) {
            None => self.buffer.push_back(item),
            Some(number) if number == reading.number => {
                if reading.doubt.is_none() {
                    reading.doubt = Some("the same item was served twice".into());
                }
            }
            Some(_) => {} // yielded in an earlier reading
        }
    }

    /// Takes the reading's next page; `Ok(false)` when the reading is over.
    fn advance(&mut self) -> Result<bool> {
        let Some(mut reading) = self.reading.take() else {
            return Ok(false);
        };
        if reading.last_page.is_some_and(|last| reading.page > last) {
            self.reading = Some(reading);
            return Ok(false);
        }
        let page = reading.page;
        let result = reading.pass.take(page);
        reading.page += 1;
        let outcome = match result {
            Ok(data) => {
                self.accept(&mut reading, page, data);
                Ok(true)
            }
            Err(error) => Err(error),
        };
        self.reading = Some(reading);
        outcome
    }

    /// The current reading is over: end, read again, or report the inconsistency.
    fn conclude(&mut self) -> Result<bool> {
        let Some(reading) = self.reading.take() else {
            return Ok(false);
        };
        reading.pass.cancel();
        let Some(doubt) = reading.doubt else {
            return Ok(false);
        };
        if self.seen.is_none() {
            return Err(Error::Inconsistent(format!(
                "{doubt}; the items have no _id to read the listing again safely"
            )));
        }
        if reading.number > MAX_REREADS {
            return Err(Error::Inconsistent(format!(
                "{doubt}, in {} readings of the listing",
                reading.number
            )));
        }
        self.start_reading(reading.number + 1)?;
        Ok(true)
    }

    /// One step: the next page, or the next reading; `Ok(false)` at the end.
    fn step(&mut self) -> Result<bool> {
        if self.reading.is_none() {
            self.start_reading(1)?;
            return Ok(true);
        }
        if self.advance()? {
            return Ok(true);
        }
        self.conclude()
    }

    fn finish(&mut self) {
        self.finished = true;
        if let Some(reading) = &self.reading {
            reading.pass.cancel();
        }
    }
}

impl<T> Pages<T> {
    fn next_item(&mut self) -> Option<Result<Item>> {
        loop {
            if let Some(cancel) = &self.cancel
                && !self.finished
                && cancel.is_cancelled()
            {
                self.finish();
                self.buffer.clear();
                self.pending_error = Some(Error::Cancelled);
            }
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if let Some(error) = self.pending_error.take() {
                return Some(Err(error));
            }
            if self.finished {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => self.finish(),
                Err(error) => {
                    // Items already buffered (from the same page) come first.
                    self.finish();
                    self.pending_error = Some(error);
                }
            }
        }
    }
}

impl<T: DeserializeOwned + 'static> Iterator for Pages<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        self.next_item().map(|item| item.and_then(decode_item::<T>))
    }
}

/// An item as `T`: a [`Value`] as before, a model decoded from the item.
fn decode_item<T: DeserializeOwned + 'static>(item: Item) -> Result<T> {
    if TypeId::of::<T>() == TypeId::of::<Value>() {
        let value: Box<dyn Any> = Box::new(item.into_value()?);
        return value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| Error::Internal("a page item is not a JSON value".into()));
    }
    let what = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("an item");
    match item {
        Item::Raw(raw) => crate::types::decode_item(raw.get(), what),
        Item::Value(value) => T::deserialize(&value).map_err(|e| {
            Error::decode(
                format!("expected {what}: {e}"),
                value.to_string().as_bytes(),
            )
        }),
    }
}

impl<T> Drop for Pages<T> {
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

impl Raw<'_> {
    /// Every task of a project matching `params` (its `page` and `limit` are ignored).
    ///
    /// Requests ask for [`MAX_PAGE_SIZE`] items (fewer when the server serves fewer, or
    /// `page_size` if it refuses such pages); `page_size` (default 100, at most 1000)
    /// bounds how many items are held ahead of the consumer: about `page_size` per
    /// parallel transfer (the client's concurrency), never less than four pages.
    pub fn iter_tasks(
        &self,
        project_id: &str,
        params: &GetTasksParams,
        page_size: Option<u64>,
    ) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let (client, project_id, params) =
            (Client::clone(self), project_id.to_string(), params.clone());
        Ok(Pages::new(
            "tasks",
            MAX_PAGE_SIZE,
            self.prefetch_for(size),
            move |page, limit| {
                client.raw().get_tasks(
                    &project_id,
                    &GetTasksParams {
                        page,
                        limit,
                        ..params.clone()
                    },
                )
            },
        )
        .with_fallback_page_size(size)
        .cancelled_with(self))
    }

    /// Every asset of a project matching `filters`; pages as [`Client::iter_tasks`].
    pub fn iter_assets(
        &self,
        project_id: &str,
        filters: &serde_json::Map<String, Value>,
        page_size: Option<u64>,
    ) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let (client, project_id, filters) =
            (Client::clone(self), project_id.to_string(), filters.clone());
        Ok(Pages::new(
            "assets",
            MAX_PAGE_SIZE,
            self.prefetch_for(size),
            move |page, limit| {
                client.raw().get_assets(
                    &project_id,
                    &GetAssetsParams {
                        page,
                        limit,
                        filters: filters.clone(),
                    },
                )
            },
        )
        .with_fallback_page_size(size)
        .cancelled_with(self))
    }

    /// Every project visible to the API key; pages as [`Client::iter_tasks`].
    pub fn iter_projects(&self, page_size: Option<u64>) -> Result<Pages> {
        let size = self::page_size(page_size)?;
        let client = Client::clone(self);
        Ok(Pages::new(
            "projects",
            MAX_PAGE_SIZE,
            self.prefetch_for(size),
            move |page, limit| client.raw().list_projects(page, limit),
        )
        .with_fallback_page_size(size)
        .cancelled_with(self))
    }
}

impl Client {
    /// Pages of [`MAX_PAGE_SIZE`] fetched ahead: enough to hold about `page_size` items
    /// per parallel transfer (the client's concurrency, at most 16), and at least four
    /// pages (or the concurrency, if lower) so the link stays busy while one is
    /// consumed; one at a time, in the consumer's thread, with a concurrency of 1.
    fn prefetch_for(&self, page_size: u64) -> usize {
        let depth = self.settings().concurrency.min(MAX_PREFETCH) as u64;
        if depth <= 1 {
            return 1;
        }
        page_size
            .saturating_mul(depth)
            .div_ceil(MAX_PAGE_SIZE)
            .clamp(MIN_PREFETCH.min(depth), depth) as usize
    }
}
