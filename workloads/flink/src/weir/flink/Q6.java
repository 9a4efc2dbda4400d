package weir.flink;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * q6, average selling price by seller (docs/WORKLOADS.md, q6), on the DataStream API: Flink SQL
 * cannot run the suite's q6 (its OVER window rejects the retractions of the winning-bid
 * subquery, FLINK-19059), and weir's q6 closes auctions by event time, which keyed timers
 * express directly.
 *
 * <p>Two keyed stages. {@link Close}, keyed by auction: keeps the auction's start, expiry,
 * seller and best price among the bids with {@code dateTime <= bid.dateTime <= expires}; a bid
 * that arrives before its auction (same millisecond) waits in a list. An event-time timer at
 * {@code expires} fires once the watermark says no bid at or before {@code expires} can still
 * come: the auction then closes, emitting {@code (seller, expires, id, price)} if it has a price,
 * and its state is freed. A bid whose auction never arrives (or already closed) is dropped from
 * the waiting list by a timer at its own time, once no auction can still match it. {@link
 * Average}, keyed by seller: holds the closed auctions of one {@code expires} until the
 * watermark passes it (every auction closing at that time has then arrived, from every upstream
 * subtask), takes them in auction-id order, and keeps the last 10 final prices; each closed
 * auction emits one row with their truncated average. State: one auction (plus early bids) per
 * open auction, 10 prices and the pending closings per seller.
 */
public final class Q6 {
    private Q6() {}

    static void build(DataStream<Event> events) {
        DataStream<Event> auctions = events.filter(e -> e.kind == 1).name("auctions");
        auctions.keyBy(e -> e.auction.id, Types.LONG).connect(Queries.bids(events).keyBy(b -> b.auction, Types.LONG))
                .process(new Close()).name("q6-close-auctions")
                .keyBy(c -> c[0], Types.LONG).process(new Average()).name("q6-average-per-seller")
                .sinkTo(new DigestSink<>(new Format())).name("digest");
    }

    /** Per auction: its final price once the watermark passes {@code expires}. */
    static final class Close extends KeyedCoProcessFunction<Long, Event, Event.Bid, long[]> {
        private static final long serialVersionUID = 1L;
        /** {dateTime, expires, seller, best price or MIN_VALUE}. */
        private transient ValueState<long[]> auction;
        /** Bids that came before their auction: {price, dateTime}. */
        private transient ListState<long[]> early;

        @Override
        public void open(OpenContext ctx) {
            auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", long[].class));
            early = getRuntimeContext().getListState(new ListStateDescriptor<>("early-bids", long[].class));
        }

        private static void offer(long[] a, long price, long dateTime) {
            if (dateTime >= a[0] && dateTime <= a[1] && price > a[3]) {
                a[3] = price;
            }
        }

        @Override
        public void processElement1(Event e, Context ctx, Collector<long[]> out) throws Exception {
            long[] a = {e.auction.dateTime, e.auction.expires, e.auction.seller, Long.MIN_VALUE};
            for (long[] b : early.get()) {
                offer(a, b[0], b[1]);
            }
            early.clear();
            auction.update(a);
            ctx.timerService().registerEventTimeTimer(a[1]);
        }

        @Override
        public void processElement2(Event.Bid b, Context ctx, Collector<long[]> out) throws Exception {
            long[] a = auction.value();
            if (a == null) {
                early.add(new long[] {b.price, b.dateTime});
                ctx.timerService().registerEventTimeTimer(b.dateTime);
            } else if (b.dateTime >= a[0] && b.dateTime <= a[1] && b.price > a[3]) {
                a[3] = b.price;
                auction.update(a);
            }
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<long[]> out) throws Exception {
            long[] a = auction.value();
            if (a != null && ts == a[1]) {
                if (a[3] != Long.MIN_VALUE) {
                    out.collect(new long[] {a[2], a[1], ctx.getCurrentKey(), a[3]});
                }
                auction.clear();
            } else if (a == null) {
                // No auction can arrive for bids at or before ts any more.
                List<long[]> keep = new ArrayList<>();
                for (long[] b : early.get()) {
                    if (b[1] > ts) {
                        keep.add(b);
                    }
                }
                early.update(keep);
            }
        }
    }

    /** Per seller: closed auctions in (expires, id) order, each with the average of the last 10. */
    static final class Average extends KeyedProcessFunction<Long, long[], Row> {
        private static final long serialVersionUID = 1L;
        /** expires -> {id, price} of the auctions closing then. */
        private transient MapState<Long, List<long[]>> pending;
        @SuppressWarnings("unchecked")
        private static final org.apache.flink.api.common.typeinfo.TypeInformation<long[]> PRICES =
                (org.apache.flink.api.common.typeinfo.TypeInformation<long[]>) Types.PRIMITIVE_ARRAY(Types.LONG);
        /** The last (up to) 10 final prices, oldest first. */
        private transient ValueState<long[]> last;

        @Override
        public void open(OpenContext ctx) {
            pending = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending", Types.LONG,
                    Types.LIST(PRICES)));
            last = getRuntimeContext().getState(new ValueStateDescriptor<>("last-10", long[].class));
        }

        @Override
        public void processElement(long[] c, Context ctx, Collector<Row> out) throws Exception {
            List<long[]> l = pending.get(c[1]);
            if (l == null) {
                l = new ArrayList<>(1);
                ctx.timerService().registerEventTimeTimer(c[1]);
            }
            l.add(new long[] {c[2], c[3]});
            pending.put(c[1], l);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<Row> out) throws Exception {
            List<long[]> l = pending.get(ts);
            if (l == null) {
                return;
            }
            pending.remove(ts);
            l.sort((x, y) -> Long.compare(x[0], y[0]));
            long[] prices = last.value();
            if (prices == null) {
                prices = new long[0];
            }
            for (long[] c : l) {
                int keep = Math.min(prices.length, 9);
                long[] next = new long[keep + 1];
                System.arraycopy(prices, prices.length - keep, next, 0, keep);
                next[keep] = c[1];
                prices = next;
                Row r = new Row();
                r.seller = ctx.getCurrentKey();
                r.avg = average(prices);
                r.windowEnd = ts + 1;
                out.collect(r);
            }
            last.update(prices);
        }

        /** sum div count, truncated towards zero, without overflow. */
        static long average(long[] prices) {
            long sum = 0;
            boolean overflow = false;
            for (long p : prices) {
                long s = sum + p;
                if (((sum ^ s) & (p ^ s)) < 0) {
                    overflow = true;
                    break;
                }
                sum = s;
            }
            if (!overflow) {
                return sum / prices.length;
            }
            BigInteger big = BigInteger.ZERO;
            for (long p : prices) {
                big = big.add(BigInteger.valueOf(p));
            }
            return big.divide(BigInteger.valueOf(prices.length)).longValueExact();
        }
    }

    /** A q6 row, (seller, avg), with the event time that completed it for the latency sample. */
    public static class Row {
        public long seller;
        public long avg;
        /** expires + 1: the frontier at which the auction closed. */
        public long windowEnd;

        public Row() {}
    }

    /** q6's columns: seller, avg. */
    static final class Format implements DigestSink.Format<Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Row r, Digest d) {
            d.integer(r.seller).integer(r.avg);
        }

        @Override
        public void json(Row r, StringBuilder sb) {
            sb.append("{\"seller\":").append(r.seller).append(",\"avg\":").append(r.avg).append('}');
        }

        @Override
        public long windowEnd(Row r) {
            return r.windowEnd;
        }
    }
}
