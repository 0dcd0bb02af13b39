//! Progress as a percentage: media time over duration when the duration is known,
//! bytes read over file size otherwise (MediaRecorder WebM has no duration header).

pub(super) struct Progress<'a> {
    duration_ms: Option<u64>,
    file_size: u64,
    last: u8,
    report: &'a mut dyn FnMut(u8),
}

impl<'a> Progress<'a> {
    pub(super) fn new(
        duration_ms: Option<u64>,
        file_size: u64,
        report: &'a mut dyn FnMut(u8),
    ) -> Self {
        report(0);
        Self {
            duration_ms: duration_ms.filter(|&d| d > 0),
            file_size,
            last: 0,
            report,
        }
    }

    /// Note how far we are: `media_ms` into the video, `byte_position` into the file
    /// (negative when the demuxer does not know). Reports only increases, and keeps
    /// 100 for [`Progress::done`].
    pub(super) fn update(&mut self, media_ms: i64, byte_position: isize) {
        let percent = match self.duration_ms {
            Some(duration) => media_ms.max(0) as u128 * 100 / u128::from(duration),
            None if self.file_size > 0 && byte_position > 0 => {
                byte_position as u128 * 100 / u128::from(self.file_size)
            }
            None => 0,
        };
        let percent = percent.min(99) as u8;
        if percent > self.last {
            self.last = percent;
            (self.report)(percent);
        }
    }

    pub(super) fn done(&mut self) {
        if self.last < 100 {
            self.last = 100;
            (self.report)(100);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_monotonic_percentages_capped_until_done() {
        let mut seen = Vec::new();
        let mut sink = |p| seen.push(p);
        let mut progress = Progress::new(Some(10_000), 0, &mut sink);
        progress.update(2_500, -1);
        progress.update(2_000, -1);
        progress.update(12_000, -1);
        progress.done();
        assert_eq!(seen, vec![0, 25, 99, 100]);
    }

    #[test]
    fn falls_back_to_bytes_without_duration() {
        let mut seen = Vec::new();
        let mut sink = |p| seen.push(p);
        let mut progress = Progress::new(None, 1_000, &mut sink);
        progress.update(0, 500);
        progress.update(0, -1);
        assert_eq!(seen, vec![0, 50]);
    }
}
