package weir.flink;

import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;
import org.apache.flink.types.Row;

/**
 * The Nexmark queries that weir runs on Flink SQL through the Table API (q9, q10, q13-q22), as
 * users run the suite on Flink (q10's partitioned file sink: {@link Q10Files}). The SQL is written from weir's contract
 * (docs/WORKLOADS.md, section 9), not taken from the suite.
 *
 * <p>The tables read the same generated events as the DataStream jobs: the generator's
 * {@code DataStream<Event>} is split by kind and bridged into the views {@code bid} and
 * {@code auction} ({@code fromDataStream}), each with an event-time attribute {@code rowtime}
 * whose watermark is the source's own ({@code SOURCE_WATERMARK()}: the contract's 4 s bounded
 * out-of-orderness) and a processing-time attribute {@code p_time} for q13's lookup join. Two
 * hidden columns ride along: {@code event_id} (the contract's tie-break, section 8) and
 * {@code ingest_ns} (the latency sample's ingestion time, 0 when the event is not sampled).
 *
 * <p>Each result table becomes a changelog stream ({@code toChangelogStream}) into the same
 * {@link DigestSink} as every other query: inserts and update-afters add a row, update-befores
 * and deletes subtract it, so an updating query's digest is that of its final table (section
 * 7.4). The session time zone is UTC, so the calendar functions follow the contract's UTC fields.
 */
public final class SuiteSql {
    private SuiteSql() {}

    /** The hidden latency column: the last column of the stateless queries' SELECT lists. */
    static final String INGEST = "ingest_ns";

    /** An event's timestamp as a UTC TIMESTAMP(3) (the session time zone is UTC). */
    private static final String TS = "CAST(TO_TIMESTAMP_LTZ(`dateTime`, 3) AS TIMESTAMP(3))";

    /** q15-q17's price bands (docs/WORKLOADS.md, section 8), as FILTER conditions. */
    private static final String[] BANDS = {
        "price < 10000", "price >= 10000 AND price < 1000000", "price >= 1000000",
    };

    /** The SQL of each query this class runs. */
    static final Map<String, String> SQL = new HashMap<>();

    static {
        SQL.put("q9", "SELECT id, itemName, description, initialBid, reserve, `dateTime`, expires, seller, category, extra,"
                + " auction, bidder, price, bid_dateTime, bid_extra FROM ("
                + " SELECT A.id, A.itemName, A.description, A.initialBid, A.reserve, A.`dateTime`, A.expires, A.seller,"
                + "  A.category, A.extra, B.auction, B.bidder, B.price, B.`dateTime` AS bid_dateTime, B.extra AS bid_extra,"
                + "  ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.`dateTime` ASC, B.event_id ASC) AS rn"
                + " FROM auction AS A JOIN bid AS B ON A.id = B.auction"
                + " WHERE B.`dateTime` BETWEEN A.`dateTime` AND A.expires"
                + ") WHERE rn = 1");
        SQL.put("q10", "SELECT auction, bidder, price, `dateTime`, extra,"
                + " DATE_FORMAT(" + TS + ", 'yyyy-MM-dd') AS dt, DATE_FORMAT(" + TS + ", 'HH:mm') AS hm, ingest_ns"
                + " FROM bid");
        SQL.put("q13", "SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.`value`, B.ingest_ns"
                + " FROM bid AS B JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S"
                + " ON MOD(B.auction, 10000) = S.key");
        SQL.put("q14", "SELECT auction, bidder, price * 908 AS price,"
                + " CASE WHEN HOUR(" + TS + ") BETWEEN 8 AND 18 THEN 'dayTime'"
                + "  WHEN HOUR(" + TS + ") <= 6 OR HOUR(" + TS + ") >= 20 THEN 'nightTime'"
                + "  ELSE 'otherTime' END AS bidTimeType,"
                + " `dateTime`, extra, count_char(extra, 'c') AS c_counts, ingest_ns"
                + " FROM bid WHERE price * 908 > 1000000000 AND price * 908 < 50000000000");
        SQL.put("q15", "SELECT `day`, " + counts() + " FROM ("
                + " SELECT DATE_FORMAT(" + TS + ", 'yyyy-MM-dd') AS `day`, price, bidder, auction FROM bid"
                + ") GROUP BY `day`");
        SQL.put("q16", "SELECT channel, `day`, MAX(`minute`) AS `minute`, " + counts() + " FROM ("
                + " SELECT channel, DATE_FORMAT(" + TS + ", 'yyyy-MM-dd') AS `day`,"
                + "  DATE_FORMAT(" + TS + ", 'HH:mm') AS `minute`, price, bidder, auction FROM bid"
                + ") GROUP BY channel, `day`");
        SQL.put("q17", "SELECT auction, `day`, COUNT(*) AS total_bids, " + bandCounts("COUNT(*)", "_bids")
                + ", MIN(price) AS min_price, MAX(price) AS max_price, AVG(price) AS avg_price,"
                + " SUM(price) AS sum_price FROM ("
                + " SELECT auction, DATE_FORMAT(" + TS + ", 'yyyy-MM-dd') AS `day`, price FROM bid"
                + ") GROUP BY auction, `day`");
        SQL.put("q18", "SELECT auction, bidder, price, channel, url, `dateTime`, extra FROM ("
                + " SELECT auction, bidder, price, channel, url, `dateTime`, extra,"
                + "  ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY `dateTime` DESC, event_id DESC) AS rn"
                + " FROM bid) WHERE rn = 1");
        SQL.put("q19", "SELECT auction, bidder, price, channel, url, `dateTime`, extra, rank_number FROM ("
                + " SELECT auction, bidder, price, channel, url, `dateTime`, extra,"
                + "  ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, event_id ASC) AS rank_number"
                + " FROM bid) WHERE rank_number <= 10");
        SQL.put("q20", "SELECT B.auction, B.bidder, B.price, B.channel, B.url, B.`dateTime`, B.extra,"
                + " A.itemName, A.description, A.initialBid, A.reserve, A.`dateTime` AS a_dateTime, A.expires,"
                + " A.seller, A.category, A.extra AS a_extra, B.ingest_ns"
                + " FROM bid AS B JOIN auction AS A ON B.auction = A.id WHERE A.category = 10");
        SQL.put("q21", "SELECT auction, bidder, price, channel, channel_id, ingest_ns FROM ("
                + " SELECT auction, bidder, price, channel, ingest_ns,"
                + "  CASE LOWER(channel) WHEN 'apple' THEN '0' WHEN 'google' THEN '1'"
                + "   WHEN 'facebook' THEN '2' WHEN 'baidu' THEN '3'"
                + "   ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) END AS channel_id"
                + " FROM bid) WHERE channel_id IS NOT NULL");
        SQL.put("q22", "SELECT auction, bidder, price, channel, SPLIT_INDEX(url, '/', 3) AS dir1,"
                + " SPLIT_INDEX(url, '/', 4) AS dir2, SPLIT_INDEX(url, '/', 5) AS dir3, ingest_ns FROM bid");
    }

    /** q15's and q16's twelve counts: bids, distinct bidders, distinct auctions, each overall and per band. */
    private static String counts() {
        return "COUNT(*) AS total_bids, " + bandCounts("COUNT(*)", "_bids")
                + ", COUNT(DISTINCT bidder) AS total_bidders, " + bandCounts("COUNT(DISTINCT bidder)", "_bidders")
                + ", COUNT(DISTINCT auction) AS total_auctions, "
                + bandCounts("COUNT(DISTINCT auction)", "_auctions");
    }

    private static String bandCounts(String agg, String suffix) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < BANDS.length; k++) {
            sb.append(k == 0 ? "" : ", ").append(agg).append(" FILTER (WHERE ").append(BANDS[k]).append(") AS rank")
                    .append(k + 1).append(suffix);
        }
        return sb.toString();
    }

    /** Whether query q runs on Flink SQL here. */
    static boolean runs(String q) {
        return SQL.containsKey(q);
    }

    /** The column names of the bid view, hidden columns last. */
    private static final String[] BID_COLUMNS = {
        "auction", "bidder", "price", "channel", "url", "dateTime", "extra", "event_id", INGEST,
    };

    private static final String[] AUCTION_COLUMNS = {
        "id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category",
        "extra",
    };

    /**
     * The updating queries whose aggregates, deduplication and top-N emit their changes per mini-batch, as weir's
     * updating operators do (its Config::mini_batch, 10 ms by default): Flink's own mini-batch settings with the same
     * interval, so that neither engine digests more intermediate changes than the other.
     */
    private static final List<String> MINI_BATCHED = List.of("q15", "q16", "q17", "q18", "q19");

    /** Adds query q (one of {@link #SQL}) over the event stream, and its digest sink. */
    static void build(String q, StreamExecutionEnvironment env, DataStream<Event> events) {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        tables.getConfig().setLocalTimeZone(ZoneOffset.UTC);
        if (MINI_BATCHED.contains(q)) {
            tables.getConfig().set("table.exec.mini-batch.enabled", "true");
            tables.getConfig().set("table.exec.mini-batch.allow-latency", "10 ms");
            // Records buffered at most per mini-batch (required with the interval); weir has no such cap.
            tables.getConfig().set("table.exec.mini-batch.size", "100000");
        }
        tables.createTemporarySystemFunction("count_char", CountChar.class);
        DataStream<Row> bids = events.filter(e -> e.kind == 2).name("bids").map(e -> {
            Event.Bid b = e.bid;
            return Row.of(b.auction, b.bidder, b.price, b.channel, b.url, b.dateTime, b.extra, e.eventId,
                    e.ingestNanos);
        }).returns(Types.ROW_NAMED(BID_COLUMNS, Types.LONG, Types.LONG, Types.LONG, Types.STRING, Types.STRING,
                Types.LONG, Types.STRING, Types.LONG, Types.LONG)).name("bid-rows");
        tables.createTemporaryView("bid", tables.fromDataStream(bids, timed().columnByExpression("p_time", "PROCTIME()")
                .build()));
        if (q.equals("q9") || q.equals("q20")) {
            DataStream<Row> auctions = events.filter(e -> e.kind == 1).name("auctions").map(e -> {
                Event.Auction a = e.auction;
                return Row.of(a.id, a.itemName, a.description, a.initialBid, a.reserve, a.dateTime, a.expires,
                        a.seller, a.category, a.extra);
            }).returns(Types.ROW_NAMED(AUCTION_COLUMNS, Types.LONG, Types.STRING, Types.STRING, Types.LONG,
                    Types.LONG, Types.LONG, Types.LONG, Types.LONG, Types.LONG, Types.STRING)).name("auction-rows");
            tables.createTemporaryView("auction", tables.fromDataStream(auctions, timed().build()));
        }
        if (q.equals("q13")) {
            tables.createTemporaryTable("side_input", SideInput.descriptor(Main.sideInput));
        }
        Table result = tables.sqlQuery(SQL.get(q));
        if (q.equals("q10")) {
            Q10Files.attach(env, tables, result);
        }
        List<String> columns = result.getResolvedSchema().getColumnNames();
        RowFormat format = new RowFormat(columns);
        String[] key = UPSERT_KEYS.get(q);
        if (key == null) {
            tables.toChangelogStream(result, Schema.derived(), ChangelogMode.insertOnly()).sinkTo(new DigestSink<>(format))
                    .name("digest");
            return;
        }
        int[] at = new int[key.length];
        for (int k = 0; k < key.length; k++) {
            at[k] = columns.indexOf(key[k]);
        }
        DataStream<Row> changes = tables.toChangelogStream(result, Schema.derived(), ChangelogMode.upsert());
        changes.keyBy(r -> key(r, at), Types.ROW(keyTypes(result, at))).process(new UpsertToRetract(changes.getType()))
                .returns(changes.getType()).name("upsert-to-retract").sinkTo(new DigestSink<>(format)).name("digest");
    }

    /** The key columns of a row (as an INSERT: a Row's kind takes part in its equality). */
    private static Row key(Row r, int[] at) {
        Row k = Row.project(r, at);
        k.setKind(RowKind.INSERT);
        return k;
    }

    private static TypeInformation<?>[] keyTypes(Table result, int[] at) {
        TypeInformation<?>[] t = new TypeInformation<?>[at.length];
        for (int k = 0; k < at.length; k++) {
            String type = result.getResolvedSchema().getColumnDataTypes().get(at[k]).getLogicalType().getTypeRoot()
                    .name();
            t[k] = type.equals("BIGINT") ? Types.LONG : Types.STRING;
        }
        return t;
    }

    /**
     * The unique key of each updating query's result table: Flink SQL emits these tables as
     * upsert changelogs (an update carries the new row only), which {@link UpsertToRetract}
     * turns into retractions of the old row, so the digest folds to the final table.
     */
    static final Map<String, String[]> UPSERT_KEYS = new HashMap<>();

    static {
        UPSERT_KEYS.put("q9", new String[] {"id"});
        UPSERT_KEYS.put("q15", new String[] {"day"});
        UPSERT_KEYS.put("q16", new String[] {"channel", "day"});
        UPSERT_KEYS.put("q17", new String[] {"auction", "day"});
        UPSERT_KEYS.put("q18", new String[] {"auction", "bidder"});
        UPSERT_KEYS.put("q19", new String[] {"auction", "rank_number"});
    }

    /**
     * Upsert changelog to retractions, keyed by the table's unique key: keeps each key's
     * current row (the final table, as Flink's own sink materializer does), emits the previous
     * row as UPDATE_BEFORE before each new one, and the stored row as DELETE on a delete (which
     * may carry the key only).
     */
    static final class UpsertToRetract extends KeyedProcessFunction<Row, Row, Row> {
        private static final long serialVersionUID = 1L;
        private final TypeInformation<Row> type;
        private transient ValueState<Row> current;

        UpsertToRetract(TypeInformation<Row> type) {
            this.type = type;
        }

        @Override
        public void open(OpenContext ctx) {
            current = getRuntimeContext().getState(new ValueStateDescriptor<>("row", type));
        }

        @Override
        public void processElement(Row r, Context ctx, Collector<Row> out) throws Exception {
            Row before = current.value();
            switch (r.getKind()) {
                case INSERT:
                case UPDATE_AFTER:
                    if (before != null) {
                        before.setKind(RowKind.UPDATE_BEFORE);
                        out.collect(before);
                    }
                    Row after = Row.copy(r);
                    after.setKind(before == null ? RowKind.INSERT : RowKind.UPDATE_AFTER);
                    out.collect(after);
                    current.update(after);
                    break;
                default:
                    if (before != null) {
                        before.setKind(RowKind.DELETE);
                        out.collect(before);
                        current.clear();
                    }
                    break;
            }
        }
    }

    /** The event-time attribute of a bridged view: the record's timestamp, the source's watermarks. */
    private static Schema.Builder timed() {
        return Schema.newBuilder().columnByMetadata("rowtime", "TIMESTAMP_LTZ(3)")
                .watermark("rowtime", "SOURCE_WATERMARK()");
    }

    /** {@code count_char(s, c)}: how many times the character c occurs in s (q14's {@code c_counts}). */
    public static final class CountChar extends ScalarFunction {
        private static final long serialVersionUID = 1L;

        /** The count, or NULL for a NULL string. */
        public Long eval(String s, String c) {
            if (s == null || c == null || c.length() != 1) {
                return null;
            }
            char ch = c.charAt(0);
            long n = 0;
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) == ch) {
                    n++;
                }
            }
            return n;
        }
    }

    /**
     * A SQL result row as a digest row: the columns in SELECT order (BIGINT as integer, STRING
     * as string, NULL as NULL), the row kind as the sign, and the hidden {@code ingest_ns}
     * column, when the query selects it last, as the latency sample.
     */
    static final class RowFormat implements DigestSink.Format<Row> {
        private static final long serialVersionUID = 1L;
        private final String[] names;
        private final int ingest;

        RowFormat(List<String> columns) {
            int n = columns.size();
            this.ingest = n > 0 && columns.get(n - 1).equals(INGEST) ? n - 1 : -1;
            this.names = columns.subList(0, ingest >= 0 ? n - 1 : n).toArray(new String[0]);
        }

        @Override
        public void encode(Row row, Digest d) {
            for (int i = 0; i < names.length; i++) {
                Object v = row.getField(i);
                if (v == null) {
                    d.nul();
                } else if (v instanceof Long || v instanceof Integer) {
                    d.integer(((Number) v).longValue());
                } else if (v instanceof String) {
                    d.string((String) v);
                } else {
                    throw new IllegalStateException("column " + names[i] + " has a value of type "
                            + v.getClass().getName() + "; weir's rows hold integers and strings only");
                }
            }
        }

        @Override
        public void json(Row row, StringBuilder sb) {
            sb.append('{');
            for (int i = 0; i < names.length; i++) {
                sb.append(i == 0 ? "\"" : ",\"").append(names[i]).append("\":");
                Object v = row.getField(i);
                if (v instanceof String) {
                    DigestSink.str(sb, (String) v);
                } else {
                    sb.append(v);
                }
            }
            sb.append('}');
        }

        @Override
        public int sign(Row row) {
            switch (row.getKind()) {
                case UPDATE_BEFORE:
                case DELETE:
                    return -1;
                default:
                    return 1;
            }
        }

        @Override
        public long ingestNanos(Row row) {
            if (ingest < 0) {
                return 0;
            }
            Object v = row.getField(ingest);
            return v == null ? 0 : (Long) v;
        }
    }
}
