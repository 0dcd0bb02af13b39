//! How much of an update a person has watched: the union of the intervals the
//! player reported, so watching at any speed counts and jumping ahead does not.
//! Seen means at least [`SEEN_FRACTION`] of the duration was covered.

use serde::{Deserialize, Serialize};

/// Share of an update's duration that must have been watched for it to count as seen.
pub const SEEN_FRACTION: f64 = 0.8;
/// Intervals one report may carry; a player sends a handful every few seconds.
pub const MAX_INTERVALS_PER_REPORT: usize = 200;
/// Disjoint intervals kept per person and update; beyond it the closest merge.
const MAX_KEPT: usize = 500;

/// Watched time, in milliseconds from the start: sorted, disjoint, non-empty intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watched(Vec<(u64, u64)>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgressError {
    #[error("an interval must start before it ends: [{0}, {1}]")]
    Backwards(u64, u64),
    #[error("a report may hold at most {MAX_INTERVALS_PER_REPORT} intervals")]
    TooMany,
    #[error("the position {0} ms is past the end of the update")]
    PastTheEnd(u64),
    #[error("the share of the transcript read must be between 0 and 1")]
    BadFraction,
}

impl Watched {
    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// Add what a report says was watched, clipped to `duration_ms`. Refused
    /// whole if any interval is malformed, so a bad report changes nothing.
    pub fn add(&mut self, report: &[(u64, u64)], duration_ms: u64) -> Result<(), ProgressError> {
        if report.len() > MAX_INTERVALS_PER_REPORT {
            return Err(ProgressError::TooMany);
        }
        if let Some(&(start, end)) = report.iter().find(|(start, end)| start >= end) {
            return Err(ProgressError::Backwards(start, end));
        }
        let clipped = report.iter().map(|&(s, e)| (s.min(duration_ms), e.min(duration_ms))).filter(|(s, e)| s < e);
        let mut all: Vec<(u64, u64)> = self.0.iter().copied().chain(clipped).collect();
        all.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match merged.last_mut() {
                // Touching or overlapping: one interval.
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        // A bound on what one person can make us store: close the smallest gaps.
        while merged.len() > MAX_KEPT {
            let gap = (1..merged.len()).min_by_key(|&i| merged[i].0 - merged[i - 1].1).unwrap_or(1);
            merged[gap - 1].1 = merged[gap].1;
            merged.remove(gap);
        }
        self.0 = merged;
        Ok(())
    }

    pub fn covered_ms(&self) -> u64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }

    /// Watched enough of `duration_ms` to count as seen.
    pub fn is_seen(&self, duration_ms: u64) -> bool {
        duration_ms > 0 && self.covered_ms() as f64 >= SEEN_FRACTION * duration_ms as f64
    }
}

/// Share of the transcript's lines that must have been on screen to count as read.
pub const READ_FRACTION: f64 = 0.8;
/// Share of the estimated reading time the transcript must have been on screen.
pub const READ_TIME_FRACTION: f64 = 0.4;
/// On-screen time one report may add: reports come every few seconds.
pub const MAX_READ_MS_PER_REPORT: u64 = 10 * 60 * 1000;

/// Whether reading counts as catching up: most lines were on screen, for a
/// plausible share of the time reading `words` takes.
pub fn read_enough(fraction: f64, read_ms: u64, words: u64) -> bool {
    let reading_ms = words as f64 / crate::domain::transcript::WORDS_PER_MINUTE as f64 * 60_000.0;
    words > 0 && fraction >= READ_FRACTION && read_ms as f64 >= READ_TIME_FRACTION * reading_ms
}

/// A reading report, checked.
pub fn parse_reading(fraction: f64, visible_ms: u64) -> Result<(f64, u64), ProgressError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(ProgressError::BadFraction);
    }
    Ok((fraction, visible_ms.min(MAX_READ_MS_PER_REPORT)))
}

/// Where to resume: `position_ms`, unless the person reached the end (start over then).
pub fn resume_at(position_ms: u64, duration_ms: u64) -> u64 {
    // The last second counts as the end: players stop a little short of it.
    if position_ms + 1_000 >= duration_ms {
        0
    } else {
        position_ms
    }
}

/// A reported playback position, checked against the update's duration.
pub fn parse_position(position_ms: u64, duration_ms: u64) -> Result<u64, ProgressError> {
    // A little past the end is how players report the end.
    if position_ms > duration_ms + 1_000 {
        return Err(ProgressError::PastTheEnd(position_ms));
    }
    Ok(position_ms.min(duration_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_union_counts_once_and_jumps_do_not_count() {
        let duration = 100_000;
        let mut watched = Watched::default();
        watched.add(&[(0, 50_000)], duration).unwrap();
        assert!(!watched.is_seen(duration));
        // Watched again, twice as fast: still half.
        watched.add(&[(0, 25_000), (25_000, 50_000)], duration).unwrap();
        assert_eq!(watched.covered_ms(), 50_000);
        // On to 55 %, then a jump over 30 % and the last 15 %: 70 % in all, not seen.
        watched.add(&[(50_000, 55_000), (85_000, 100_000)], duration).unwrap();
        assert_eq!(watched.intervals(), &[(0, 55_000), (85_000, 100_000)]);
        assert!(!watched.is_seen(duration));
        // The skipped part: seen.
        watched.add(&[(55_000, 85_000)], duration).unwrap();
        assert_eq!(watched.intervals(), &[(0, 100_000)]);
        assert!(watched.is_seen(duration));
    }

    #[test]
    fn bad_reports_change_nothing_and_what_is_kept_is_bounded() {
        let mut watched = Watched::default();
        watched.add(&[(0, 1_000)], 10_000).unwrap();
        assert_eq!(watched.add(&[(2_000, 3_000), (5_000, 4_000)], 10_000), Err(ProgressError::Backwards(5_000, 4_000)));
        assert_eq!(watched.add(&vec![(0, 1); MAX_INTERVALS_PER_REPORT + 1], 10_000), Err(ProgressError::TooMany));
        assert_eq!(watched.intervals(), &[(0, 1_000)]);
        // Past the end is clipped away.
        watched.add(&[(9_000, 20_000), (15_000, 16_000)], 10_000).unwrap();
        assert_eq!(watched.intervals(), &[(0, 1_000), (9_000, 10_000)]);
        // Many small pieces: at most MAX_KEPT intervals, the same time or more covered.
        let mut many = Watched::default();
        for chunk in 0..10 {
            let report: Vec<(u64, u64)> =
                (0..100).map(|i| ((chunk * 100 + i) * 10, (chunk * 100 + i) * 10 + 5)).collect();
            many.add(&report, 100_000).unwrap();
        }
        assert!(many.intervals().len() <= MAX_KEPT);
        assert!(many.covered_ms() >= 5_000);
    }

    #[test]
    fn reading_counts_when_most_lines_were_on_screen_long_enough() {
        // 238 words take a minute to read: 40 % of it is 24 s.
        assert!(read_enough(0.85, 24_000, 238));
        assert!(!read_enough(0.85, 20_000, 238), "scrolled through too fast");
        assert!(!read_enough(0.5, 60_000, 238), "most lines never on screen");
        assert!(!read_enough(1.0, 60_000, 0), "nothing to read");
        assert_eq!(parse_reading(1.5, 0), Err(ProgressError::BadFraction));
        assert_eq!(parse_reading(0.5, u64::MAX), Ok((0.5, MAX_READ_MS_PER_REPORT)));
    }

    #[test]
    fn resuming_and_positions() {
        assert_eq!(resume_at(42_000, 100_000), 42_000);
        assert_eq!(resume_at(99_500, 100_000), 0);
        assert_eq!(parse_position(100_500, 100_000), Ok(100_000));
        assert_eq!(parse_position(200_000, 100_000), Err(ProgressError::PastTheEnd(200_000)));
    }
}
