//! Pure size and orientation arithmetic shared by the transcoder and the still images.
//!
//! Kept free of FFmpeg types so every rule (no upscaling, even sides, aspect kept,
//! how a display matrix maps to a quarter turn) is unit-tested without media files.

/// A quarter-turn rotation the player is asked to apply (from the container's display
/// matrix). We bake it into the pixels because swscale cannot rotate and we want the
/// output upright in every player, even ones that ignore the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    None,
    /// 90° clockwise.
    Clockwise,
    Half,
    /// 90° counter-clockwise.
    CounterClockwise,
}

impl Rotation {
    /// Whether width and height swap between the coded and the displayed picture.
    pub(crate) fn swaps_sides(self) -> bool {
        matches!(self, Rotation::Clockwise | Rotation::CounterClockwise)
    }

    /// Read FFmpeg's 3×3 display matrix (row-major i32, 16.16 fixed point for the 2×2
    /// part). Same convention as the ffmpeg CLI's autorotate: the angle is
    /// `atan2(m[1], m[0])` rounded to the nearest quarter turn; flips are ignored.
    pub(crate) fn from_display_matrix(bytes: &[u8]) -> Rotation {
        if bytes.len() < 36 {
            return Rotation::None;
        }
        let at = |i: usize| {
            let b = [
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ];
            f64::from(i32::from_ne_bytes(b)) / 65536.0
        };
        let (m0, m1, m3, m4) = (at(0), at(1), at(3), at(4));
        let (scale0, scale1) = (m0.hypot(m3), m1.hypot(m4));
        if scale0 == 0.0 || scale1 == 0.0 {
            return Rotation::None;
        }
        let degrees = (m1 / scale1).atan2(m0 / scale0).to_degrees();
        let quarter = ((degrees / 90.0).round() as i64).rem_euclid(4);
        match quarter {
            1 => Rotation::Clockwise,
            2 => Rotation::Half,
            3 => Rotation::CounterClockwise,
            _ => Rotation::None,
        }
    }
}

/// Largest even size with the same aspect as `width`×`height` whose long side is at
/// most `max_long` and short side at most `max_short`. Never upscales; never returns
/// a side below 2 (H.264 and 4:2:0 chroma need even sides).
pub(crate) fn fit_within(width: u32, height: u32, max_long: u32, max_short: u32) -> (u32, u32) {
    let (long, short) = (width.max(height).max(1), width.min(height).max(1));
    let scale = (f64::from(max_long) / f64::from(long))
        .min(f64::from(max_short) / f64::from(short))
        .min(1.0);
    (
        even(f64::from(width) * scale),
        even(f64::from(height) * scale),
    )
}

/// Largest even size with the aspect of `width`×`height` at most `max_width` wide.
pub(crate) fn fit_width(width: u32, height: u32, max_width: u32) -> (u32, u32) {
    let scale = (f64::from(max_width) / f64::from(width.max(1))).min(1.0);
    (
        even(f64::from(width) * scale),
        even(f64::from(height) * scale),
    )
}

/// The size at exactly `width` wide (up or down), aspect kept, even sides.
pub(crate) fn scale_to_width(width: u32, height: u32, target_width: u32) -> (u32, u32) {
    let scale = f64::from(target_width) / f64::from(width.max(1));
    (
        even(f64::from(target_width)),
        even(f64::from(height) * scale),
    )
}

/// Displayed size of a coded picture: sample aspect ratio applied to the width
/// (anamorphic DV, some phones), then sides swapped for a quarter-turn rotation.
pub(crate) fn display_size(
    width: u32,
    height: u32,
    sar: (i32, i32),
    rotation: Rotation,
) -> (u32, u32) {
    let (num, den) = sar;
    let width = if num > 0 && den > 0 && num != den {
        let stretched = (u64::from(width) * num as u64 / den as u64).clamp(2, 16_384);
        stretched as u32
    } else {
        width
    };
    if rotation.swaps_sides() {
        (height, width)
    } else {
        (width, height)
    }
}

/// Round down to an even integer, at least 2. Down, so a result never exceeds the
/// source or the limit it was computed from; the small epsilon keeps float noise
/// (1079.9999…) from costing two pixels.
fn even(value: f64) -> u32 {
    let rounded = (value / 2.0 + 1e-3).floor() * 2.0;
    if rounded < 2.0 {
        2
    } else if rounded > f64::from(u32::MAX - 1) {
        u32::MAX - 1
    } else {
        rounded as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landscape_1080p_fits_720p() {
        assert_eq!(fit_within(1920, 1080, 1280, 720), (1280, 720));
    }

    #[test]
    fn portrait_keeps_720p_budget() {
        assert_eq!(fit_within(1080, 1920, 1280, 720), (720, 1280));
    }

    #[test]
    fn small_video_is_not_upscaled() {
        assert_eq!(fit_within(640, 360, 1280, 720), (640, 360));
    }

    #[test]
    fn short_side_can_be_the_binding_limit() {
        // 4:3 at 1440×1080: the long side would allow 1280 but the short side caps at 720.
        assert_eq!(fit_within(1440, 1080, 1280, 720), (960, 720));
    }

    #[test]
    fn odd_sizes_become_even() {
        let (w, h) = fit_within(853, 481, 1280, 720);
        assert_eq!((w % 2, h % 2), (0, 0));
        assert_eq!((w, h), (852, 480));
    }

    #[test]
    fn ultra_wide_never_collapses_below_two() {
        assert_eq!(fit_within(4000, 2, 1280, 720), (1280, 2));
    }

    #[test]
    fn fit_width_only_shrinks() {
        assert_eq!(fit_width(1280, 720, 640), (640, 360));
        assert_eq!(fit_width(320, 240, 640), (320, 240));
    }

    #[test]
    fn scale_to_width_keeps_aspect() {
        assert_eq!(scale_to_width(1280, 720, 160), (160, 90));
        assert_eq!(scale_to_width(64, 64, 160), (160, 160));
    }

    #[test]
    fn display_size_applies_sar_and_rotation() {
        assert_eq!(display_size(720, 480, (32, 27), Rotation::None), (853, 480));
        assert_eq!(
            display_size(1920, 1080, (1, 1), Rotation::Clockwise),
            (1080, 1920)
        );
        assert_eq!(
            display_size(1920, 1080, (0, 1), Rotation::Half),
            (1920, 1080)
        );
    }

    fn matrix(a: i32, b: i32, c: i32, d: i32) -> Vec<u8> {
        let m = [a, b, 0, c, d, 0, 0, 0, 1 << 30];
        m.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn display_matrix_quarter_turns() {
        let one = 1 << 16;
        assert_eq!(
            Rotation::from_display_matrix(&matrix(one, 0, 0, one)),
            Rotation::None
        );
        // What a phone recording held upright (portrait) carries.
        assert_eq!(
            Rotation::from_display_matrix(&matrix(0, one, -one, 0)),
            Rotation::Clockwise
        );
        assert_eq!(
            Rotation::from_display_matrix(&matrix(-one, 0, 0, -one)),
            Rotation::Half
        );
        assert_eq!(
            Rotation::from_display_matrix(&matrix(0, -one, one, 0)),
            Rotation::CounterClockwise
        );
        assert_eq!(Rotation::from_display_matrix(&[0; 8]), Rotation::None);
        assert_eq!(Rotation::from_display_matrix(&[0; 36]), Rotation::None);
    }
}
