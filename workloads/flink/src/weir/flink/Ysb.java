package weir.flink;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The Yahoo Streaming Benchmark on Flink: the generator port (event i draws user, page, ad, ad
 * type, event type from java.util.Random(mix(i)); UUID tables from Random(20150717)) and the
 * query as the original Flink topology has it, with event time: filter views, project, static
 * join ad -> campaign, 10 s tumbling event-time count per campaign closed by the watermark
 * (out-of-orderness 0).
 */
public final class Ysb {
    private Ysb() {}

    static final String[] AD_TYPES = {"banner", "modal", "sponsored-search", "mail", "mobile"};
    static final String[] EVENT_TYPES = {"view", "click", "purchase"};
    static final String IP = "1.2.3.4";
    static final String[] CAMPAIGNS = new String[100];
    static final String[] ADS = new String[1000];
    static final String[] USERS = new String[100];
    static final String[] PAGES = new String[100];

    static {
        JRandom p = new JRandom(20_150_717L);
        for (String[] table : new String[][] {CAMPAIGNS, ADS, USERS, PAGES}) {
            for (int i = 0; i < table.length; i++) {
                long msb = (p.nextLong() & ~0xF000L) | 0x4000L;
                long lsb = (p.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
                table[i] = new UUID(msb, lsb).toString();
            }
        }
    }

    /** One YSB event (Flink POJO). */
    public static class Event {
        public String userId;
        public String pageId;
        public String adId;
        public String adType;
        public String eventType;
        public long eventTime;
        public String ipAddress;

        public Event() {}
    }

    /** Event id i. */
    public static Event generate(long id, long eventRate, JRandom r) {
        r.setSeed(JRandom.mix(id));
        Event e = new Event();
        e.userId = USERS[r.nextInt(100)];
        e.pageId = PAGES[r.nextInt(100)];
        e.adId = ADS[r.nextInt(1000)];
        e.adType = AD_TYPES[r.nextInt(5)];
        e.eventType = EVENT_TYPES[r.nextInt(3)];
        e.eventTime = Nexmark.timestamp(id, eventRate);
        e.ipAddress = IP;
        return e;
    }

    /** The generator as a source function. */
    public static final class Gen implements GenSource.Gen<Event> {
        private static final long serialVersionUID = 1L;
        private final long eventRate;
        private transient JRandom random;

        Gen(long eventRate) {
            this.eventRate = eventRate;
        }

        @Override
        public Event make(long id, long ingestNanos) {
            if (random == null) {
                random = new JRandom(0);
            }
            return generate(id, eventRate, random);
        }

        @Override
        public GenSource.Gen<Event> copy() {
            return new Gen(eventRate);
        }
    }

    static final OutputTag<Tuple2<String, Long>> LATE = new OutputTag<Tuple2<String, Long>>("late-views") {
        private static final long serialVersionUID = 1L;
    };

    /** Adds the YSB query with its source and sink. */
    static void build(StreamExecutionEnvironment env, long events, long eventRate, long rate) {
        DataStream<Event> src = env.fromSource(new GenSource<>(new Gen(eventRate), events, eventRate, rate, Main.replay),
                GenSource.<Event>watermarks(0), "ysb-source", TypeInformation.of(Event.class));
        SingleOutputStreamOperator<Rows.Ysb> counts = src.filter(e -> e.eventType.equals("view")).name("views")
                .map(e -> Tuple2.of(e.adId, e.eventTime)).returns(Types.TUPLE(Types.STRING, Types.LONG))
                .name("project")
                .map(new CampaignJoin()).name("join-campaign")
                .keyBy(t -> t.f0, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                .sideOutputLateData(LATE)
                .aggregate(new Queries.Count<>(), new CampaignWindow()).name("ysb-count-per-campaign");
        counts.getSideOutput(LATE).sinkTo(new DigestSink.LateCounter<>()).name("late");
        counts.sinkTo(new DigestSink<>(new Rows.YsbFormat())).name("digest");
    }

    /** The static join: ad -> campaign, from a table loaded when the task opens (Redis in the original). */
    static final class CampaignJoin extends RichMapFunction<Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient Map<String, String> campaignOf;

        @Override
        public void open(OpenContext ctx) {
            campaignOf = new HashMap<>();
            for (int j = 0; j < ADS.length; j++) {
                campaignOf.put(ADS[j], CAMPAIGNS[j / 10]);
            }
        }

        @Override
        public Tuple2<String, Long> map(Tuple2<String, Long> t) {
            t.f0 = campaignOf.get(t.f0);
            return t;
        }
    }

    static final class CampaignWindow extends ProcessWindowFunction<Long, Rows.Ysb, String, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(String campaign, Context ctx, Iterable<Long> counts, Collector<Rows.Ysb> out) {
            Rows.Ysb r = new Rows.Ysb();
            r.campaign = campaign;
            r.windowStart = ctx.window().getStart();
            r.count = counts.iterator().next();
            out.collect(r);
        }
    }

    /** The raw row of the generator's digest vector. */
    static void rawRow(Event e, Digest d) {
        d.string("ysb").string(e.userId).string(e.pageId).string(e.adId).string(e.adType).string(e.eventType)
                .integer(e.eventTime).string(e.ipAddress);
    }

    /** The original's JSON line (every value a string). */
    static String json(Event e) {
        return "{\"user_id\":\"" + e.userId + "\",\"page_id\":\"" + e.pageId + "\",\"ad_id\":\"" + e.adId
                + "\",\"ad_type\":\"" + e.adType + "\",\"event_type\":\"" + e.eventType + "\",\"event_time\":\""
                + e.eventTime + "\",\"ip_address\":\"" + e.ipAddress + "\"}";
    }
}
