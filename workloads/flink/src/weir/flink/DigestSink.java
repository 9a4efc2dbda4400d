package weir.flink;

import java.io.IOException;
import java.io.Serializable;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * The digest sink (Sink V2): each parallel writer folds its rows into (count, sum of XXH3-128
 * row hashes mod 2^128), records latency samples, and on end of input adds its partial digest
 * to {@link Stats}; the driver reads the total after the job. With {@code --output} the rows are
 * also written as JSON lines through {@link Output}.
 */
public final class DigestSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    /** How a query's result rows are encoded, printed and timed. */
    public interface Format<T> extends Serializable {
        /** Appends the row's columns in SELECT order. */
        void encode(T row, Digest d);

        /** Writes the row as a JSON object with the SELECT-list column names. */
        void json(T row, StringBuilder sb);

        /** +1 for an insert, -1 for a retraction (updating queries). */
        default int sign(T row) {
            return 1;
        }

        /** End (exclusive, epoch ms) of the event-time window that produced the row, or MIN_VALUE. */
        default long windowEnd(T row) {
            return Long.MIN_VALUE;
        }

        /** Ingestion time (nanoTime) of a latency-sampled input record behind the row, or 0. */
        default long ingestNanos(T row) {
            return 0;
        }
    }

    private final Format<T> format;
    /** Where the writers report on a cluster ({@link Uplink}); null in the MiniCluster. */
    private final String uplink = Uplink.forOperator();

    /** A sink for rows of this format. */
    public DigestSink(Format<T> format) {
        this.format = format;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext ctx) throws IOException {
        Uplink.open(uplink);
        return new Writer<>(format, ctx.getTaskInfo().getIndexOfThisSubtask());
    }

    static final class Writer<T> implements SinkWriter<T> {
        private final Format<T> format;
        private final int subtask;
        private final Digest digest = new Digest();
        private final Pending lat = new Pending(false);
        /** Samples of rows fired by the end of input, kept apart (Stats.addEndLatency). */
        private final Pending endLat = new Pending(true);
        private long rows;
        private long lastEnd = Long.MIN_VALUE;
        private long lastComplete;
        private boolean lastByEnd;
        private boolean published;
        private final StringBuilder json = new StringBuilder();

        Writer(Format<T> format, int subtask) {
            this.format = format;
            this.subtask = subtask;
        }

        @Override
        public void write(T row, Context ctx) throws IOException {
            format.encode(row, digest.begin());
            digest.fold(format.sign(row));
            if (Output.enabled()) {
                json.setLength(0);
                format.json(row, json);
                Output.write(json, format.sign(row));
            } else if (Uplink.wantsRows()) {
                json.setLength(0);
                format.json(row, json);
                Uplink.row(json, format.sign(row));
            }
            long end = format.windowEnd(row);
            if (end != Long.MIN_VALUE && Uplink.connected()) {
                // The sources are in other JVMs: the client resolves the sample (Hub).
                Uplink.windowSample(end - 1, Stats.now());
            } else if (end != Long.MIN_VALUE) {
                if (end != lastEnd || lastComplete == 0) {
                    lastEnd = end;
                    // Flink fires a window when the watermark reaches end - 1.
                    lastComplete = Stats.completeAt(end - 1);
                    lastByEnd = lastComplete != 0 && Stats.completedByEnd(end - 1);
                }
                if (lastComplete != 0) {
                    (lastByEnd ? endLat : lat).add(Stats.now() - lastComplete);
                }
            } else {
                long ingest = format.ingestNanos(row);
                if (ingest != 0) {
                    lat.add(Stats.now() - ingest);
                }
            }
            if ((++rows & 255) == 0) {
                Stats.ROWS_OUT.addAndGet(subtask, 256);
            }
        }

        /** Latency samples (ns) of one kind, handed to Stats 512 at a time. */
        private static final class Pending {
            private final long[] buf = new long[512];
            private int len;
            private final boolean endOfInput;

            Pending(boolean endOfInput) {
                this.endOfInput = endOfInput;
            }

            void add(long ns) {
                buf[len++] = Math.max(ns, 1);
                if (len == buf.length) {
                    flush();
                }
            }

            void flush() {
                if (endOfInput) {
                    Stats.addEndLatency(buf, len);
                } else {
                    Stats.addLatency(buf, len);
                }
                len = 0;
            }
        }


        @Override
        public void writeWatermark(Watermark wm) {
            Stats.SINK_WATERMARK.set(subtask, wm.getTimestamp());
        }

        @Override
        public void flush(boolean endOfInput) {
            if (endOfInput) {
                publish();
            }
        }

        private void publish() {
            if (published) {
                return;
            }
            published = true;
            Stats.ROWS_OUT.addAndGet(subtask, rows & 255);
            lat.flush();
            endLat.flush();
            Stats.SINK_WATERMARK.set(subtask, Long.MAX_VALUE);
            Stats.addDigest(digest.rows(), digest.lo(), digest.hi());
        }

        @Override
        public void close() {
            Uplink.close();
        }
    }

    /** Counts records a window or join saw behind the watermark (its late side output). */
    public static final class LateCounter<T> implements Sink<T> {
        private static final long serialVersionUID = 1L;
        private final String uplink = Uplink.forOperator();

        @Override
        public SinkWriter<T> createWriter(WriterInitContext ctx) throws IOException {
            Uplink.open(uplink);
            return new SinkWriter<T>() {
                @Override
                public void write(T row, Context c) {
                    Stats.LATE.incrementAndGet();
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {
                    Uplink.close();
                }
            };
        }
    }

    /** JSON string literal. */
    public static void str(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
