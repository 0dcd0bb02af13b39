//! Wall-clock time as Unix milliseconds: the one time representation stored in
//! both databases, so SQLite and PostgreSQL rows compare the same way.

use std::time::{SystemTime, UNIX_EPOCH};

/// This host's clock (shifted by the test-only `BULLETIN_FAULT=skew:MS`). Times
/// that several hosts compare (leases, due jobs) come from `Db::now_ms` instead.
pub fn now_ms() -> i64 {
    let host = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    host + crate::faults::clock_skew_ms()
}

/// RFC 3339 (UTC) for API responses.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_millis_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
