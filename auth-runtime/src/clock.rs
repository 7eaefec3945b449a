//! The time every expiry is measured against. Production reads the system clock;
//! tests move a manual one forward instead of sleeping (`test-clock` feature).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Unix time in whole seconds, from the system clock or a manual one.
///
/// ```
/// let clock = warden_runtime::Clock::system();
/// assert!(clock.now() > 1_700_000_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `at` until [`advance`](Self::advance)d: for tests of
    /// expiry that must not sleep. Only with the `test-clock` feature, so that no
    /// production build can carry one.
    ///
    /// ```
    /// let clock = warden_runtime::Clock::manual(1_000);
    /// clock.advance(300);
    /// assert_eq!(clock.now(), 1_300);
    /// ```
    #[cfg(feature = "test-clock")]
    pub fn manual(at: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(at))))
    }

    /// Moves a manual clock forward by `seconds` (every holder of a clone sees it);
    /// the system clock cannot be moved.
    #[cfg(feature = "test-clock")]
    pub fn advance(&self, seconds: i64) {
        if let Some(at) = &self.0 {
            at.fetch_add(seconds, Ordering::SeqCst);
        }
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(at) => at.load(Ordering::SeqCst),
            None => system_now(),
        }
    }
}

/// A Unix time as RFC 3339 in UTC (`2026-12-06T11:00:00Z`), as FastAPI renders
/// datetimes; `None` out of the representable range.
pub(crate) fn rfc3339(seconds: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

/// The system clock in Unix seconds (0 before 1970, which no real clock reads).
pub(crate) fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
