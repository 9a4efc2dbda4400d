package weir.flink;

import java.nio.charset.StandardCharsets;

/**
 * The row digest (docs/WORKLOADS.md, section 7): each row is encoded column by
 * column in SELECT order (integer: 'I', length byte, decimal text; string: 'S', UTF-8 length as
 * 4 bytes little-endian, bytes; NULL: 'N'), hashed with XXH3-128 (seed 0), and the digest is
 * (rows, sum of hashes mod 2^128). Retractions subtract.
 */
public final class Digest {
    private byte[] buf = new byte[256];
    private int len;
    private final long[] h = new long[2];
    private long rows;
    private long lo;
    private long hi;

    /** Starts a new row. */
    public Digest begin() {
        len = 0;
        return this;
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    /** Appends an integer column. */
    public Digest integer(long v) {
        ensure(22);
        buf[len] = 'I';
        int start = len + 2;
        int p = start;
        if (v == Long.MIN_VALUE) {
            byte[] s = Long.toString(v).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(s, 0, buf, p, s.length);
            p += s.length;
        } else {
            if (v < 0) {
                buf[p++] = '-';
                v = -v;
            }
            int digits = 1;
            for (long x = v; x >= 10; x /= 10) {
                digits++;
            }
            for (int k = digits - 1; k >= 0; k--) {
                buf[p + k] = (byte) ('0' + v % 10);
                v /= 10;
            }
            p += digits;
        }
        buf[len + 1] = (byte) (p - start);
        len = p;
        return this;
    }

    /** Appends a string column (null gives the NULL tag). */
    public Digest string(String s) {
        if (s == null) {
            return nul();
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ensure(5 + b.length);
        buf[len] = 'S';
        buf[len + 1] = (byte) b.length;
        buf[len + 2] = (byte) (b.length >>> 8);
        buf[len + 3] = (byte) (b.length >>> 16);
        buf[len + 4] = (byte) (b.length >>> 24);
        System.arraycopy(b, 0, buf, len + 5, b.length);
        len += 5 + b.length;
        return this;
    }

    /** Appends a NULL column. */
    public Digest nul() {
        ensure(1);
        buf[len++] = 'N';
        return this;
    }

    /** Hashes the current row; the result is in {@link #lo()} / {@link #hi()} of the row. */
    public long[] hashRow() {
        Xxh3.hash128(buf, len, h);
        return h;
    }

    /** Hashes the current row and adds it (sign +1) or removes it (sign -1). */
    public void fold(int sign) {
        Xxh3.hash128(buf, len, h);
        if (sign >= 0) {
            long nlo = lo + h[0];
            hi += h[1] + (Long.compareUnsigned(nlo, lo) < 0 ? 1 : 0);
            lo = nlo;
            rows++;
        } else {
            long nlo = lo - h[0];
            hi -= h[1] + (Long.compareUnsigned(lo, h[0]) < 0 ? 1 : 0);
            lo = nlo;
            rows--;
        }
    }

    /** Rows folded (net of retractions). */
    public long rows() {
        return rows;
    }

    /** Low 64 bits of the sum. */
    public long lo() {
        return lo;
    }

    /** High 64 bits of the sum. */
    public long hi() {
        return hi;
    }

    /** The encoded bytes of the current row. */
    public byte[] bytes() {
        return java.util.Arrays.copyOf(buf, len);
    }
}
