//! The generators' randomness: a bit-exact port of `java.util.Random` and the SplitMix64
//! finalizer that seeds it.
//!
//! Every event draws from a fresh [`JavaRandom`] seeded with [`mix`]`(event_id)`
//! (docs/WORKLOADS.md, section 2), so an event is a pure function of its id and the Java port of the
//! generator reproduces it draw for draw. Construction is one XOR; a draw is one 48-bit
//! multiply-add, so a fresh generator per event costs nothing measurable.

/// The LCG multiplier of `java.util.Random`.
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
/// The LCG increment of `java.util.Random`.
const ADDEND: u64 = 0xB;
/// The state is 48 bits wide.
const MASK: u64 = (1 << 48) - 1;

/// States [`JavaRandom::beam_string_chars`] computes ahead at once.
const JUMPS: usize = 8;
/// `JUMP[k] = (a, c)`: `k` LCG steps from state `s` give `a * s + c (mod 2^48)`.
const JUMP: [(u64, u64); JUMPS + 1] = {
    let mut jump = [(1_u64, 0_u64); JUMPS + 1];
    let mut k = 1;
    while k <= JUMPS {
        let (a, c) = jump[k - 1];
        jump[k] = (
            a.wrapping_mul(MULTIPLIER) & MASK,
            c.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK,
        );
        k += 1;
    }
    jump
};

/// `nextInt(bound)` accepts a 31-bit draw `u` iff `u < accept_limit(bound)` (non-power-of-two
/// bounds): the last partial block of `2^31 mod bound` values is rejected.
const fn accept_limit(bound: u32) -> u32 {
    (1 << 31) - ((1_u32 << 31) % bound)
}

/// The SplitMix64 finalizer (wrapping arithmetic on unsigned 64-bit integers).
///
/// Seeds of consecutive event ids differ in every bit after `mix`, which `java.util.Random`
/// needs: its first draw barely depends on small differences in the seed.
///
/// ```
/// assert_eq!(weir_workloads::random::mix(0), 0xe220_a839_7b1d_cdaf);
/// ```
#[inline]
pub const fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `java.util.Random`, bit for bit: the same seed gives the same `nextInt`, `nextInt(bound)`
/// (with Java's rejection rule), `nextLong` and `nextDouble` as Java 17.
///
/// ```
/// use weir_workloads::random::JavaRandom;
/// assert_eq!(JavaRandom::new(42).next_int(), -1_170_105_035);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    /// `new Random(seed)`; the seed is a Java `long`, so any 64-bit pattern is accepted.
    #[inline]
    pub const fn new(seed: u64) -> Self {
        Self {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    /// `next(bits)`: the top `bits` bits of the advanced 48-bit state, as a Java `int`.
    #[inline]
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`: a uniform Java `int`.
    #[inline]
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)`: uniform in `[0, bound)`, with Java's rule for powers of two and its
    /// rejection loop otherwise.
    ///
    /// # Panics
    /// When `bound <= 0`, like Java (`IllegalArgumentException`). The generators only pass
    /// positive constants or sizes they computed as positive.
    #[inline]
    pub fn next_int_bounded(&mut self, bound: i32) -> i32 {
        assert!(
            bound > 0,
            "nextInt(bound) needs a positive bound, got {bound}"
        );
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            ((i64::from(bound) * i64::from(r)) >> 31) as i32
        } else {
            let mut u = r;
            loop {
                r = u % bound;
                // Java: `u - r + m < 0` in wrapping int arithmetic rejects the last partial block.
                if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                    return r;
                }
                u = self.next(31);
            }
        }
    }

    /// `nextInt(bound)` for a bound known to be positive, as an index.
    #[inline]
    pub fn below(&mut self, bound: u32) -> u32 {
        debug_assert!(bound > 0 && i32::try_from(bound).is_ok());
        self.next_int_bounded(bound as i32) as u32
    }

    /// `nextLong()`: `(next(32) << 32) + next(32)` in Java `long` arithmetic.
    #[inline]
    pub fn next_long(&mut self) -> i64 {
        let hi = i64::from(self.next(32));
        let lo = i64::from(self.next(32));
        (hi << 32).wrapping_add(lo)
    }

    /// `nextDouble()`: 53 random bits scaled into `[0, 1)`.
    #[inline]
    pub fn next_double(&mut self) -> f64 {
        let hi = i64::from(self.next(26));
        let lo = i64::from(self.next(27));
        ((hi << 27) + lo) as f64 * (1.0 / (1_u64 << 53) as f64)
    }

    /// The character loop of Beam's `nextString`: `len` times, a space if `nextInt(13) == 0`,
    /// otherwise `'a' + nextInt(26)`, exactly as the sequential draws give.
    ///
    /// A character takes one draw or two, so the draws form one serial chain of 48-bit
    /// multiply-adds. Instead, the next `JUMPS` (8) states are computed from the current one in
    /// parallel (state `k` by a `k`-step jump) and the characters walk through them; the chain
    /// is one multiply-add per block of about four characters. When a draw would hit Java's
    /// rejection rule (probability ~1e-8) that character is drawn sequentially.
    #[inline]
    pub fn beam_string_chars(&mut self, len: u32, mut push: impl FnMut(u8)) {
        const LIMIT13: u32 = accept_limit(13);
        const LIMIT26: u32 = accept_limit(26);
        let mut left = len;
        while left > 0 {
            let mut states = [self.seed; JUMPS + 1];
            for (k, state) in states.iter_mut().enumerate().skip(1) {
                let (multiplier, addend) = JUMP[k];
                *state = self.seed.wrapping_mul(multiplier).wrapping_add(addend) & MASK;
            }
            // `at`: draws consumed in this block; a character needs at most two more.
            let mut at = 0;
            let mut rejected = false;
            while left > 0 && at + 2 <= JUMPS {
                let u1 = (states[at + 1] >> 17) as u32;
                if u1 >= LIMIT13 {
                    rejected = true;
                    break;
                }
                if u1.is_multiple_of(13) {
                    push(b' ');
                    at += 1;
                } else {
                    let u2 = (states[at + 2] >> 17) as u32;
                    if u2 >= LIMIT26 {
                        rejected = true;
                        break;
                    }
                    push(b'a' + (u2 % 26) as u8);
                    at += 2;
                }
                left -= 1;
            }
            self.seed = states[at];
            if rejected {
                if self.below(13) == 0 {
                    push(b' ');
                } else {
                    push(b'a' + self.below(26) as u8);
                }
                left -= 1;
            }
        }
    }

    /// Beam's `LongGenerator.nextLong(random, n)`: `nextInt(n)` when `n < Integer.MAX_VALUE`,
    /// otherwise `abs(nextLong() % n)` (skewed, as Beam has it).
    ///
    /// # Panics
    /// When `n <= 0` (Java throws too); the generators always pass a positive count.
    #[inline]
    pub fn beam_long(&mut self, n: i64) -> i64 {
        if n < i64::from(i32::MAX) {
            i64::from(self.next_int_bounded(n as i32))
        } else {
            (self.next_long() % n).wrapping_abs()
        }
    }
}

/// Java's `Math.round(double)` for finite values in `long` range: the closest integer, ties
/// towards positive infinity.
#[inline]
pub fn java_round(x: f64) -> i64 {
    // For 0 <= x < 2^63 truncation is floor and needs no libm call.
    let f = if (0.0..9.2e18).contains(&x) {
        x as i64 as f64
    } else {
        x.floor()
    };
    // `x - floor(x)` is exact for finite x, so the tie test is exact too.
    if x - f >= 0.5 { f as i64 + 1 } else { f as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by Java 17 (`java.util.Random`), see workloads/testdata/README.md.
    #[test]
    fn next_int_matches_java() {
        let mut r = JavaRandom::new(42);
        let got: Vec<i32> = (0..5).map(|_| r.next_int()).collect();
        assert_eq!(
            got,
            [
                -1_170_105_035,
                234_785_527,
                -1_360_544_799,
                205_897_768,
                1_325_939_940
            ]
        );
    }

    #[test]
    fn next_int_bounded_matches_java() {
        let mut r = JavaRandom::new(42);
        let bounds = [
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            10,
            13,
            26,
            100,
            1000,
            10000,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
        ];
        let got: Vec<i32> = bounds.iter().map(|&b| r.next_int_bounded(b)).collect();
        assert_eq!(
            got,
            [
                0,
                0,
                0,
                0,
                0,
                1,
                1,
                8,
                3,
                15,
                82,
                502,
                5276,
                409_786_146,
                592_164_476,
                1_482_678_032
            ]
        );
    }

    #[test]
    fn next_int_bounded_rejects_like_java() {
        // With seed 0 the first 31-bit draw falls in the rejected tail for this bound; Java
        // draws again and returns 516548029.
        let bound = (1 << 30) + 1;
        let mut probe = JavaRandom::new(0);
        let first = probe.next(31);
        assert!(first.wrapping_sub(first % bound).wrapping_add(bound - 1) < 0);
        assert_eq!(JavaRandom::new(0).next_int_bounded(bound), 516_548_029);
    }

    #[test]
    fn next_long_matches_java() {
        let mut r = JavaRandom::new(-7_i64 as u64);
        let got: Vec<i64> = (0..4).map(|_| r.next_long()).collect();
        assert_eq!(
            got,
            [
                4_964_420_944_606_563_203,
                -6_028_743_012_628_894_217,
                -8_826_958_116_857_042_465,
                -2_732_364_192_705_608_872
            ]
        );
    }

    #[test]
    fn next_double_matches_java() {
        let mut r = JavaRandom::new(123_456_789);
        let got: Vec<u64> = (0..4).map(|_| r.next_double().to_bits()).collect();
        assert_eq!(
            got,
            [
                4_604_156_343_054_189_992,
                4_601_903_331_488_821_802,
                4_600_706_359_258_197_490,
                4_606_221_721_377_662_796
            ]
        );
    }

    #[test]
    fn mix_matches_the_contract_vectors() {
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix(1), 0x910a_2dec_8902_5cc1);
        assert_eq!(mix(1000), 0x3c1e_ba8b_4dcc_c148);
        assert_eq!(JavaRandom::new(mix(1)).next_int(), -324_261_140);
    }

    #[test]
    fn accept_limits_match_the_rejection_rule() {
        for bound in [3_i32, 13, 26, 1000, (1 << 30) + 1] {
            let limit = accept_limit(bound as u32) as i32;
            for u in [limit - 1, limit] {
                let r = u % bound;
                let accepted = u.wrapping_sub(r).wrapping_add(bound - 1) >= 0;
                assert_eq!(accepted, u < limit, "bound {bound}, u {u}");
            }
        }
    }

    /// `len` characters of Beam's `nextString` loop by the sequential draws, and the state after.
    fn sequential_chars(mut r: JavaRandom, len: u32) -> (Vec<u8>, JavaRandom) {
        let chars = (0..len)
            .map(|_| {
                if r.below(13) == 0 {
                    b' '
                } else {
                    b'a' + r.below(26) as u8
                }
            })
            .collect();
        (chars, r)
    }

    fn assert_chars_as_sequential(r: JavaRandom, len: u32) {
        let (expected, after) = sequential_chars(r.clone(), len);
        let mut fast = r;
        let mut chars = Vec::new();
        fast.beam_string_chars(len, |c| chars.push(c));
        assert_eq!(chars, expected);
        assert_eq!(fast, after);
    }

    #[test]
    fn beam_string_chars_equals_sequential_draws() {
        for seed in 0..2000_u64 {
            for len in [0, 1, 3, 4, 5, 97] {
                assert_chars_as_sequential(JavaRandom::new(mix(seed)), len);
            }
        }
        // A state whose `k`-th draw is rejected whether it is a nextInt(13) or a nextInt(26)
        // (its 31 bits are above both limits), for every position in and across the blocks
        // of states computed ahead: the fallback must agree.
        let rejected = ((u64::from(accept_limit(13)) + 5) << 17) | 3;
        assert!((rejected >> 17) as u32 >= accept_limit(26));
        for k in 1..=3 * JUMPS {
            let mut seed = rejected;
            for _ in 0..k {
                seed = seed.wrapping_sub(ADDEND).wrapping_mul(inverse_multiplier()) & MASK;
            }
            assert_chars_as_sequential(JavaRandom { seed }, 40);
        }
    }

    /// The inverse of the LCG multiplier mod 2^48 (it is odd), by Newton's iteration.
    fn inverse_multiplier() -> u64 {
        let mut x: u64 = MULTIPLIER;
        for _ in 0..6 {
            x = x.wrapping_mul(2_u64.wrapping_sub(MULTIPLIER.wrapping_mul(x)));
        }
        assert_eq!(MULTIPLIER.wrapping_mul(x) & MASK, 1);
        x & MASK
    }

    #[test]
    fn java_round_rounds_half_up() {
        assert_eq!(java_round(2.5), 3);
        assert_eq!(java_round(2.499_999_999_999_999_6), 2);
        assert_eq!(java_round(-2.5), -2);
        assert_eq!(java_round(100.0), 100);
        assert_eq!(java_round(0.499_999_999_999_999_94), 0);
    }
}
