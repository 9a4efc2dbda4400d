package weir.flink;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A parallel generator source on Flink's Source API (FLIP-27). Split w of W owns the event ids
 * i with (i / 1024) % W == w (docs/WORKLOADS.md 3.2); the enumerator gives split w to reader w.
 * Records carry their event timestamps; watermarks come from {@link #watermarks}, Flink's
 * bounded-out-of-orderness rule, which also records when each watermark was emitted so sinks can
 * measure window latency.
 */
public final class GenSource<T> implements Source<T, GenSource.Split, Integer> {
    private static final long serialVersionUID = 1L;

    /** Makes events from ids; one instance per reader (it may keep scratch state). */
    public interface Gen<T> extends Serializable {
        /** Event number id; sets its ingestion time field to ingestNanos if it has one. */
        T make(long id, long ingestNanos);

        /** A fresh instance for one reader. */
        Gen<T> copy();

        /** Sets the ingestion time of an event made earlier (replay mode). */
        default void stamp(T event, long ingestNanos) {}

        /** The record timestamp of event {@code id}: the generator's timeline unless overridden. */
        default long timestamp(T event, long id, long eventRate) {
            return Nexmark.timestamp(id, eventRate);
        }
    }

    private final Gen<T> gen;
    private final long events;
    private final long eventRate;
    private final long rate;
    private final boolean replay;
    /** Where the readers report on a cluster ({@link Uplink}); null in the MiniCluster. */
    private final String uplink = Uplink.forOperator();
    /** Failure injection (tests): reader 0 throws after this many events; 0 = never. */
    private final long failAfter = Main.failAfterEvents;

    /**
     * @param events ids 0..events-1 (Long.MAX_VALUE: until stopped)
     * @param eventRate events per second of event time
     * @param rate offered wall-clock rate in events/s, 0 = as fast as possible
     */
    public GenSource(Gen<T> gen, long events, long eventRate, long rate) {
        this(gen, events, eventRate, rate, false);
    }

    /**
     * @param replay generate each reader's events into memory before the clock starts (the
     *     {@code replay} source mode); the clock starts when every reader is ready
     */
    public GenSource(Gen<T> gen, long events, long eventRate, long rate, boolean replay) {
        this.gen = gen;
        this.events = events;
        this.eventRate = eventRate;
        this.rate = rate;
        this.replay = replay;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SplitEnumerator<Split, Integer> createEnumerator(SplitEnumeratorContext<Split> ctx) {
        return new Enumerator(ctx);
    }

    @Override
    public SplitEnumerator<Split, Integer> restoreEnumerator(SplitEnumeratorContext<Split> ctx, Integer c) {
        return new Enumerator(ctx);
    }

    @Override
    public SimpleVersionedSerializer<Split> getSplitSerializer() {
        return new SplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<Integer> getEnumeratorCheckpointSerializer() {
        return new SimpleVersionedSerializer<Integer>() {
            @Override
            public int getVersion() {
                return 1;
            }

            @Override
            public byte[] serialize(Integer v) {
                return new byte[] {v.byteValue()};
            }

            @Override
            public Integer deserialize(int version, byte[] b) {
                return (int) b[0];
            }
        };
    }

    @Override
    public SourceReader<T, Split> createReader(SourceReaderContext ctx) throws java.io.IOException {
        Uplink.open(uplink);
        int subtask = ctx.getIndexOfSubtask();
        return new Reader<>(gen.copy(), events, eventRate, rate, subtask, replay, subtask == 0 ? failAfter : 0);
    }

    /** Bounded out-of-orderness watermarks (Flink's rule: max timestamp - ooo - 1), recorded. */
    public static <T> WatermarkStrategy<T> watermarks(long outOfOrdernessMs) {
        return new WatermarkStrategy<T>() {
            private static final long serialVersionUID = 1L;

            @Override
            public WatermarkGenerator<T> createWatermarkGenerator(WatermarkGeneratorSupplier.Context c) {
                return new RecordingGenerator<>(outOfOrdernessMs);
            }
        };
    }

    static final ThreadLocal<Integer> SLOT = new ThreadLocal<>();

    /**
     * Flink's bounded-out-of-orderness generator that also logs when it emitted each watermark.
     * Flink may create generators that never see a record (a per-split output the reader does
     * not use); only a generator that has seen records registers a log, and the reader's thread
     * remembers it (SLOT) to log the final watermark at end of input.
     */
    static final class RecordingGenerator<T> implements WatermarkGenerator<T> {
        private final long ooo;
        private int slot = -1;
        private long max = Long.MIN_VALUE + 1_000_000_000L;
        private long last = Long.MIN_VALUE;

        RecordingGenerator(long ooo) {
            this.ooo = ooo;
        }

        @Override
        public void onEvent(T event, long ts, WatermarkOutput out) {
            if (slot < 0) {
                slot = Stats.registerWatermarkSource();
                SLOT.set(slot);
            }
            if (ts > max) {
                max = ts;
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput out) {
            long wm = max - ooo - 1;
            if (wm > last) {
                last = wm;
                out.emitWatermark(new Watermark(wm));
                if (slot >= 0) {
                    Stats.watermarkEmitted(slot, wm, Stats.now());
                }
            }
        }
    }

    /** Split w of W. */
    public static final class Split implements SourceSplit {
        final int worker;
        final int workers;

        Split(int worker, int workers) {
            this.worker = worker;
            this.workers = workers;
        }

        @Override
        public String splitId() {
            return Integer.toString(worker);
        }
    }

    static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(Split s) throws IOException {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            DataOutputStream o = new DataOutputStream(b);
            o.writeInt(s.worker);
            o.writeInt(s.workers);
            return b.toByteArray();
        }

        @Override
        public Split deserialize(int version, byte[] bytes) throws IOException {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
            return new Split(in.readInt(), in.readInt());
        }
    }

    static final class Enumerator implements SplitEnumerator<Split, Integer> {
        private final SplitEnumeratorContext<Split> ctx;

        Enumerator(SplitEnumeratorContext<Split> ctx) {
            this.ctx = ctx;
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtask, String host) {}

        @Override
        public void addSplitsBack(List<Split> splits, int subtask) {
            for (Split s : splits) {
                ctx.assignSplit(s, subtask);
            }
        }

        @Override
        public void addReader(int subtask) {
            ctx.assignSplit(new Split(subtask, ctx.currentParallelism()), subtask);
            ctx.signalNoMoreSplits(subtask);
        }

        @Override
        public Integer snapshotState(long checkpointId) {
            return 0;
        }

        @Override
        public void close() {}
    }

    static final class Reader<T> implements SourceReader<T, Split> {
        private static final int CHUNK = 256;
        private final Gen<T> gen;
        private final long events;
        private final long eventRate;
        private final long rate;
        private final int subtask;
        private Split split;
        private boolean noMore;
        private boolean finished;
        private long next;
        private long stride;
        private CompletableFuture<Void> available = new CompletableFuture<>();

        private final boolean replay;
        private List<T> buffer;
        private int replayed;
        private final long failAfter;
        private long produced;

        Reader(Gen<T> gen, long events, long eventRate, long rate, int subtask, boolean replay, long failAfter) {
            this.replay = replay;
            this.failAfter = failAfter;
            this.gen = gen;
            this.events = events;
            this.eventRate = eventRate;
            this.rate = rate;
            this.subtask = subtask;
        }

        @Override
        public void start() {}

        @Override
        public InputStatus pollNext(ReaderOutput<T> out) {
            Uplink.check();
            if (failAfter > 0 && produced >= failAfter) {
                throw new IllegalStateException("weir: injected failure in source subtask " + subtask + " after "
                        + produced + " events (WEIR_FLINK_FAIL_AFTER_EVENTS)");
            }
            if (split == null) {
                return noMore ? finish() : InputStatus.NOTHING_AVAILABLE;
            }
            if (replay && Stats.readyReaders() < split.workers) {
                // Wait for every reader to finish generating before the clock starts.
                LockSupport.parkNanos(200_000L);
                return InputStatus.MORE_AVAILABLE;
            }
            if (replay) {
                Stats.sourceStarted();
            }
            long start = Stats.FIRST_SOURCE_NANOS.get();
            int n = 0;
            long lastTs = Long.MIN_VALUE;
            long now = rate > 0 ? Stats.now() : 0;
            while (n < CHUNK) {
                if (next >= events || Stats.stop) {
                    publish(n, lastTs);
                    return finish();
                }
                long ingest = 0;
                if (rate > 0) {
                    long due = start + Nexmark.mulDiv(next, 1_000_000_000L, rate);
                    if (due > now) {
                        publish(n, lastTs);
                        LockSupport.parkNanos(Math.min(due - now, 1_000_000L));
                        return InputStatus.MORE_AVAILABLE;
                    }
                    if ((next & 1023) == 0) {
                        ingest = due;
                    }
                } else if ((next & 1023) == 0) {
                    ingest = Stats.now();
                }
                T e;
                if (buffer != null) {
                    e = buffer.get(replayed);
                    buffer.set(replayed++, null);
                    if (ingest != 0) {
                        gen.stamp(e, ingest);
                    }
                } else {
                    e = gen.make(next, ingest);
                }
                lastTs = gen.timestamp(e, next, eventRate);
                out.collect(e, lastTs);
                n++;
                next++;
                if ((next & (Nexmark.BLOCK - 1)) == 0) {
                    next += stride;
                }
            }
            publish(n, lastTs);
            return InputStatus.MORE_AVAILABLE;
        }

        private void publish(int n, long ts) {
            if (n > 0) {
                produced += n;
                Stats.EVENTS.addAndGet(subtask, n);
                Stats.SOURCE_TIME.accumulateAndGet(ts, Math::max);
            }
        }

        private InputStatus finish() {
            if (!finished) {
                finished = true;
                Integer slot = SLOT.get();
                if (slot == null) {
                    // A reader that produced nothing still completes event time when it ends.
                    slot = Stats.registerWatermarkSource();
                    SLOT.set(slot);
                }
                Stats.watermarkEmitted(slot, Long.MAX_VALUE, Stats.now());
            }
            return InputStatus.END_OF_INPUT;
        }

        @Override
        public List<Split> snapshotState(long checkpointId) {
            List<Split> l = new ArrayList<>();
            if (split != null) {
                l.add(split);
            }
            return l;
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return available;
        }

        @Override
        public void addSplits(List<Split> splits) {
            split = splits.get(0);
            next = (long) split.worker * Nexmark.BLOCK;
            stride = (long) (split.workers - 1) * Nexmark.BLOCK;
            SLOT.remove();
            Stats.READERS.incrementAndGet();
            if (replay) {
                fillBuffer();
                Stats.READY.incrementAndGet();
            } else {
                Stats.sourceStarted();
            }
            available.complete(null);
        }

        /** Generates this split's events into memory (replay mode). */
        private void fillBuffer() {
            long owned = 0;
            for (long b = split.worker; b * Nexmark.BLOCK < events; b += split.workers) {
                owned += Math.min(Nexmark.BLOCK, events - b * Nexmark.BLOCK);
            }
            if (owned > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("--source replay holds at most 2^31 events per worker; got "
                        + owned + " (use more workers, fewer --events, or --source generate)");
            }
            buffer = new ArrayList<>((int) owned);
            for (long id = next; id < events; ) {
                buffer.add(gen.make(id, 0));
                id++;
                if ((id & (Nexmark.BLOCK - 1)) == 0) {
                    id += stride;
                }
            }
        }

        @Override
        public void notifyNoMoreSplits() {
            noMore = true;
            available.complete(null);
        }

        @Override
        public void close() {
            Uplink.close();
        }
    }
}
