//! Seconds from Python into a [`Duration`] for an OS wait: the one conversion
//! every entry point that takes a timeout uses.
//!
//! * `None` and `+inf` mean "no timeout".
//! * Values above [`MAX_TIMEOUT`] are cut down to it, as asyncio caps every
//!   `select()` at 24 hours: a longer OS timeout may overflow on some platforms
//!   and nothing is lost, because the caller simply waits again.
//! * NaN is always refused. A negative value is refused too, except where the
//!   caller's contract gives it a meaning: `selectors.BaseSelector.select`
//!   treats `timeout <= 0` as "poll without waiting" (see [`Negative`]).

use std::fmt;
use std::time::Duration;

/// The longest wait handed to the OS (asyncio's `MAXIMUM_SELECT_TIMEOUT` is 24 h too).
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// What a negative number of seconds means to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Negative {
    /// An error: the parameter is a length of time.
    Reject,
    /// "Do not wait", as `selectors.BaseSelector.select` documents for `timeout <= 0`.
    Poll,
}

/// A timeout that cannot be turned into a wait, with the name of the parameter
/// it was given as, so the message can say what to fix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct InvalidTimeout {
    /// The Python parameter name (`timeout`, `threshold`, ...).
    pub(crate) parameter: &'static str,
    /// The value that was refused.
    pub(crate) value: f64,
}

impl fmt::Display for InvalidTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be a number of seconds >= 0 (or None for no timeout), got {}",
            self.parameter, self.value
        )
    }
}

impl std::error::Error for InvalidTimeout {}

/// Convert `seconds` (given as the Python parameter `parameter`) into the
/// timeout of an OS wait. `Ok(None)` means "wait without a timeout".
pub(crate) fn to_duration(
    parameter: &'static str,
    seconds: Option<f64>,
    negative: Negative,
) -> Result<Option<Duration>, InvalidTimeout> {
    let Some(secs) = seconds else {
        return Ok(None);
    };
    let invalid = InvalidTimeout {
        parameter,
        value: secs,
    };
    if secs.is_nan() {
        return Err(invalid);
    }
    if secs < 0.0 {
        return match negative {
            Negative::Reject => Err(invalid),
            Negative::Poll => Ok(Some(Duration::ZERO)),
        };
    }
    if secs == f64::INFINITY {
        return Ok(None);
    }
    // Compared as floats first: `Duration::from_secs_f64` panics on values it
    // cannot represent.
    if secs >= MAX_TIMEOUT.as_secs_f64() {
        return Ok(Some(MAX_TIMEOUT));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(secs: Option<f64>, negative: Negative) -> Result<Option<Duration>, InvalidTimeout> {
        to_duration("timeout", secs, negative)
    }

    #[test]
    fn none_and_infinity_mean_no_timeout() {
        for negative in [Negative::Reject, Negative::Poll] {
            assert_eq!(convert(None, negative), Ok(None));
            assert_eq!(convert(Some(f64::INFINITY), negative), Ok(None));
        }
    }

    #[test]
    fn ordinary_values_are_exact_and_zero_is_a_poll() {
        assert_eq!(
            convert(Some(0.25), Negative::Reject),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(
            convert(Some(0.0), Negative::Reject),
            Ok(Some(Duration::ZERO))
        );
        assert_eq!(
            convert(Some(-0.0), Negative::Reject),
            Ok(Some(Duration::ZERO))
        );
    }

    #[test]
    fn huge_values_are_capped_like_asyncio() {
        for secs in [86_400.0, 86_400.5, 1e30, f64::MAX] {
            assert_eq!(convert(Some(secs), Negative::Reject), Ok(Some(MAX_TIMEOUT)));
        }
    }

    #[test]
    fn nan_is_refused_everywhere_and_names_the_parameter() {
        for negative in [Negative::Reject, Negative::Poll] {
            let err = to_duration("threshold", Some(f64::NAN), negative).unwrap_err();
            assert_eq!(err.parameter, "threshold");
            let msg = err.to_string();
            assert!(msg.starts_with("threshold must be"), "{msg}");
            assert!(msg.ends_with("got NaN"), "{msg}");
        }
    }

    #[test]
    fn negative_values_are_refused_or_polled_as_the_caller_says() {
        for secs in [-1e-9, -1.0, f64::NEG_INFINITY] {
            assert!(convert(Some(secs), Negative::Reject).is_err());
            assert_eq!(
                convert(Some(secs), Negative::Poll),
                Ok(Some(Duration::ZERO))
            );
        }
    }
}
