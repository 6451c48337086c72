//! A small cache of values made from short strings, for a [`TreeBuilder`] that decodes
//! many documents with the same keys.
//!
//! The rows of an export repeat the same few dozen keys thousands of times; a builder
//! that keeps one value per distinct key (a Python `str`, an `Rc<str>`) saves building
//! each again. [`StrCache`] is a hash table of fixed size with two-entry buckets: the
//! hash of the bytes picks a bucket, and a new string takes an empty entry there or the
//! one with the least credit. Each hit gives an entry credit and each miss in its bucket
//! spends some, so a string that does not repeat (an id) must miss several times before
//! it evicts a frequent one (`"status"`).
//!
//! [`TreeBuilder`]: super::loads::TreeBuilder

/// Entries of each cache: `WAYS << BUCKET_BITS`.
pub const CACHE_SLOTS: usize = WAYS << BUCKET_BITS;
/// The bucket of a string is the top `BUCKET_BITS` bits of its hash (the best mixed).
const BUCKET_BITS: u32 = 8;
/// Entries per bucket.
const WAYS: usize = 2;

/// The most a hit raises an entry's credit: a string that stops repeating is replaced
/// after at most this many misses in its slot.
const MAX_CREDIT: u8 = 4;

/// One cached string: its bytes inline (no allocation per entry) and its value.
#[derive(Debug)]
struct Entry<V, const N: usize> {
    hash: u64,
    len: usize,
    bytes: [u8; N],
    value: V,
    /// Recent hits: a string that does not repeat must miss this many times in this
    /// slot before it replaces the entry.
    credit: u8,
}

/// A cache of values by the bytes of a string of at most `N` bytes ([`CACHE_SLOTS`]
/// entries, in buckets of two picked by the string's hash).
#[derive(Debug)]
pub struct StrCache<V, const N: usize> {
    slots: Box<[Option<Entry<V, N>>]>,
}

/// A miss of [`StrCache::get`]: where the value belongs, for [`StrCache::fill`].
#[derive(Debug, Clone, Copy)]
pub struct Miss {
    slot: usize,
    hash: u64,
    store: bool,
}

impl Miss {
    /// Whether [`StrCache::fill`] will keep the value (the bytes fit the cache and the
    /// slot's entry has used up its credit); when not, the caller need not make a copy
    /// of the value for the cache.
    #[inline]
    pub fn stores(&self) -> bool {
        self.store
    }
}

impl<V, const N: usize> Default for StrCache<V, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V, const N: usize> StrCache<V, N> {
    /// An empty cache.
    pub fn new() -> Self {
        StrCache {
            slots: (0..CACHE_SLOTS).map(|_| None).collect(),
        }
    }

    /// The longest string (in bytes) the cache holds: `N`.
    pub const MAX_LEN: usize = N;

    /// A fast hash of a short byte string: 8 bytes at a time, multiply-rotate mixing.
    #[inline]
    fn hash(bytes: &[u8]) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut hash = (bytes.len() as u64).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        hash
    }

    /// The value cached for `bytes`, or a [`Miss`] telling [`StrCache::fill`] where a
    /// new value goes. A hit raises the entry's credit; a miss goes to an empty entry of
    /// the bucket, else to the one with the least credit, which spends one if it has any
    /// (and then stays). Bytes longer than `N` always miss and are never stored.
    #[inline]
    pub fn get(&mut self, bytes: &[u8]) -> Result<&V, Miss> {
        if bytes.len() > N {
            return Err(Miss {
                slot: 0,
                hash: 0,
                store: false,
            });
        }
        let hash = Self::hash(bytes);
        let first = (hash >> (64 - BUCKET_BITS)) as usize * WAYS;
        let bucket = first..first + WAYS;
        let hit = bucket.clone().find(|&slot| {
            self.slots[slot].as_ref().is_some_and(|entry| {
                entry.hash == hash && entry.len == bytes.len() && entry.bytes[..entry.len] == *bytes
            })
        });
        match hit {
            Some(slot) => match &mut self.slots[slot] {
                Some(entry) => {
                    entry.credit = entry.credit.saturating_add(1).min(MAX_CREDIT);
                    Ok(&entry.value)
                }
                None => Err(Miss {
                    slot,
                    hash,
                    store: false,
                }),
            },
            None => {
                // An empty entry, else the one with the least credit (the first of equals).
                let slot = bucket
                    .min_by_key(|&slot| self.slots[slot].as_ref().map(|entry| entry.credit))
                    .unwrap_or(first);
                let mut store = true;
                if let Some(entry) = &mut self.slots[slot]
                    && entry.credit > 0
                {
                    entry.credit -= 1;
                    store = false;
                }
                Err(Miss { slot, hash, store })
            }
        }
    }

    /// Stores `value` for `bytes` after `miss` (the [`StrCache::get`] of the same bytes,
    /// with no other call in between), when [`Miss::stores`] says so.
    #[inline]
    pub fn fill(&mut self, miss: Miss, bytes: &[u8], value: V) {
        if !miss.store || bytes.len() > N {
            return;
        }
        let mut inline = [0u8; N];
        inline[..bytes.len()].copy_from_slice(bytes);
        self.slots[miss.slot] = Some(Entry {
            hash: miss.hash,
            len: bytes.len(),
            bytes: inline,
            value,
            credit: 0,
        });
    }
}

impl<V: Clone, const N: usize> StrCache<V, N> {
    /// The cached value for `bytes`, or a new one from `make` (kept when the cache
    /// takes it); `None` when `make` fails.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        bytes: &[u8],
        make: impl FnOnce(&[u8]) -> Option<V>,
    ) -> Option<V> {
        match self.get(bytes) {
            Ok(value) => Some(value.clone()),
            Err(miss) => {
                let value = make(bytes)?;
                if miss.stores() {
                    self.fill(miss, bytes, value.clone());
                }
                Some(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// The `skip`-th string (`id0`, `id1`, ...) that lands in the bucket of `bytes`.
    fn collider(bytes: &[u8], skip: usize) -> String {
        let bucket = |b: &[u8]| StrCache::<(), 48>::hash(b) >> (64 - BUCKET_BITS);
        (0..)
            .map(|i| format!("id{i}"))
            .filter(|s| bucket(s.as_bytes()) == bucket(bytes) && s.as_bytes() != bytes)
            .nth(skip)
            .unwrap_or_default()
    }

    #[test]
    fn a_cached_string_gives_the_same_value() {
        let mut cache: StrCache<Rc<str>, 16> = StrCache::new();
        let mut made = 0;
        let mut get = |cache: &mut StrCache<Rc<str>, 16>, text: &str| {
            cache.get_or_insert_with(text.as_bytes(), |b| {
                made += 1;
                Some(Rc::from(std::str::from_utf8(b).ok()?))
            })
        };
        let first = get(&mut cache, "status").unwrap_or_else(|| Rc::from(""));
        let second = get(&mut cache, "status").unwrap_or_else(|| Rc::from(""));
        assert!(Rc::ptr_eq(&first, &second));
        assert_eq!(&*first, "status");
        assert_eq!(get(&mut cache, "").as_deref(), Some(""));
        assert_eq!(get(&mut cache, "").as_deref(), Some(""));
        // Too long for the cache: made every time, never kept.
        let long = "seventeen bytes!!";
        let a = get(&mut cache, long).unwrap_or_else(|| Rc::from(""));
        let b = get(&mut cache, long).unwrap_or_else(|| Rc::from(""));
        assert_eq!(&*a, long);
        assert!(!Rc::ptr_eq(&a, &b));
        assert_eq!(made, 4);
    }

    #[test]
    fn a_failed_make_caches_nothing() {
        let mut cache: StrCache<String, 48> = StrCache::new();
        assert_eq!(cache.get_or_insert_with(b"\xff", |_| None), None);
        assert!(cache.get(b"\xff").is_err());
        assert_eq!(
            cache.get_or_insert_with(b"ok", |b| String::from_utf8(b.to_vec()).ok()),
            Some("ok".to_string())
        );
        assert_eq!(cache.get(b"ok").ok().map(String::as_str), Some("ok"));
    }

    #[test]
    fn strings_that_do_not_repeat_evict_an_entry_only_once_its_credit_is_spent() {
        let mut cache: StrCache<String, 48> = StrCache::new();
        let make = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
        let (status, other) = (b"status".as_slice(), collider(b"status", 0));
        // Two strings of one bucket both stay, and hits give each the most credit (4).
        cache.get_or_insert_with(status, make);
        cache.get_or_insert_with(other.as_bytes(), make);
        for _ in 0..6 {
            assert!(cache.get(status).is_ok());
            assert!(cache.get(other.as_bytes()).is_ok());
        }
        // Strings that do not repeat spend the credit of the weaker entry (4) without
        // replacing it...
        for skip in 1..5 {
            let id = collider(status, skip);
            let miss = cache.get(id.as_bytes()).err();
            assert!(miss.is_some_and(|m| !m.stores()), "{id}");
        }
        // ...and the next one replaces it; the other stays.
        let id = collider(status, 5);
        let miss = cache.get(id.as_bytes()).err();
        assert!(miss.is_some_and(|m| m.stores()));
        if let Some(miss) = miss {
            cache.fill(miss, id.as_bytes(), id.clone());
        }
        assert_eq!(cache.get(id.as_bytes()).ok(), Some(&id));
        let kept = [
            cache.get(status).is_ok(),
            cache.get(other.as_bytes()).is_ok(),
        ];
        assert_eq!(kept.iter().filter(|&&k| k).count(), 1, "{kept:?}");
    }

    #[test]
    fn frequent_keys_all_stay_cached_among_unique_ids() {
        // The keys of an export row, read many times among ids that never repeat.
        let keys = [
            "asset",
            "externalId",
            "assetId",
            "metadata",
            "width",
            "height",
            "contextData",
            "batches",
            "attachments",
            "task",
            "taskId",
            "stage",
            "stageId",
            "type",
            "status",
            "reviewStatus",
            "isBenchmark",
            "isSkipped",
            "assignee",
            "priority",
            "createdAt",
            "updatedAt",
            "updatedBy",
            "completedAt",
            "completedBy",
            "duration",
            "tools",
            "schemaId",
            "title",
            "objectId",
            "bounding-box",
            "x",
            "y",
            "classifications",
            "answer",
            "tool",
            "createdBy",
            "relations",
            "totalDuration",
            "openIssuesCount",
        ];
        let mut cache: StrCache<usize, 48> = StrCache::new();
        let mut misses = 0;
        for round in 0..200 {
            for (i, key) in keys.iter().enumerate() {
                if let Err(miss) = cache.get(key.as_bytes()) {
                    misses += 1;
                    cache.fill(miss, key.as_bytes(), i);
                }
                let id = format!("{round:08x}{i:016x}");
                if let Err(miss) = cache.get(id.as_bytes()) {
                    cache.fill(miss, id.as_bytes(), usize::MAX);
                }
            }
        }
        // Each key misses when first seen, and rarely after (a bucket of three keys).
        assert!(misses < keys.len() + 200, "{misses} misses");
        for (i, key) in keys.iter().enumerate() {
            if let Ok(value) = cache.get(key.as_bytes()) {
                assert_eq!(*value, i, "{key}");
            }
        }
    }
}
