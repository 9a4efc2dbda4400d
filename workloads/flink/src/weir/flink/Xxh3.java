package weir.flink;

/**
 * XXH3-128 with seed 0 and the default secret, written from the public algorithm description
 * (XXH3, xxHash 0.8). Every input-length branch is implemented: 0, 1-3, 4-8, 9-16, 17-128,
 * 129-240 and the long (striped) path. Checked against Rust's xxhash-rust by the committed
 * test vectors (workloads/testdata) and the flink_vectors test.
 *
 * <p>The result is returned as two longs: {@code lo} and {@code hi} of the 128-bit value
 * {@code hi << 64 | lo}.
 */
public final class Xxh3 {
    private Xxh3() {}

    static final long P32_1 = 0x9E3779B1L;
    static final long P32_2 = 0x85EBCA77L;
    static final long P32_3 = 0xC2B2AE3DL;
    static final long P64_1 = 0x9E3779B185EBCA87L;
    static final long P64_2 = 0xC2B2AE3D27D4EB4FL;
    static final long P64_3 = 0x165667B19E3779F9L;
    static final long P64_4 = 0x85EBCA77C2B2AE63L;
    static final long P64_5 = 0x27D4EB2F165667C5L;
    static final long MX1 = 0x165667919E3779F9L;
    static final long MX2 = 0x9FB21C651E98DF25L;

    private static final int[] SECRET_INTS = {
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    };
    private static final byte[] SECRET = new byte[192];

    static {
        for (int i = 0; i < 192; i++) {
            SECRET[i] = (byte) SECRET_INTS[i];
        }
    }

    private static final int SECRET_SIZE = 192;
    private static final int STRIPE = 64;

    static long r64(byte[] b, int i) {
        return (b[i] & 0xFFL)
                | (b[i + 1] & 0xFFL) << 8
                | (b[i + 2] & 0xFFL) << 16
                | (b[i + 3] & 0xFFL) << 24
                | (b[i + 4] & 0xFFL) << 32
                | (b[i + 5] & 0xFFL) << 40
                | (b[i + 6] & 0xFFL) << 48
                | (b[i + 7] & 0xFFL) << 56;
    }

    static long r32(byte[] b, int i) {
        return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24;
    }

    private static long s64(int i) {
        return r64(SECRET, i);
    }

    private static long avalancheXxh64(long h) {
        h ^= h >>> 33;
        h *= P64_2;
        h ^= h >>> 29;
        h *= P64_3;
        h ^= h >>> 32;
        return h;
    }

    private static long avalanche(long h) {
        h ^= h >>> 37;
        h *= MX1;
        h ^= h >>> 32;
        return h;
    }

    /** High 64 bits of the unsigned 128-bit product (Math.unsignedMultiplyHigh is Java 18+). */
    static long mulHi(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    private static long fold(long a, long b) {
        return a * b ^ mulHi(a, b);
    }

    /** Hashes {@code len} bytes of {@code in} from 0; writes {lo, hi} into {@code out}. */
    public static void hash128(byte[] in, int len, long[] out) {
        if (len <= 16) {
            len0to16(in, len, out);
        } else if (len <= 128) {
            len17to128(in, len, out);
        } else if (len <= 240) {
            len129to240(in, len, out);
        } else {
            hashLong(in, len, out);
        }
    }

    private static void len0to16(byte[] in, int len, long[] out) {
        if (len > 8) {
            long bitflipl = s64(32) ^ s64(40);
            long bitfliph = s64(48) ^ s64(56);
            long inLo = r64(in, 0);
            long inHi = r64(in, len - 8);
            long x = inLo ^ inHi ^ bitflipl;
            long mLo = x * P64_1;
            long mHi = mulHi(x, P64_1);
            mLo += (long) (len - 1) << 54;
            inHi ^= bitfliph;
            mHi += inHi + (inHi & 0xFFFFFFFFL) * (P32_2 - 1);
            mLo ^= Long.reverseBytes(mHi);
            long hLo = mLo * P64_2;
            long hHi = mulHi(mLo, P64_2);
            hHi += mHi * P64_2;
            out[0] = avalanche(hLo);
            out[1] = avalanche(hHi);
        } else if (len >= 4) {
            long inLo = r32(in, 0);
            long inHi = r32(in, len - 4);
            long in64 = inLo + (inHi << 32);
            long bitflip = s64(16) ^ s64(24);
            long keyed = in64 ^ bitflip;
            long mul = P64_1 + ((long) len << 2);
            long mLo = keyed * mul;
            long mHi = mulHi(keyed, mul);
            mHi += mLo << 1;
            mLo ^= mHi >>> 3;
            mLo ^= mLo >>> 35;
            mLo *= MX2;
            mLo ^= mLo >>> 28;
            out[0] = mLo;
            out[1] = avalanche(mHi);
        } else if (len > 0) {
            int c1 = in[0] & 0xFF;
            int c2 = in[len >> 1] & 0xFF;
            int c3 = in[len - 1] & 0xFF;
            int combinedl = (c1 << 16) | (c2 << 24) | c3 | (len << 8);
            int combinedh = Integer.rotateLeft(Integer.reverseBytes(combinedl), 13);
            long bitflipl = (r32(SECRET, 0) ^ r32(SECRET, 4));
            long bitfliph = (r32(SECRET, 8) ^ r32(SECRET, 12));
            out[0] = avalancheXxh64((combinedl & 0xFFFFFFFFL) ^ bitflipl);
            out[1] = avalancheXxh64((combinedh & 0xFFFFFFFFL) ^ bitfliph);
        } else {
            out[0] = avalancheXxh64(s64(64) ^ s64(72));
            out[1] = avalancheXxh64(s64(80) ^ s64(88));
        }
    }

    private static long mix16(byte[] in, int i, int s) {
        return fold(r64(in, i) ^ s64(s), r64(in, i + 8) ^ s64(s + 8));
    }

    /** acc = {lo, hi}. */
    private static void mix32(long[] acc, byte[] in, int i1, int i2, int s) {
        acc[0] += mix16(in, i1, s);
        acc[0] ^= r64(in, i2) + r64(in, i2 + 8);
        acc[1] += mix16(in, i2, s + 16);
        acc[1] ^= r64(in, i1) + r64(in, i1 + 8);
    }

    private static void finish(long[] acc, int len, long[] out) {
        long lo = acc[0] + acc[1];
        long hi = acc[0] * P64_1 + acc[1] * P64_4 + (long) len * P64_2;
        out[0] = avalanche(lo);
        out[1] = -avalanche(hi);
    }

    private static void len17to128(byte[] in, int len, long[] out) {
        long[] acc = {(long) len * P64_1, 0};
        if (len > 32) {
            if (len > 64) {
                if (len > 96) {
                    mix32(acc, in, 48, len - 64, 96);
                }
                mix32(acc, in, 32, len - 48, 64);
            }
            mix32(acc, in, 16, len - 32, 32);
        }
        mix32(acc, in, 0, len - 16, 0);
        finish(acc, len, out);
    }

    private static void len129to240(byte[] in, int len, long[] out) {
        int rounds = len / 32;
        long[] acc = {(long) len * P64_1, 0};
        for (int i = 0; i < 4; i++) {
            mix32(acc, in, 32 * i, 32 * i + 16, 32 * i);
        }
        acc[0] = avalanche(acc[0]);
        acc[1] = avalanche(acc[1]);
        for (int i = 4; i < rounds; i++) {
            mix32(acc, in, 32 * i, 32 * i + 16, 3 + 32 * (i - 4));
        }
        // Last 32 bytes, with the 136-byte minimum secret's tail.
        mix32(acc, in, len - 16, len - 32, 136 - 17 - 16);
        finish(acc, len, out);
    }

    private static void accumulate512(long[] acc, byte[] in, int i, int s) {
        for (int k = 0; k < 8; k++) {
            long v = r64(in, i + 8 * k);
            long key = v ^ s64(s + 8 * k);
            acc[k ^ 1] += v;
            acc[k] += (key & 0xFFFFFFFFL) * (key >>> 32);
        }
    }

    private static void scramble(long[] acc, int s) {
        for (int k = 0; k < 8; k++) {
            long a = acc[k];
            a ^= a >>> 47;
            a ^= s64(s + 8 * k);
            a *= P32_1;
            acc[k] = a;
        }
    }

    private static long mergeAccs(long[] acc, int s, long start) {
        long r = start;
        for (int k = 0; k < 4; k++) {
            r += fold(acc[2 * k] ^ s64(s + 16 * k), acc[2 * k + 1] ^ s64(s + 16 * k + 8));
        }
        return avalanche(r);
    }

    private static void hashLong(byte[] in, int len, long[] out) {
        long[] acc = {P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1};
        int stripesPerBlock = (SECRET_SIZE - STRIPE) / 8;
        int blockLen = STRIPE * stripesPerBlock;
        int blocks = (len - 1) / blockLen;
        for (int n = 0; n < blocks; n++) {
            for (int st = 0; st < stripesPerBlock; st++) {
                accumulate512(acc, in, n * blockLen + st * STRIPE, st * 8);
            }
            scramble(acc, SECRET_SIZE - STRIPE);
        }
        int stripes = ((len - 1) - blockLen * blocks) / STRIPE;
        for (int st = 0; st < stripes; st++) {
            accumulate512(acc, in, blocks * blockLen + st * STRIPE, st * 8);
        }
        accumulate512(acc, in, len - STRIPE, SECRET_SIZE - STRIPE - 7);
        out[0] = mergeAccs(acc, 11, (long) len * P64_1);
        out[1] = mergeAccs(acc, SECRET_SIZE - STRIPE - 11, ~((long) len * P64_2));
    }
}
