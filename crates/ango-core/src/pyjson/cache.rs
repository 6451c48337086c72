//! A small cache of values made from short strings, for a [`TreeBuilder`] that decodes
//! many documents with the same keys.
//!
//! The rows of an export repeat the same few dozen keys thousands of times; a builder
//! that keeps one value per distinct key (a Python `str`, an `Rc<str>`) saves building
//! each again. [`StrCache`] is direct-mapped: the hash of the bytes picks one slot,
//! which holds at most one entry. A string that does not repeat (an id) must miss
//! several times in a slot before it evicts the entry there, so unique ids do not push
//! out `"status"`.
//!
//! [`TreeBuilder`]: super::loads::TreeBuilder

/// Slots of each cache: `1 << SLOT_BITS`.
pub const CACHE_SLOTS: usize = 1 << SLOT_BITS;
/// The slot of a string is the top `SLOT_BITS` bits of its hash (the best mixed ones).
const SLOT_BITS: u32 = 9;

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

/// A direct-mapped cache of values by the bytes of a string of at most `N` bytes
/// ([`CACHE_SLOTS`] slots).
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
    /// new value goes. A hit raises the entry's credit; a miss in an occupied slot
    /// spends one (the entry stays while it has credit). Bytes longer than `N` always
    /// miss and are never stored.
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
        let slot = (hash >> (64 - SLOT_BITS)) as usize;
        let mut store = true;
        if let Some(entry) = &mut self.slots[slot] {
            if entry.hash == hash && entry.len == bytes.len() && entry.bytes[..entry.len] == *bytes
            {
                entry.credit = entry.credit.saturating_add(1).min(MAX_CREDIT);
                return Ok(&entry.value);
            }
            if entry.credit > 0 {
                entry.credit -= 1;
                store = false;
            }
        }
        Err(Miss { slot, hash, store })
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

    /// A string that lands in the same slot as `bytes`, found by trying `id0`, `id1`, ...
    fn collider(bytes: &[u8], skip: usize) -> String {
        let slot = |b: &[u8]| (StrCache::<(), 48>::hash(b) >> (64 - SLOT_BITS)) as usize;
        (0..)
            .map(|i| format!("id{i}"))
            .filter(|s| slot(s.as_bytes()) == slot(bytes) && s.as_bytes() != bytes)
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
        cache.get_or_insert_with(b"status", make);
        // Four hits: the most credit an entry gets.
        for _ in 0..6 {
            assert!(cache.get(b"status").is_ok());
        }
        // Other strings in its slot spend the credit without replacing it: each round
        // spends one net (a miss, a hit that gives one back, a miss)...
        for skip in 0..4 {
            let id = collider(b"status", skip);
            let miss = cache.get(id.as_bytes()).err();
            assert!(miss.is_some_and(|m| !m.stores()), "{id}");
            assert!(cache.get(b"status").is_ok());
            let again = cache.get(id.as_bytes()).err();
            assert!(again.is_some_and(|m| !m.stores()));
        }
        // ...and the next one replaces it.
        let id = collider(b"status", 4);
        let miss = cache.get(id.as_bytes()).err();
        assert!(miss.is_some_and(|m| m.stores()));
        if let Some(miss) = miss {
            cache.fill(miss, id.as_bytes(), id.clone());
        }
        assert_eq!(cache.get(id.as_bytes()).ok(), Some(&id));
        assert!(cache.get(b"status").is_err());
    }

    #[test]
    fn strings_in_other_slots_do_not_touch_an_entry() {
        let mut cache: StrCache<usize, 48> = StrCache::new();
        let mut slots = std::collections::HashSet::new();
        for i in 0..2000 {
            let key = format!("key-{i}");
            let miss = cache.get(key.as_bytes());
            if let Err(miss) = miss {
                let fresh = slots.insert(miss.slot);
                // A slot seen first is empty, so the cache takes the value.
                assert!(!fresh || miss.stores());
                cache.fill(miss, key.as_bytes(), i);
            }
        }
        // Most slots got a key: the hash spreads short, similar strings.
        assert!(slots.len() > CACHE_SLOTS * 3 / 4, "{} slots", slots.len());
    }
}
