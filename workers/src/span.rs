//! The presentation span of a stream, measured from its packets' timestamps.
//!
//! Container headers are written by whoever made the file, so they can be missing
//! (MediaRecorder WebM) or lie; packet timestamps are what a player actually plays.
//! All arithmetic is widened to i128 and saturates: hostile timestamps near
//! `i64::MAX` must give a huge duration, not an overflow panic.
use ffmpeg_next::Rational;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: Option<i64>,
    end: Option<i64>,
    packets: u64,
}

impl Span {
    /// Account for one packet: presentation time (decode time if there is none) and
    /// duration, in the stream's time base. Packets without any timestamp only count.
    pub(crate) fn add(&mut self, pts: Option<i64>, dts: Option<i64>, duration: i64) {
        self.packets += 1;
        let Some(time) = pts.or(dts) else { return };
        let end = time.saturating_add(duration.max(0));
        self.start = Some(self.start.map_or(time, |s| s.min(time)));
        self.end = Some(self.end.map_or(end, |e| e.max(end)));
    }

    pub(crate) fn packets(&self) -> u64 {
        self.packets
    }

    /// Length in milliseconds for a stream with time base `time_base` (0 if unknown).
    pub(crate) fn millis(&self, time_base: Rational) -> u64 {
        let (Some(start), Some(end)) = (self.start, self.end) else {
            return 0;
        };
        ticks_to_millis(i128::from(end) - i128::from(start), time_base)
    }
}

pub(crate) fn ticks_to_millis(ticks: i128, time_base: Rational) -> u64 {
    let (num, den) = (
        i128::from(time_base.numerator()),
        i128::from(time_base.denominator()),
    );
    if num <= 0 || den <= 0 || ticks <= 0 {
        return 0;
    }
    // ticks < 2^65 and num < 2^31, so the product fits easily in i128.
    u64::try_from(ticks * num * 1000 / den).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_covers_reordered_packets_and_last_duration() {
        let mut span = Span::default();
        // B-frames: presentation order differs from file order.
        for (pts, dur) in [(0, 40), (120, 40), (40, 40), (80, 40)] {
            span.add(Some(pts), None, dur);
        }
        assert_eq!(span.millis(Rational::new(1, 1000)), 160);
        assert_eq!(span.packets(), 4);
    }

    #[test]
    fn falls_back_to_dts_and_ignores_untimed_packets() {
        let mut span = Span::default();
        span.add(None, Some(90_000), 0);
        span.add(None, None, 3000);
        span.add(None, Some(180_000), 3000);
        assert_eq!(span.millis(Rational::new(1, 90_000)), 1033);
        assert_eq!(span.packets(), 3);
    }

    #[test]
    fn hostile_values_saturate_instead_of_panicking() {
        let mut span = Span::default();
        span.add(Some(i64::MIN), None, 0);
        span.add(Some(i64::MAX), None, i64::MAX);
        assert_eq!(span.millis(Rational::new(i32::MAX, 1)), u64::MAX);
        assert_eq!(span.millis(Rational::new(0, 0)), 0);
        assert_eq!(span.millis(Rational::new(1, -5)), 0);
    }

    #[test]
    fn empty_span_is_zero() {
        assert_eq!(Span::default().millis(Rational::new(1, 1000)), 0);
    }
}
