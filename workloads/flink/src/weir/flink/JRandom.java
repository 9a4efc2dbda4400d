package weir.flink;

/**
 * java.util.Random's 48-bit LCG without the atomic seed: the same values for nextInt,
 * nextInt(bound) (with its rejection loop), nextLong and nextDouble, but cheap to re-seed once
 * per event. Checked against java.util.Random by {@code Main vectors}.
 */
public final class JRandom {
    private static final long MULT = 0x5DEECE66DL;
    private static final long ADD = 0xBL;
    private static final long MASK = (1L << 48) - 1;
    private long seed;

    /** A generator seeded as {@code new java.util.Random(seed)}. */
    public JRandom(long seed) {
        setSeed(seed);
    }

    /** Re-seeds as {@code new java.util.Random(seed)} would start. */
    public void setSeed(long s) {
        seed = (s ^ MULT) & MASK;
    }

    private int next(int bits) {
        seed = (seed * MULT + ADD) & MASK;
        return (int) (seed >>> (48 - bits));
    }

    /** As java.util.Random.nextInt(). */
    public int nextInt() {
        return next(32);
    }

    /** As java.util.Random.nextInt(bound); bound must be positive. */
    public int nextInt(int bound) {
        int r = next(31);
        int m = bound - 1;
        if ((bound & m) == 0) {
            return (int) ((bound * (long) r) >> 31);
        }
        for (int u = r; u - (r = u % bound) + m < 0; u = next(31)) {
            // rejection: retry until the draw falls in a full multiple of bound
        }
        return r;
    }

    /** As java.util.Random.nextLong(). */
    public long nextLong() {
        return ((long) next(32) << 32) + next(32);
    }

    /** As java.util.Random.nextDouble(). */
    public double nextDouble() {
        return (((long) next(26) << 27) + next(27)) * 0x1.0p-53;
    }

    /** Beam's nextLong(random, n): nextInt(n) below 2^31-1, else abs(nextLong() % n). */
    public long nextLongBelow(long n) {
        if (n < Integer.MAX_VALUE) {
            return nextInt((int) n);
        }
        return Math.abs(nextLong() % n);
    }

    /** The SplitMix64 finalizer (docs/WORKLOADS.md 2.2): the per-event seed. */
    public static long mix(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
