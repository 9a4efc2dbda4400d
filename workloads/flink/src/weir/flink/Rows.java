package weir.flink;

import weir.flink.DigestSink.Format;

/**
 * Result rows of the queries (Flink POJOs) and their formats: SELECT-order digest encoding and
 * JSON lines with the suite's column names (docs/WORKLOADS.md, section 9).
 */
public final class Rows {
    private Rows() {}

    /** q0: (auction, bidder, price, dateTime, extra); q1 is the same with price * 908, scale 3. */
    public static final class BidFormat implements Format<Event.Bid> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Event.Bid b, Digest d) {
            d.integer(b.auction).integer(b.bidder).integer(b.price).integer(b.dateTime).string(b.extra);
        }

        @Override
        public void json(Event.Bid b, StringBuilder sb) {
            sb.append("{\"auction\":").append(b.auction).append(",\"bidder\":").append(b.bidder)
                    .append(",\"price\":").append(b.price).append(",\"dateTime\":").append(b.dateTime)
                    .append(",\"extra\":");
            DigestSink.str(sb, b.extra);
            sb.append('}');
        }

        @Override
        public long ingestNanos(Event.Bid b) {
            return b.ingestNanos;
        }
    }

    /** q2: (auction, price). */
    public static final class Q2Format implements Format<Event.Bid> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Event.Bid b, Digest d) {
            d.integer(b.auction).integer(b.price);
        }

        @Override
        public void json(Event.Bid b, StringBuilder sb) {
            sb.append("{\"auction\":").append(b.auction).append(",\"price\":").append(b.price).append('}');
        }

        @Override
        public long ingestNanos(Event.Bid b) {
            return b.ingestNanos;
        }
    }

    /** q3 row. */
    public static class Q3 {
        public String name;
        public String city;
        public String state;
        public long id;
        public long ingestNanos;

        public Q3() {}
    }

    /** q3: (name, city, state, id). */
    public static final class Q3Format implements Format<Q3> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Q3 r, Digest d) {
            d.string(r.name).string(r.city).string(r.state).integer(r.id);
        }

        @Override
        public void json(Q3 r, StringBuilder sb) {
            sb.append("{\"name\":");
            DigestSink.str(sb, r.name);
            sb.append(",\"city\":");
            DigestSink.str(sb, r.city);
            sb.append(",\"state\":");
            DigestSink.str(sb, r.state);
            sb.append(",\"id\":").append(r.id).append('}');
        }

        @Override
        public long ingestNanos(Q3 r) {
            return r.ingestNanos;
        }
    }

    /** q4 changelog row: +1/-1 of (category, avg). */
    public static class Q4 {
        public long category;
        public long avg;
        public int sign;
        public long ingestNanos;

        public Q4() {}
    }

    /** q4: (category, avg), folded by sign. */
    public static final class Q4Format implements Format<Q4> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Q4 r, Digest d) {
            d.integer(r.category).integer(r.avg);
        }

        @Override
        public void json(Q4 r, StringBuilder sb) {
            sb.append("{\"category\":").append(r.category).append(",\"avg\":").append(r.avg).append('}');
        }

        @Override
        public int sign(Q4 r) {
            return r.sign;
        }

        @Override
        public long ingestNanos(Q4 r) {
            return r.ingestNanos;
        }
    }

    /** A row of two longs from an event-time window (q5: auction, num; YSB uses Ysb). */
    public static class Q5 {
        public long auction;
        public long num;
        public long windowEnd;

        public Q5() {}
    }

    /** q5: (auction, num). */
    public static final class Q5Format implements Format<Q5> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Q5 r, Digest d) {
            d.integer(r.auction).integer(r.num);
        }

        @Override
        public void json(Q5 r, StringBuilder sb) {
            sb.append("{\"auction\":").append(r.auction).append(",\"num\":").append(r.num).append('}');
        }

        @Override
        public long windowEnd(Q5 r) {
            return r.windowEnd;
        }
    }

    /** q7 candidate / row: a bid tied to a 10 s window. */
    public static class Q7 {
        public long window;
        public boolean boundary;
        public Event.Bid bid;

        public Q7() {}
    }

    /** q7: (auction, price, bidder, dateTime, extra). */
    public static final class Q7Format implements Format<Q7> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Q7 r, Digest d) {
            Event.Bid b = r.bid;
            d.integer(b.auction).integer(b.price).integer(b.bidder).integer(b.dateTime).string(b.extra);
        }

        @Override
        public void json(Q7 r, StringBuilder sb) {
            Event.Bid b = r.bid;
            sb.append("{\"auction\":").append(b.auction).append(",\"price\":").append(b.price)
                    .append(",\"bidder\":").append(b.bidder).append(",\"dateTime\":").append(b.dateTime)
                    .append(",\"extra\":");
            DigestSink.str(sb, b.extra);
            sb.append('}');
        }

        @Override
        public long windowEnd(Q7 r) {
            return (r.window + 1) * Queries.TEN_S;
        }
    }

    /** q8 row. */
    public static class Q8 {
        public long id;
        public String name;
        public long starttime;

        public Q8() {}
    }

    /** q8: (id, name, starttime). */
    public static final class Q8Format implements Format<Q8> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Q8 r, Digest d) {
            d.integer(r.id).string(r.name).integer(r.starttime);
        }

        @Override
        public void json(Q8 r, StringBuilder sb) {
            sb.append("{\"id\":").append(r.id).append(",\"name\":");
            DigestSink.str(sb, r.name);
            sb.append(",\"starttime\":").append(r.starttime).append('}');
        }

        @Override
        public long windowEnd(Q8 r) {
            return r.starttime + Queries.TEN_S;
        }
    }

    /** q11/q12 row: a count of bids per bidder in a window. */
    public static class BidderCount {
        public long bidder;
        public long count;
        public long start;
        public long end;

        public BidderCount() {}
    }

    /** q11/q12: (bidder, bid_count, starttime, endtime). */
    public static final class BidderCountFormat implements Format<BidderCount> {
        private static final long serialVersionUID = 1L;
        private final boolean eventTime;

        /** eventTime: the window is an event-time window (latency is measurable). */
        public BidderCountFormat(boolean eventTime) {
            this.eventTime = eventTime;
        }

        @Override
        public void encode(BidderCount r, Digest d) {
            d.integer(r.bidder).integer(r.count).integer(r.start).integer(r.end);
        }

        @Override
        public void json(BidderCount r, StringBuilder sb) {
            sb.append("{\"bidder\":").append(r.bidder).append(",\"bid_count\":").append(r.count)
                    .append(",\"starttime\":").append(r.start).append(",\"endtime\":").append(r.end).append('}');
        }

        @Override
        public long windowEnd(BidderCount r) {
            return eventTime ? r.end : Long.MIN_VALUE;
        }
    }

    /** YSB row. */
    public static class Ysb {
        public String campaign;
        public long windowStart;
        public long count;

        public Ysb() {}
    }

    /** YSB: (campaign_id, window_start, count). */
    public static final class YsbFormat implements Format<Ysb> {
        private static final long serialVersionUID = 1L;

        @Override
        public void encode(Ysb r, Digest d) {
            d.string(r.campaign).integer(r.windowStart).integer(r.count);
        }

        @Override
        public void json(Ysb r, StringBuilder sb) {
            sb.append("{\"campaign_id\":");
            DigestSink.str(sb, r.campaign);
            sb.append(",\"window_start\":").append(r.windowStart)
                    .append(",\"count\":").append(r.count).append('}');
        }

        @Override
        public long windowEnd(Ysb r) {
            return r.windowStart + Queries.TEN_S;
        }
    }
}
