//! Per-key rate limits. Sign-in failures are counted per account and client address and
//! per address ([`FailureBudget`]: successes cost nothing, so nobody can lock a staff
//! member out from another address); view beacons and uncached anonymous searches per
//! address (governor's GCRA). A key over its quota gets `429 rate_limited` with
//! `Retry-After`; quotas refill steadily, so a legitimate user who mistyped a password
//! waits minutes, not hours.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Config;
use crate::error::AppError;

/// Keys kept before old, refilled ones are dropped.
const MAX_KEYS: usize = 50_000;

/// One keyed quota.
pub struct Throttle {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("keys", &self.limiter.len())
            .finish()
    }
}

impl Throttle {
    /// `burst` hits at once, then one more every `refill`.
    pub fn new(burst: u32, refill: Duration) -> Self {
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a hit for `key`; `Err` carries the seconds until the next one is allowed.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                not_until
                    .wait_time_from(self.clock.now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64
            })
    }
}

/// A budget of failures per key that refills steadily: `limit` failures at once, each
/// forgotten after `window / limit`. Unlike [`Throttle`], a success costs nothing: an
/// attempt reserves one failure up front (so parallel guesses cannot all slip through
/// before the first is counted) and gives it back when it succeeds.
pub struct FailureBudget {
    limit: f64,
    per_second: f64,
    levels: std::sync::Mutex<std::collections::HashMap<String, (f64, Instant)>>,
}

impl std::fmt::Debug for FailureBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureBudget")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl FailureBudget {
    /// `limit` failures per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        let limit = f64::from(limit.max(1));
        Self {
            limit,
            per_second: limit / window.as_secs_f64().max(1e-3),
            levels: Default::default(),
        }
    }

    fn level(&self, stored: Option<&(f64, Instant)>, now: Instant) -> f64 {
        stored.map_or(0.0, |(level, at)| {
            (level - now.saturating_duration_since(*at).as_secs_f64() * self.per_second).max(0.0)
        })
    }

    /// Reserves one failure for `key` at `now`; `Err` carries the seconds until one is
    /// free again.
    pub fn reserve_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        if levels.len() > MAX_KEYS {
            levels.retain(|_, stored| self.level(Some(stored), now) > 0.0);
        }
        let level = self.level(levels.get(key), now);
        if level + 1.0 > self.limit {
            let wait = (level + 1.0 - self.limit) / self.per_second;
            return Err(wait.ceil().max(1.0) as u64);
        }
        levels.insert(key.to_owned(), (level + 1.0, now));
        Ok(())
    }

    /// Gives back a reservation made at `now` for an attempt that succeeded.
    pub fn refund_at(&self, key: &str, now: Instant) {
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let level = self.level(levels.get(key), now);
        if level <= 1.0 {
            levels.remove(key);
        } else {
            levels.insert(key.to_owned(), (level - 1.0, now));
        }
    }
}

/// The server's throttles.
#[derive(Debug)]
pub struct Throttles {
    /// Failed sign-ins (and `current_password` checks) per account and address.
    pub signin_by_account: FailureBudget,
    /// Failed sign-ins per address, whatever the account.
    pub signin_by_address: FailureBudget,
    pub views_by_address: Throttle,
    /// Uncached anonymous searches per address.
    pub search_by_address: Throttle,
}

/// A sign-in attempt holding its reservations: [`SignIn::succeeded`] gives them back;
/// dropped otherwise, the failure stays counted.
#[must_use]
pub struct SignIn<'a> {
    throttles: &'a Throttles,
    account_key: String,
    address: Option<String>,
}

impl SignIn<'_> {
    /// The password was right: the attempt costs nothing.
    pub fn succeeded(self) {
        let now = Instant::now();
        self.throttles
            .signin_by_account
            .refund_at(&self.account_key, now);
        if let Some(address) = &self.address {
            self.throttles.signin_by_address.refund_at(address, now);
        }
    }
}

impl Throttles {
    /// The throttles with the configured budgets.
    pub fn new(config: &Config) -> Self {
        let search_refill = Duration::from_secs_f64(1.0 / f64::from(config.search_rate.max(1)));
        Self {
            signin_by_account: FailureBudget::new(
                config.signin_account_failures,
                config.signin_window,
            ),
            signin_by_address: FailureBudget::new(
                config.signin_address_failures,
                config.signin_window,
            ),
            views_by_address: Throttle::new(20, Duration::from_secs(3)),
            search_by_address: Throttle::new(config.search_burst, search_refill),
        }
    }

    /// Starts a sign-in attempt for `email` from `address`: refused with 429 when the
    /// account-and-address budget or the address budget is spent. Someone else's
    /// failures, from another address, never spend this address's budget.
    pub fn sign_in(&self, address: &str, email: &str) -> Result<SignIn<'_>, AppError> {
        let now = Instant::now();
        let account_key = format!("{}\u{0}{address}", email.to_lowercase());
        self.signin_by_address
            .reserve_at(address, now)
            .map_err(|retry_after_seconds| AppError::RateLimited {
                retry_after_seconds,
            })?;
        if let Err(retry_after_seconds) = self.signin_by_account.reserve_at(&account_key, now) {
            self.signin_by_address.refund_at(address, now);
            return Err(AppError::RateLimited {
                retry_after_seconds,
            });
        }
        Ok(SignIn {
            throttles: self,
            account_key,
            address: Some(address.to_owned()),
        })
    }

    /// Starts a `current_password` check: it shares the account-and-address budget of
    /// sign-ins.
    pub fn password_check(&self, address: &str, email: &str) -> Result<SignIn<'_>, AppError> {
        let account_key = format!("{}\u{0}{address}", email.to_lowercase());
        self.signin_by_account
            .reserve_at(&account_key, Instant::now())
            .map_err(|retry_after_seconds| AppError::RateLimited {
                retry_after_seconds,
            })?;
        Ok(SignIn {
            throttles: self,
            account_key,
            address: None,
        })
    }

    /// Counts an uncached anonymous search from `address`.
    pub fn search(&self, address: &str) -> Result<(), AppError> {
        self.search_by_address
            .hit(address)
            .map_err(|retry_after_seconds| AppError::RateLimited {
                retry_after_seconds,
            })
    }
}

pub use super::client::client_address;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait() {
        let t = Throttle::new(3, Duration::from_secs(10));
        assert!(t.hit("a").is_ok());
        assert!(t.hit("a").is_ok());
        assert!(t.hit("a").is_ok());
        let wait = t.hit("a").unwrap_err();
        assert!((1..=10).contains(&wait), "{wait}");
        assert!(t.hit("b").is_ok(), "keys are independent");
    }

    #[test]
    fn failures_are_counted_and_successes_are_free() {
        let b = FailureBudget::new(2, Duration::from_secs(60));
        let now = Instant::now();
        b.reserve_at("k", now).unwrap();
        b.refund_at("k", now);
        b.reserve_at("k", now).unwrap();
        b.refund_at("k", now);
        // Two real failures spend the budget.
        b.reserve_at("k", now).unwrap();
        b.reserve_at("k", now).unwrap();
        let wait = b.reserve_at("k", now).unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(b.reserve_at("other", now).is_ok(), "keys are independent");
        // Half the window forgets one failure.
        assert!(b.reserve_at("k", now + Duration::from_secs(31)).is_ok());
    }
}
