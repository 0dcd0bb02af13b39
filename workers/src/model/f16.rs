//! IEEE 754 half precision by hand: the converter needs both directions and
//! the crate avoids a dependency for twenty lines of bit twiddling.

/// Widen a half-precision bit pattern to `f32` (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        // Subnormal half: its value is man * 2^-24, exactly representable in f32.
        (0, _) => {
            let magnitude = man as f32 * 2f32.powi(-24);
            return if sign != 0 { -magnitude } else { magnitude };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// Narrow an `f32` to half precision, rounding to nearest even like numpy and ggml do,
/// so converted weights are bit-identical to what whisper.cpp's own converter writes.
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let man = bits & 0x007f_ffff;

    if exp == 0xff {
        // Inf stays inf; NaN stays a (quiet) NaN.
        let nan_bit = if man != 0 { 0x0200 } else { 0 };
        return sign | 0x7c00 | nan_bit;
    }
    let half_exp = exp - 127 + 15;
    if half_exp >= 0x1f {
        return sign | 0x7c00; // too large: infinity
    }
    if half_exp <= 0 {
        // Subnormal or zero in half precision.
        if half_exp < -10 {
            return sign; // below half the smallest subnormal: rounds to zero
        }
        let full = man | 0x0080_0000; // restore the implicit leading one
        let shift = (14 - half_exp) as u32; // 24-bit significand down to the subnormal grid
        return sign | round_shift(full, shift) as u16;
    }
    // Normal: round the 23-bit mantissa to 10 bits; a carry correctly bumps the exponent.
    let rounded = round_shift((half_exp as u32) << 23 | man, 13);
    sign | rounded as u16
}

/// `value >> shift`, rounded to nearest, ties to even.
fn round_shift(value: u32, shift: u32) -> u32 {
    let truncated = value >> shift;
    let remainder = value & ((1 << shift) - 1);
    let halfway = 1 << (shift - 1);
    if remainder > halfway || (remainder == halfway && truncated & 1 == 1) {
        truncated + 1
    } else {
        truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip() {
        for (f, h) in [
            (0.0f32, 0x0000u16),
            (-0.0, 0x8000),
            (1.0, 0x3c00),
            (-2.0, 0xc000),
            (0.5, 0x3800),
            (65504.0, 0x7bff),
            (6.103_515_6e-5, 0x0400), // smallest normal
            (5.960_464_5e-8, 0x0001), // smallest subnormal
            (f32::INFINITY, 0x7c00),
        ] {
            assert_eq!(f32_to_f16(f), h, "encode {f}");
            assert_eq!(f16_to_f32(h), f, "decode {h:#06x}");
        }
    }

    #[test]
    fn every_half_survives_a_round_trip() {
        for h in 0..=u16::MAX {
            let f = f16_to_f32(h);
            if f.is_nan() {
                assert!(f16_to_f32(f32_to_f16(f)).is_nan());
            } else {
                assert_eq!(f32_to_f16(f), h, "{h:#06x} -> {f}");
            }
        }
    }

    #[test]
    fn rounds_to_nearest_even() {
        // 1 + 2^-11 lies exactly between 1.0 and the next half (1 + 2^-10): ties go to even (1.0).
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
        // 1 + 3*2^-11 lies between 1+2^-10 (odd) and 1+2^-9 (even): goes up.
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02);
        assert_eq!(
            f32_to_f16(65520.0),
            0x7c00,
            "rounds up past the largest half"
        );
        assert_eq!(f32_to_f16(1e-9), 0);
    }
}
