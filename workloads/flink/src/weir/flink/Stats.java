package weir.flink;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * State shared between the Flink tasks and the driver. The MiniCluster runs every task in this
 * JVM and the job's classes come from the application class path, so these statics are one
 * instance for the whole job. Nothing here is on a record's path except plain adds every batch.
 *
 * <p>On a Flink cluster every TaskManager JVM has its own copy (the job's user-code class loader
 * is one per job and TaskManager): there {@link Uplink} ships this JVM's figures to weir's client
 * JVM, whose {@link Hub} merges the copies of every TaskManager into its own statics, so the
 * driver reads the same fields in both modes. Times are on one job clock, {@link #now()}.
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
    /**
     * Added to System.nanoTime() to get the job clock: 0 where the driver runs (the client or
     * the MiniCluster's JVM); in a TaskManager, the offset to the client's clock that
     * {@link Uplink} measured when it connected.
     */
    static volatile long clockOffset;
    /** Readers of the whole job whose replay buffer is filled, as the client last said (cluster). */
    static volatile int jobReady;

    private static long digestRows;
    private static long digestLo;
    private static long digestHi;
    private static int digestsPublished;
    private static final Samples LATENCY = new Samples();
    /** Samples of results fired by the end of input, kept apart from the stream's. */
    private static final Samples END_LATENCY = new Samples();
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
        jobReady = 0;
        digestsPublished = 0;
        digestRows = 0;
        digestLo = 0;
        digestHi = 0;
        LATENCY.drain();
        END_LATENCY.drain();
        WM_LOGS.clear();
        WM_LENS.clear();
    }

    /** The job clock, ns: System.nanoTime() of the driver's JVM, in every JVM of the job. */
    public static long now() {
        return System.nanoTime() + clockOffset;
    }

    /** Readers of the whole job whose replay buffer is filled. */
    static int readyReaders() {
        return Uplink.connected() ? jobReady : READY.get();
    }

    /** Marks a source as started. */
    public static void sourceStarted() {
        FIRST_SOURCE_NANOS.compareAndSet(0, now());
    }

    /** Adds a sink subtask's partial digest (count and 128-bit sum, both mod 2^64/2^128). */
    public static synchronized void addDigest(long rows, long lo, long hi) {
        digestRows += rows;
        long nlo = digestLo + lo;
        digestHi += hi + (Long.compareUnsigned(nlo, digestLo) < 0 ? 1 : 0);
        digestLo = nlo;
        digestsPublished++;
        LAST_SINK_NANOS.accumulateAndGet(now(), Math::max);
    }

    /** This JVM's digest: {rows, lo, hi, sink subtasks that published}. */
    static synchronized long[] digest() {
        return new long[] {digestRows, digestLo, digestHi, digestsPublished};
    }

    /** Replaces the digest with the sum of every TaskManager's (the client's {@link Hub}). */
    static synchronized void setDigest(long rows, long lo, long hi, int published) {
        digestRows = rows;
        digestLo = lo;
        digestHi = hi;
        digestsPublished = published;
    }

    /** Sink subtasks that added their digest. */
    static synchronized int digestsPublished() {
        return digestsPublished;
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
        LATENCY.add(samples, n);
    }

    /** Takes the latency samples recorded since the last call. */
    public static synchronized long[] drainLatency() {
        return LATENCY.drain();
    }

    /** Adds latency samples (ns) of results fired by the end of input. */
    public static synchronized void addEndLatency(long[] samples, int n) {
        END_LATENCY.add(samples, n);
    }

    /** Takes the end-of-input latency samples recorded since the last call. */
    public static synchronized long[] drainEndLatency() {
        return END_LATENCY.drain();
    }

    /** A growing buffer of latency samples (ns); the caller holds Stats' lock. */
    private static final class Samples {
        private long[] buf = new long[1024];
        private int len;

        void add(long[] samples, int n) {
            while (len + n > buf.length) {
                buf = java.util.Arrays.copyOf(buf, buf.length * 2);
            }
            System.arraycopy(samples, 0, buf, len, n);
            len += n;
        }

        /** The samples added since the last call, removed. */
        long[] drain() {
            long[] out = java.util.Arrays.copyOf(buf, len);
            len = 0;
            return out;
        }
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
     * The watermark log entries not taken yet, as triples (slot, wm, nanos); {@code cursor[0][s]}
     * counts the entries of slot s taken so far and is advanced (and grown when slots were added).
     */
    static synchronized long[] takeWatermarks(int[][] cursor) {
        if (cursor[0].length < WM_LOGS.size()) {
            cursor[0] = java.util.Arrays.copyOf(cursor[0], WM_LOGS.size());
        }
        int[] taken = cursor[0];
        int n = 0;
        for (int s = 0; s < WM_LOGS.size(); s++) {
            n += WM_LENS.get(s)[0] / 2 - taken[s];
        }
        long[] out = new long[3 * n];
        int k = 0;
        for (int s = 0; s < WM_LOGS.size(); s++) {
            long[] log = WM_LOGS.get(s);
            int len = WM_LENS.get(s)[0] / 2;
            for (int e = taken[s]; e < len; e++) {
                out[k++] = s;
                out[k++] = log[2 * e];
                out[k++] = log[2 * e + 1];
            }
            taken[s] = len;
        }
        return out;
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
            int e = firstReaching(s, t);
            if (e < 0) {
                return 0;
            }
            at = Math.max(at, WM_LOGS.get(s)[2 * e + 1]);
        }
        return at;
    }

    /**
     * Whether event time t became complete by the end of input: some source's watermark stayed
     * below t until it ended (its first log entry at or past t is the final Long.MAX_VALUE).
     * Meaningful once {@link #completeAt} returned non-zero for t.
     */
    public static synchronized boolean completedByEnd(long t) {
        for (int s = 0; s < WM_LOGS.size(); s++) {
            int e = firstReaching(s, t);
            if (e >= 0 && WM_LOGS.get(s)[2 * e] == Long.MAX_VALUE) {
                return true;
            }
        }
        return false;
    }

    /** The first entry of slot s's log with a watermark >= t, or -1. Caller holds the lock. */
    private static int firstReaching(int s, long t) {
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
        return lo == n ? -1 : lo;
    }
}
