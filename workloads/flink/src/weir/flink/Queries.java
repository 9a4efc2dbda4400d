package weir.flink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.triggers.TriggerResult;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The Nexmark queries on Flink's DataStream API (keyed state, event-time windows and timers),
 * one method per query; each ends in a {@link DigestSink}. Semantics follow docs/WORKLOADS.md
 * section 2 and the sequential references of weir-workloads.
 */
public final class Queries {
    private Queries() {}

    /** 10 s in ms. */
    public static final long TEN_S = 10_000;

    static final TypeInformation<Event.Bid> BID = TypeInformation.of(Event.Bid.class);

    /** Adds query q over the event stream and its sink. */
    public static void build(String q, DataStream<Event> events) {
        switch (q) {
            case "q0":
                bids(events).sinkTo(new DigestSink<>(new Rows.BidFormat())).name("digest");
                break;
            case "q1":
                bids(events).map(b -> {
                    b.price = b.price * 908;
                    return b;
                }).returns(BID).name("q1-price").sinkTo(new DigestSink<>(new Rows.BidFormat())).name("digest");
                break;
            case "q2":
                bids(events).filter(b -> b.auction % 123 == 0).name("q2-filter")
                        .sinkTo(new DigestSink<>(new Rows.Q2Format())).name("digest");
                break;
            case "q3":
                q3(events);
                break;
            case "q4":
                q4(events);
                break;
            case "q5":
                q5(events);
                break;
            case "q7":
                q7(events);
                break;
            case "q8":
                q8(events);
                break;
            case "q11":
                q11(events);
                break;
            case "q12":
                q12(events);
                break;
            default:
                throw new IllegalArgumentException("the Flink job has no Nexmark query '" + q
                        + "' (weir's query catalog, workloads/src/catalog.rs, says which queries Flink runs)");
        }
    }

    static DataStream<Event.Bid> bids(DataStream<Event> events) {
        return events.filter(e -> e.kind == 2).name("bids").map(e -> {
            Event.Bid b = e.bid;
            b.ingestNanos = e.ingestNanos;
            return b;
        }).returns(BID).name("bid");
    }

    // ---- q3: regular join of auctions (category 10) with persons (OR, ID, CA) on seller ----

    static void q3(DataStream<Event> events) {
        DataStream<Event.Person> persons = events.filter(e -> e.kind == 0 && (e.person.state.equals("OR")
                || e.person.state.equals("ID") || e.person.state.equals("CA"))).name("persons-OR-ID-CA")
                .map(e -> e.person).returns(Event.Person.class);
        DataStream<Event> auctions = events.filter(e -> e.kind == 1 && e.auction.category == 10)
                .name("auctions-cat10");
        persons.keyBy(p -> p.id, Types.LONG).connect(auctions.keyBy(e -> e.auction.seller, Types.LONG))
                .process(new Q3Join()).name("q3-join")
                .sinkTo(new DigestSink<>(new Rows.Q3Format())).name("digest");
    }

    /** Keeps the seller (if it matches) and the auctions waiting for it. */
    static final class Q3Join extends KeyedCoProcessFunction<Long, Event.Person, Event, Rows.Q3> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Event.Person> person;
        private transient ListState<Long> waiting;

        @Override
        public void open(OpenContext ctx) {
            person = getRuntimeContext().getState(new ValueStateDescriptor<>("person", Event.Person.class));
            waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("auctions", Types.LONG));
        }

        @Override
        public void processElement1(Event.Person p, Context ctx, Collector<Rows.Q3> out) throws Exception {
            person.update(p);
            for (Long id : waiting.get()) {
                out.collect(row(p, id));
            }
            waiting.clear();
        }

        @Override
        public void processElement2(Event e, Context ctx, Collector<Rows.Q3> out) throws Exception {
            Event.Person p = person.value();
            if (p != null) {
                Rows.Q3 r = row(p, e.auction.id);
                r.ingestNanos = e.ingestNanos;
                out.collect(r);
            } else {
                waiting.add(e.auction.id);
            }
        }

        private static Rows.Q3 row(Event.Person p, long id) {
            Rows.Q3 r = new Rows.Q3();
            r.name = p.name;
            r.city = p.city;
            r.state = p.state;
            r.id = id;
            return r;
        }
    }

    // ---- q4: max bid per auction within [dateTime, expires], average per category ----

    static void q4(DataStream<Event> events) {
        DataStream<Event> auctions = events.filter(e -> e.kind == 1).name("auctions");
        DataStream<Event.Bid> bids = bids(events);
        auctions.keyBy(e -> e.auction.id, Types.LONG).connect(bids.keyBy(b -> b.auction, Types.LONG))
                .process(new Q4Max()).name("q4-max-per-auction")
                .keyBy(u -> u[0], Types.LONG).process(new Q4Avg()).name("q4-avg-per-category")
                .sinkTo(new DigestSink<>(new Rows.Q4Format())).name("digest");
    }

    /** Per auction: the maximum price of the bids inside [dateTime, expires]; emits each change. */
    static final class Q4Max extends KeyedCoProcessFunction<Long, Event, Event.Bid, long[]> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<long[]> auction;
        private transient ListState<long[]> early;

        @Override
        public void open(OpenContext ctx) {
            auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction", long[].class));
            early = getRuntimeContext().getListState(new ListStateDescriptor<>("early-bids", long[].class));
        }

        /** a = {category, dateTime, expires, max or MIN}. */
        private static void offer(long[] a, long price, long dateTime, Collector<long[]> out) {
            if (dateTime >= a[1] && dateTime <= a[2] && price > a[3]) {
                out.collect(new long[] {a[0], price, a[3]});
                a[3] = price;
            }
        }

        @Override
        public void processElement1(Event e, Context ctx, Collector<long[]> out) throws Exception {
            long[] a = {e.auction.category, e.auction.dateTime, e.auction.expires, Long.MIN_VALUE};
            for (long[] b : early.get()) {
                offer(a, b[0], b[1], out);
            }
            early.clear();
            auction.update(a);
        }

        @Override
        public void processElement2(Event.Bid b, Context ctx, Collector<long[]> out) throws Exception {
            long[] a = auction.value();
            if (a == null) {
                early.add(new long[] {b.price, b.dateTime});
            } else if (b.dateTime >= a[1] && b.dateTime <= a[2] && b.price > a[3]) {
                offer(a, b.price, b.dateTime, out);
                auction.update(a);
            }
        }
    }

    /** Per category: the average (BIGINT, truncated) of the auctions' maxima, as a changelog. */
    static final class Q4Avg extends KeyedProcessFunction<Long, long[], Rows.Q4> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<long[]> acc;

        @Override
        public void open(OpenContext ctx) {
            acc = getRuntimeContext().getState(new ValueStateDescriptor<>("sum-count", long[].class));
        }

        @Override
        public void processElement(long[] u, Context ctx, Collector<Rows.Q4> out) throws Exception {
            long[] s = acc.value();
            if (s == null) {
                s = new long[2];
            }
            long before = s[1] == 0 ? Long.MIN_VALUE : s[0] / s[1];
            if (u[2] == Long.MIN_VALUE) {
                s[0] += u[1];
                s[1] += 1;
            } else {
                s[0] += u[1] - u[2];
            }
            acc.update(s);
            long after = s[0] / s[1];
            if (after != before) {
                if (before != Long.MIN_VALUE) {
                    out.collect(q4(u[0], before, -1));
                }
                out.collect(q4(u[0], after, 1));
            }
        }

        private static Rows.Q4 q4(long category, long avg, int sign) {
            Rows.Q4 r = new Rows.Q4();
            r.category = category;
            r.avg = avg;
            r.sign = sign;
            return r;
        }
    }

    // ---- q5: hot items: per hopping window (10 s, slide 2 s), the auctions with the most bids ----

    static final OutputTag<Event.Bid> LATE_BIDS = new OutputTag<Event.Bid>("late-bids") {
        private static final long serialVersionUID = 1L;
    };

    static void q5(DataStream<Event> events) {
        SingleOutputStreamOperator<Rows.Q5> counts = bids(events).keyBy(b -> b.auction, Types.LONG)
                .window(SlidingEventTimeWindows.of(Duration.ofSeconds(10), Duration.ofSeconds(2)))
                .sideOutputLateData(LATE_BIDS)
                .aggregate(new Count<>(), new AuctionCount()).name("q5-count-per-auction");
        counts.getSideOutput(LATE_BIDS).sinkTo(new DigestSink.LateCounter<>()).name("late");
        counts.keyBy(r -> r.windowEnd, Types.LONG).process(new Q5Max()).name("q5-max-per-window")
                .sinkTo(new DigestSink<>(new Rows.Q5Format())).name("digest");
    }

    /** COUNT(*). */
    static final class Count<T> implements AggregateFunction<T, Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(T value, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    static final class AuctionCount extends ProcessWindowFunction<Long, Rows.Q5, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long auction, Context ctx, Iterable<Long> counts, Collector<Rows.Q5> out) {
            Rows.Q5 r = new Rows.Q5();
            r.auction = auction;
            r.num = counts.iterator().next();
            r.windowEnd = ctx.window().getEnd();
            out.collect(r);
        }
    }

    /** Per window: keeps the auctions tied at the maximum count; emits them when the window is complete. */
    static final class Q5Max extends KeyedProcessFunction<Long, Rows.Q5, Rows.Q5> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> max;
        private transient ListState<Long> leaders;

        @Override
        public void open(OpenContext ctx) {
            max = getRuntimeContext().getState(new ValueStateDescriptor<>("max", Types.LONG));
            leaders = getRuntimeContext().getListState(new ListStateDescriptor<>("leaders", Types.LONG));
        }

        @Override
        public void processElement(Rows.Q5 r, Context ctx, Collector<Rows.Q5> out) throws Exception {
            Long m = max.value();
            if (m == null) {
                ctx.timerService().registerEventTimeTimer(r.windowEnd - 1);
            }
            if (m == null || r.num > m) {
                max.update(r.num);
                List<Long> one = new ArrayList<>(1);
                one.add(r.auction);
                leaders.update(one);
            } else if (r.num == m) {
                leaders.add(r.auction);
            }
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<Rows.Q5> out) throws Exception {
            long m = max.value();
            for (Long a : leaders.get()) {
                Rows.Q5 r = new Rows.Q5();
                r.auction = a;
                r.num = m;
                r.windowEnd = ctx.getCurrentKey();
                out.collect(r);
            }
            max.clear();
            leaders.clear();
        }
    }

    // ---- q7: highest bid per 10 s window (bids in [end - 10 s, end], both ends inclusive) ----

    static void q7(DataStream<Event> events) {
        bids(events).keyBy(b -> b.auction, Types.LONG).process(new Q7Local()).name("q7-local-max")
                .keyBy(c -> c.window, Types.LONG).process(new Q7Global()).name("q7-global-max")
                .sinkTo(new DigestSink<>(new Rows.Q7Format())).name("digest");
    }

    /** Per auction and window: the bids at the auction's maximum, plus bids on the closing boundary. */
    static final class Q7Local extends KeyedProcessFunction<Long, Event.Bid, Rows.Q7> {
        private static final long serialVersionUID = 1L;
        private transient MapState<Long, List<Event.Bid>> top;
        private transient MapState<Long, List<Event.Bid>> boundary;

        @Override
        public void open(OpenContext ctx) {
            top = getRuntimeContext().getMapState(new MapStateDescriptor<>("top", Types.LONG,
                    Types.LIST(TypeInformation.of(Event.Bid.class))));
            boundary = getRuntimeContext().getMapState(new MapStateDescriptor<>("boundary", Types.LONG,
                    Types.LIST(TypeInformation.of(Event.Bid.class))));
        }

        @Override
        public void processElement(Event.Bid b, Context ctx, Collector<Rows.Q7> out) throws Exception {
            long wm = ctx.timerService().currentWatermark();
            if (b.dateTime <= wm) {
                Stats.LATE.incrementAndGet();
                return;
            }
            long w = Math.floorDiv(b.dateTime, TEN_S);
            List<Event.Bid> l = top.get(w);
            if (l == null) {
                l = new ArrayList<>(2);
                l.add(b);
                ctx.timerService().registerEventTimeTimer((w + 1) * TEN_S);
            } else if (b.price > l.get(0).price) {
                l.clear();
                l.add(b);
            } else if (b.price == l.get(0).price) {
                l.add(b);
            }
            top.put(w, l);
            if (b.dateTime % TEN_S == 0) {
                // Also a candidate for the previous window, whose range includes its end.
                List<Event.Bid> bl = boundary.get(w - 1);
                if (bl == null) {
                    bl = new ArrayList<>(2);
                    ctx.timerService().registerEventTimeTimer(w * TEN_S);
                }
                bl.add(b);
                boundary.put(w - 1, bl);
            }
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<Rows.Q7> out) throws Exception {
            long w = ts / TEN_S - 1;
            List<Event.Bid> l = top.get(w);
            long localMax = Long.MIN_VALUE;
            if (l != null) {
                localMax = l.get(0).price;
                for (Event.Bid b : l) {
                    out.collect(cand(w, false, b));
                }
                top.remove(w);
            }
            List<Event.Bid> bl = boundary.get(w);
            if (bl != null) {
                for (Event.Bid b : bl) {
                    if (b.price >= localMax) {
                        out.collect(cand(w, true, b));
                    }
                }
                boundary.remove(w);
            }
        }

        private static Rows.Q7 cand(long w, boolean boundary, Event.Bid b) {
            Rows.Q7 c = new Rows.Q7();
            c.window = w;
            c.boundary = boundary;
            c.bid = b;
            return c;
        }
    }

    /** Per window: the global maximum and the bids at it, emitted once the window end is complete. */
    static final class Q7Global extends KeyedProcessFunction<Long, Rows.Q7, Rows.Q7> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<List<Rows.Q7>> top;
        private transient ListState<Rows.Q7> boundary;

        @Override
        public void open(OpenContext ctx) {
            top = getRuntimeContext().getState(new ValueStateDescriptor<>("top",
                    Types.LIST(TypeInformation.of(Rows.Q7.class))));
            boundary = getRuntimeContext().getListState(new ListStateDescriptor<>("boundary", Rows.Q7.class));
        }

        @Override
        public void processElement(Rows.Q7 c, Context ctx, Collector<Rows.Q7> out) throws Exception {
            ctx.timerService().registerEventTimeTimer((c.window + 1) * TEN_S);
            if (c.boundary) {
                boundary.add(c);
                return;
            }
            List<Rows.Q7> l = top.value();
            if (l == null || c.bid.price > l.get(0).bid.price) {
                l = new ArrayList<>(2);
                l.add(c);
            } else if (c.bid.price == l.get(0).bid.price) {
                l.add(c);
            }
            top.update(l);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<Rows.Q7> out) throws Exception {
            List<Rows.Q7> l = top.value();
            if (l != null) {
                long max = l.get(0).bid.price;
                for (Rows.Q7 c : l) {
                    out.collect(c);
                }
                for (Rows.Q7 c : boundary.get()) {
                    if (c.bid.price == max) {
                        out.collect(c);
                    }
                }
            }
            top.clear();
            boundary.clear();
        }
    }

    // ---- q8: persons who opened an auction in the same 10 s tumbling window ----

    static void q8(DataStream<Event> events) {
        DataStream<Event.Person> persons = events.filter(e -> e.kind == 0).name("persons")
                .map(e -> e.person).returns(Event.Person.class);
        DataStream<Event.Auction> auctions = events.filter(e -> e.kind == 1).name("auctions")
                .map(e -> e.auction).returns(Event.Auction.class);
        persons.coGroup(auctions).where(p -> p.id, Types.LONG).equalTo(a -> a.seller, Types.LONG)
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                .apply((Iterable<Event.Person> ps, Iterable<Event.Auction> as, Collector<Rows.Q8> out) -> {
                    if (!as.iterator().hasNext()) {
                        return;
                    }
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    for (Event.Person p : ps) {
                        long start = p.dateTime - Math.floorMod(p.dateTime, TEN_S);
                        if (seen.add(p.id + "/" + p.name + "/" + start)) {
                            Rows.Q8 r = new Rows.Q8();
                            r.id = p.id;
                            r.name = p.name;
                            r.starttime = start;
                            out.collect(r);
                        }
                    }
                }, TypeInformation.of(Rows.Q8.class)).name("q8-window-join")
                .sinkTo(new DigestSink<>(new Rows.Q8Format())).name("digest");
    }

    // ---- q11: bids per bidder per session (gap 10 s) ----

    static void q11(DataStream<Event> events) {
        SingleOutputStreamOperator<Rows.BidderCount> sessions = bids(events).keyBy(b -> b.bidder, Types.LONG)
                .window(EventTimeSessionWindows.withGap(Duration.ofSeconds(10)))
                .sideOutputLateData(LATE_BIDS)
                .aggregate(new Count<>(), new BidderWindowCount()).name("q11-sessions");
        sessions.getSideOutput(LATE_BIDS).sinkTo(new DigestSink.LateCounter<>()).name("late");
        sessions.sinkTo(new DigestSink<>(new Rows.BidderCountFormat(true))).name("digest");
    }

    static final class BidderWindowCount extends ProcessWindowFunction<Long, Rows.BidderCount, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long bidder, Context ctx, Iterable<Long> counts, Collector<Rows.BidderCount> out) {
            Rows.BidderCount r = new Rows.BidderCount();
            r.bidder = bidder;
            r.count = counts.iterator().next();
            r.start = ctx.window().getStart();
            r.end = ctx.window().getEnd();
            out.collect(r);
        }
    }

    // ---- q12: bids per bidder per 10 s processing-time window ----

    static void q12(DataStream<Event> events) {
        bids(events).keyBy(b -> b.bidder, Types.LONG)
                .window(TumblingProcessingTimeWindows.of(Duration.ofSeconds(10)))
                .trigger(new ProcessingTimeOrEndTrigger())
                .aggregate(new Count<>(), new BidderWindowCount()).name("q12-proctime-windows")
                .sinkTo(new DigestSink<>(new Rows.BidderCountFormat(false))).name("digest");
    }

    /**
     * Flink's processing-time trigger, plus firing at end of input (the final watermark), so a
     * bounded run still emits its last, partial windows instead of dropping them.
     */
    static final class ProcessingTimeOrEndTrigger extends Trigger<Object, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public TriggerResult onElement(Object e, long ts, TimeWindow w, TriggerContext ctx) {
            ctx.registerProcessingTimeTimer(w.maxTimestamp());
            ctx.registerEventTimeTimer(Long.MAX_VALUE);
            return TriggerResult.CONTINUE;
        }

        @Override
        public TriggerResult onProcessingTime(long time, TimeWindow w, TriggerContext ctx) {
            return TriggerResult.FIRE_AND_PURGE;
        }

        @Override
        public TriggerResult onEventTime(long time, TimeWindow w, TriggerContext ctx) {
            return time == Long.MAX_VALUE ? TriggerResult.FIRE_AND_PURGE : TriggerResult.CONTINUE;
        }

        @Override
        public void clear(TimeWindow w, TriggerContext ctx) {
            ctx.deleteProcessingTimeTimer(w.maxTimestamp());
            ctx.deleteEventTimeTimer(Long.MAX_VALUE);
        }
    }
}
