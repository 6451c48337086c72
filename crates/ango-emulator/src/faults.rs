//! Fault injection: latency, 429/503 answers and dropped connections.
//!
//! The decision is taken before a request is handled, so a faulted request
//! never changes state.

use std::sync::Mutex;

/// Fault settings (all off by default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultSettings {
    /// Added latency per API request, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0..=1) of answering 429 or 503 instead of handling the request.
    pub fail_rate: f64,
    /// Probability (0..=1) of closing the connection without answering.
    pub drop_rate: f64,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            latency_ms: 0,
            fail_rate: 0.0,
            drop_rate: 0.0,
        }
    }
}

/// The fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Handle normally.
    None,
    /// Answer 429 Too Many Requests with `Retry-After`.
    TooManyRequests,
    /// Answer 503 Service Unavailable.
    Unavailable,
    /// Close the socket without answering.
    Drop,
}

/// SplitMix64: tiny, fast, deterministic.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Thread-safe fault injector.
#[derive(Debug)]
pub(crate) struct Faults {
    inner: Mutex<(FaultSettings, Rng)>,
}

impl Faults {
    /// An injector with settings (checked by the caller with
    /// [`FaultSettings::validate`]) and an RNG seed.
    pub(crate) fn new(settings: FaultSettings, seed: u64) -> Faults {
        Faults {
            inner: Mutex::new((settings, Rng::new(seed))),
        }
    }

    /// Current settings.
    pub(crate) fn settings(&self) -> FaultSettings {
        self.inner.lock().map(|g| g.0).unwrap_or_default()
    }

    /// Replaces the settings (checked by the caller with [`FaultSettings::validate`]);
    /// `seed` (if any) resets the RNG.
    pub(crate) fn update(&self, settings: FaultSettings, seed: Option<u64>) {
        if let Ok(mut g) = self.inner.lock() {
            g.0 = settings;
            if let Some(s) = seed {
                g.1 = Rng::new(s);
            }
        }
    }

    /// Draws the fault for one request, plus the latency to apply.
    pub(crate) fn decide(&self) -> (Fault, u64) {
        let Ok(mut g) = self.inner.lock() else {
            return (Fault::None, 0);
        };
        let s = g.0;
        if s.fail_rate <= 0.0 && s.drop_rate <= 0.0 {
            return (Fault::None, s.latency_ms);
        }
        let u = g.1.next_f64();
        let fault = if u < s.drop_rate {
            Fault::Drop
        } else if u < s.drop_rate + s.fail_rate {
            if g.1.next_u64() & 1 == 0 {
                Fault::TooManyRequests
            } else {
                Fault::Unavailable
            }
        } else {
            Fault::None
        };
        (fault, s.latency_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_roughly_honoured_and_deterministic() {
        let f = Faults::new(
            FaultSettings {
                latency_ms: 0,
                fail_rate: 0.2,
                drop_rate: 0.1,
            },
            42,
        );
        let draws: Vec<Fault> = (0..10_000).map(|_| f.decide().0).collect();
        let count = |k: Fault| draws.iter().filter(|d| **d == k).count();
        let fails = count(Fault::TooManyRequests) + count(Fault::Unavailable);
        assert!((1700..2300).contains(&fails), "fails={fails}");
        assert!((800..1200).contains(&count(Fault::Drop)));
        assert!(count(Fault::TooManyRequests) > 700 && count(Fault::Unavailable) > 700);
        let g = Faults::new(f.settings(), 42);
        let again: Vec<Fault> = (0..10_000).map(|_| g.decide().0).collect();
        assert_eq!(draws, again);
    }

    #[test]
    fn off_by_default() {
        let f = Faults::new(FaultSettings::default(), 1);
        assert!((0..1000).all(|_| f.decide() == (Fault::None, 0)));
    }
}
