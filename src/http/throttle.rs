//! Per-key rate limits (governor's GCRA): sign-in attempts per client address and per
//! email, and view beacons per address. A key over its quota gets `429 rate_limited`
//! with `Retry-After`; quotas refill steadily, so a legitimate user who mistyped a
//! password waits seconds, not hours.

use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

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

/// The server's throttles.
#[derive(Debug)]
pub struct Throttles {
    pub login_by_address: Throttle,
    pub login_by_email: Throttle,
    pub views_by_address: Throttle,
}

impl Default for Throttles {
    fn default() -> Self {
        Self {
            login_by_address: Throttle::new(20, Duration::from_secs(3)),
            login_by_email: Throttle::new(5, Duration::from_secs(20)),
            views_by_address: Throttle::new(20, Duration::from_secs(3)),
        }
    }
}

impl Throttles {
    /// Counts a sign-in attempt against the address and the email.
    pub fn login(&self, address: &str, email: &str) -> Result<(), AppError> {
        let by_address = self.login_by_address.hit(address);
        let by_email = self.login_by_email.hit(&email.to_lowercase());
        match (by_address, by_email) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(AppError::RateLimited {
                retry_after_seconds: a.max(b),
            }),
            (Err(s), _) | (_, Err(s)) => Err(AppError::RateLimited {
                retry_after_seconds: s,
            }),
        }
    }
}

/// The client's address: the peer, or with `trust_proxy` the first `X-Forwarded-For`
/// entry (only safe behind a proxy that sets it).
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return forwarded.to_owned();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

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
}
