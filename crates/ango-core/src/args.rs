//! Checks of caller-supplied arguments that the bindings share, so every language
//! refuses the same values with the same [`Error::InvalidArgument`].

use crate::error::{Error, Result};

/// A `page` or `limit` given as a signed number (Python `int`, JavaScript `number`).
///
/// The official SDK pastes whatever integer it is given into the URL; this SDK refuses a
/// negative one before any request instead (the service has no page `-1`, and the
/// unsigned parameters of [`Client::list_projects`](crate::Client::list_projects),
/// [`GetTasksParams`](crate::GetTasksParams) and [`GetAssetsParams`](crate::GetAssetsParams)
/// cannot carry it). Zero and positive values are sent unchanged, as the official does.
pub fn page_param(name: &str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| {
        Error::invalid(format!(
            "{name} must be zero or a positive integer, got {value}"
        ))
    })
}

/// The largest whole number a JavaScript `number` holds exactly
/// (`Number.MAX_SAFE_INTEGER`, 2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A count (`page`, `limit`, `pageSize`, `concurrency`, `maxRetries`) given as a
/// floating-point number, as JavaScript passes it: a whole number from 0 to `max`;
/// anything else (negative, fractional, `NaN`, `Infinity`, too large) is
/// [`Error::InvalidArgument`], never a wrapped or truncated value.
pub fn whole_number(name: &str, value: f64, max: u64) -> Result<u64> {
    // `max as f64` rounds up only above 2^53, where no caller sets a limit.
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max as f64 {
        // In range and integral, so the cast is exact.
        Ok(value as u64)
    } else {
        Err(Error::invalid(format!(
            "{name} must be a whole number from 0 to {max}, got {value}"
        )))
    }
}

/// A `page` or `limit` given as a JavaScript number: refused when negative, not an
/// integer, or above 2^53 (where a `number` stops being exact).
pub fn page_param_f64(name: &str, value: f64) -> Result<u64> {
    whole_number(name, value, MAX_SAFE_INTEGER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_fractional_pages_are_refused() {
        assert_eq!(page_param("page", 0).unwrap(), 0);
        assert_eq!(page_param("limit", 1000).unwrap(), 1000);
        let err = page_param("page", -1).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("page") && m.contains("-1"))
        );
        assert_eq!(page_param_f64("page", 3.0).unwrap(), 3);
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e25] {
            assert!(page_param_f64("limit", bad).is_err(), "{bad}");
        }
    }
}
