package weir.flink;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * State shared between the Flink tasks and the driver. The MiniCluster runs every task in this
 * JVM and the job's classes come from the application class path, so these statics are one
 * instance for the whole job. Nothing here is on a record's path except plain adds every batch.
 */
public final class Stats {
    private Stats() {}

    /** Upper bound on parallelism the counters below can hold. */
    public static final int MAX_WORKERS = 256;

    /** Events produced per source subtask. */
    public static final AtomicLongArray EVENTS = new AtomicLongArray(MAX_WORKERS);
    /** Result rows (changelog entries) per sink subtask. */
    public static final AtomicLongArray ROWS_OUT = new AtomicLongArray(MAX_WORKERS);
    /** Watermark reaching each sink subtask (Long.MIN_VALUE until the first one). */
    public static final AtomicLongArray SINK_WATERMARK = new AtomicLongArray(MAX_WORKERS);
    /** Newest event timestamp produced by any source. */
    public static final AtomicLong SOURCE_TIME = new AtomicLong(Long.MIN_VALUE);
    /** Records that arrived behind the watermark (window side outputs, late joins). */
    public static final AtomicLong LATE = new AtomicLong();
    /** System.nanoTime of the first source starting; 0 until then. */
    public static final AtomicLong FIRST_SOURCE_NANOS = new AtomicLong();
    /** System.nanoTime of the last sink finishing. */
    public static final AtomicLong LAST_SINK_NANOS = new AtomicLong();
    /** Source readers that received their split. */
    public static final java.util.concurrent.atomic.AtomicInteger READERS =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Source readers whose replay buffer is filled. */
    public static final java.util.concurrent.atomic.AtomicInteger READY =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Set to end the input early (stop request or --duration). */
    public static volatile boolean stop;

    private static long digestRows;
    private static long digestLo;
    private static long digestHi;
    private static long[] latency = new long[1024];
    private static int latencyLen;
    private static final List<long[]> WM_LOGS = new ArrayList<>();
    private static final List<int[]> WM_LENS = new ArrayList<>();

    /** Clears everything before a job (suite mode runs several in one JVM). */
    public static synchronized void reset() {
        for (int i = 0; i < MAX_WORKERS; i++) {
            EVENTS.set(i, 0);
            ROWS_OUT.set(i, 0);
            SINK_WATERMARK.set(i, Long.MIN_VALUE);
        }
        SOURCE_TIME.set(Long.MIN_VALUE);
        LATE.set(0);
        FIRST_SOURCE_NANOS.set(0);
        LAST_SINK_NANOS.set(0);
        READERS.set(0);
        READY.set(0);
        TaskTimeReporter.reset();
        stop = false;
        digestRows = 0;
        digestLo = 0;
        digestHi = 0;
        latencyLen = 0;
        WM_LOGS.clear();
        WM_LENS.clear();
    }

    /** Marks a source as started. */
    public static void sourceStarted() {
        FIRST_SOURCE_NANOS.compareAndSet(0, System.nanoTime());
    }

    /** Adds a sink subtask's partial digest (count and 128-bit sum, both mod 2^64/2^128). */
    public static synchronized void addDigest(long rows, long lo, long hi) {
        digestRows += rows;
        long nlo = digestLo + lo;
        digestHi += hi + (Long.compareUnsigned(nlo, digestLo) < 0 ? 1 : 0);
        digestLo = nlo;
        LAST_SINK_NANOS.accumulateAndGet(System.nanoTime(), Math::max);
    }

    /** Rows in the digest. */
    public static synchronized long digestRows() {
        return digestRows;
    }

    /** The digest's hash as 32 lowercase hex digits. */
    public static synchronized String digestHex() {
        return String.format("%016x%016x", digestHi, digestLo);
    }

    /** Adds latency samples (ns). */
    public static synchronized void addLatency(long[] samples, int n) {
        while (latencyLen + n > latency.length) {
            latency = java.util.Arrays.copyOf(latency, latency.length * 2);
        }
        System.arraycopy(samples, 0, latency, latencyLen, n);
        latencyLen += n;
    }

    /** Takes the latency samples recorded since the last call. */
    public static synchronized long[] drainLatency() {
        long[] out = java.util.Arrays.copyOf(latency, latencyLen);
        latencyLen = 0;
        return out;
    }

    /** Registers a watermark generator; returns its slot for {@link #watermarkEmitted}. */
    public static synchronized int registerWatermarkSource() {
        WM_LOGS.add(new long[64]);
        WM_LENS.add(new int[] {0});
        return WM_LOGS.size() - 1;
    }

    /** Records that source slot emitted watermark wm at wall time now (pairs wm, nanos). */
    public static synchronized void watermarkEmitted(int slot, long wm, long nanos) {
        long[] log = WM_LOGS.get(slot);
        int[] len = WM_LENS.get(slot);
        if (len[0] > 0 && log[len[0] - 2] >= wm) {
            return;
        }
        if (len[0] + 2 > log.length) {
            log = java.util.Arrays.copyOf(log, log.length * 2);
            WM_LOGS.set(slot, log);
        }
        log[len[0]] = wm;
        log[len[0] + 1] = nanos;
        len[0] += 2;
    }

    /**
     * Wall time (nanoTime) at which every source had emitted a watermark >= t, i.e. when event
     * time t became complete; 0 when some source has not yet reached it.
     */
    public static synchronized long completeAt(long t) {
        if (WM_LOGS.isEmpty() || WM_LOGS.size() < READERS.get()) {
            // Some reader has not produced a record (or its end) yet.
            return 0;
        }
        long at = 0;
        for (int s = 0; s < WM_LOGS.size(); s++) {
            long[] log = WM_LOGS.get(s);
            int n = WM_LENS.get(s)[0] / 2;
            int lo = 0;
            int hi = n;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (log[2 * mid] >= t) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if (lo == n) {
                return 0;
            }
            at = Math.max(at, log[2 * lo + 1]);
        }
        return at;
    }
}
