//! Abuse limits on guessing: sign-in attempts per address and per account,
//! and refused API tokens per address. Over the limit, the answer is 429 with
//! the wait; the limits forget quietly (GCRA from `governor`, no timers).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys remembered before the limiters drop the ones that are back to full.
const FORGET_AFTER_KEYS: usize = 10_000;

pub struct SignInThrottle {
    /// Sign-in attempts from one address: a person mistyping is never near it.
    attempts_by_address: DefaultKeyedRateLimiter<IpAddr>,
    /// Sign-in attempts on one account, from anywhere: slows guessing spread
    /// over many addresses, and is high enough that one address hammering an
    /// account does not lock its owner out elsewhere.
    attempts_by_account: DefaultKeyedRateLimiter<String>,
    /// Refused bearer tokens from one address.
    bad_tokens_by_address: DefaultKeyedRateLimiter<IpAddr>,
}

/// Over the limit: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1, for a `Retry-After` header.
    pub fn seconds(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle::new(10, 30, 10)
    }
}

impl SignInThrottle {
    /// Limits per minute, each also the burst allowed at once.
    pub fn new(per_address: u32, per_account: u32, bad_tokens_per_address: u32) -> SignInThrottle {
        SignInThrottle {
            attempts_by_address: RateLimiter::keyed(per_minute(per_address)),
            attempts_by_account: RateLimiter::keyed(per_minute(per_account)),
            bad_tokens_by_address: RateLimiter::keyed(per_minute(bad_tokens_per_address)),
        }
    }

    /// Count a sign-in attempt on `login` from `peer`, before its password is
    /// checked; `Err` when either has had too many.
    pub fn sign_in_attempt(&self, peer: IpAddr, login: &str) -> Result<(), RetryAfter> {
        self.forget_if_large();
        check(&self.attempts_by_address, &peer)?;
        check(&self.attempts_by_account, &login.trim().to_lowercase())
    }

    /// Count a refused bearer token from `peer`; `Err` once it has sent too many.
    pub fn bad_token(&self, peer: IpAddr) -> Result<(), RetryAfter> {
        self.forget_if_large();
        check(&self.bad_tokens_by_address, &peer)
    }

    fn forget_if_large(&self) {
        if self.attempts_by_address.len() + self.attempts_by_account.len() + self.bad_tokens_by_address.len()
            > FORGET_AFTER_KEYS
        {
            self.attempts_by_address.retain_recent();
            self.attempts_by_account.retain_recent();
            self.bad_tokens_by_address.retain_recent();
        }
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), RetryAfter> {
    limiter.check_key(key).map_err(|not_until| RetryAfter(not_until.wait_time_from(DefaultClock::default().now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_or_an_account_over_its_limit_waits() {
        let throttle = SignInThrottle::new(3, 5, 2);
        let (a, b, c) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), [10, 0, 0, 3].into());
        for _ in 0..3 {
            assert_eq!(throttle.sign_in_attempt(a, "ada"), Ok(()));
        }
        let wait = throttle.sign_in_attempt(a, "bob").unwrap_err();
        assert!(wait.seconds() >= 1 && wait.seconds() <= 20, "{wait:?}");
        // Another address may still try the same account, up to the account's limit.
        assert_eq!(throttle.sign_in_attempt(b, " ADA"), Ok(()));
        assert_eq!(throttle.sign_in_attempt(b, "ada"), Ok(()));
        assert!(throttle.sign_in_attempt(c, "ada").is_err(), "five attempts on ada in all");
        assert_eq!(throttle.sign_in_attempt(c, "carol"), Ok(()));
        // Bad tokens are counted apart.
        assert_eq!(throttle.bad_token(a), Ok(()));
        assert_eq!(throttle.bad_token(a), Ok(()));
        assert!(throttle.bad_token(a).is_err());
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
    }
}
