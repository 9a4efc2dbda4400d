package weir.flink;

/**
 * The canonical Nexmark generator (docs/WORKLOADS.md, sections 2-4), ported from the Rust
 * generator: event i is a pure function of (i, eventRate). Beam's draw order with a per-event
 * java.util.Random seeded with mix(i), extra strings sliced from one fixed pool, channel/url
 * from fixed tables drawn after extra.
 */
public final class Nexmark {
    /** 2015-07-15T00:00:00Z. */
    public static final long BASE_TIME = 1436918400000L;
    static final int PROPORTION = 50;
    static final long FIRST_PERSON_ID = 1000;
    static final long FIRST_AUCTION_ID = 1000;
    static final long FIRST_CATEGORY_ID = 10;
    static final int HOT_RATIO_AUCTION = 2;
    static final int HOT_RATIO_SELLER = 4;
    static final int HOT_RATIO_BIDDER = 4;
    static final long IN_FLIGHT_AUCTIONS = 100;
    static final long ACTIVE_PEOPLE = 1000;
    /** Events ahead of an auction that make numInFlightAuctions more auctions: 100*50/3. */
    static final long AUCTION_HORIZON_EVENTS = IN_FLIGHT_AUCTIONS * PROPORTION / 3;
    /** Events per block of the worker split (decision 2). */
    public static final long BLOCK = 1024;

    static final String[] FIRST_NAMES = {
        "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"
    };
    static final String[] LAST_NAMES = {
        "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"
    };
    static final String[] CITIES = {
        "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle",
        "Kent", "Cheyenne"
    };
    static final String[] STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
    static final String[] HOT_CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};
    static final int CHANNELS = 10_000;

    /** Size of the extra-string pool. */
    static final int POOL_SIZE = 1 << 20;
    /** Seed of the extra-string pool. */
    static final long POOL_SEED = 20_150_715L;
    /** Seed of the channel/url tables. */
    static final long CHANNEL_SEED = 20_150_716L;

    static final byte[] POOL = new byte[POOL_SIZE];
    static final String POOL_STRING;
    static final String[] HOT_URLS = new String[HOT_CHANNELS.length];
    static final String[] CHANNEL_NAMES = new String[CHANNELS];
    static final String[] CHANNEL_URLS = new String[CHANNELS];

    static {
        JRandom r = new JRandom(POOL_SEED);
        for (int i = 0; i < POOL_SIZE; i++) {
            POOL[i] = (byte) ('a' + r.nextInt(26));
        }
        POOL_STRING = new String(POOL, java.nio.charset.StandardCharsets.ISO_8859_1);
        JRandom c = new JRandom(CHANNEL_SEED);
        for (int i = 0; i < HOT_CHANNELS.length; i++) {
            HOT_URLS[i] = baseUrl(c);
        }
        for (int i = 0; i < CHANNELS; i++) {
            CHANNEL_NAMES[i] = "channel-" + i;
            String url = baseUrl(c);
            if (c.nextInt(10) > 0) {
                url = url + "&channel_id=" + Math.abs(Integer.reverse(i));
            }
            CHANNEL_URLS[i] = url;
        }
    }

    private Nexmark() {}

    static String baseUrl(JRandom r) {
        return "https://www.nexmark.com/" + nextString(r, 5, '_') + "/" + nextString(r, 5, '_') + "/"
                + nextString(r, 5, '_') + "/item.htm?query=1";
    }

    /** Beam's nextString: 3 + nextInt(max-3) characters, `special` with p = 1/13, trimmed. */
    static String nextString(JRandom r, int max, char special) {
        int len = 3 + r.nextInt(max - 3);
        char[] cs = new char[len];
        for (int k = 0; k < len; k++) {
            cs[k] = r.nextInt(13) == 0 ? special : (char) ('a' + r.nextInt(26));
        }
        return new String(cs).trim();
    }

    /** Beam's extra-length rule; the content is a slice of the pool at a drawn offset. */
    static String nextExtra(JRandom r, int current, int avg) {
        if (current > avg) {
            return "";
        }
        int d = avg - current;
        int delta = (int) Math.round(d * 0.2);
        int len = d - delta + (delta == 0 ? 0 : r.nextInt(2 * delta));
        int off = r.nextInt(POOL_SIZE - len + 1);
        return POOL_STRING.substring(off, off + len);
    }

    static long nextPrice(JRandom r) {
        return Math.round(StrictMath.pow(10.0, r.nextDouble() * 6.0) * 100.0);
    }

    /** Timestamp of event i at eventRate events/s of event time. */
    public static long timestamp(long i, long eventRate) {
        return BASE_TIME + mulDiv(i, 1000, eventRate);
    }

    /** floor(a*b/c) without overflow for the ranges used here (a < 2^63/1000 goes the fast way). */
    static long mulDiv(long a, long b, long c) {
        if (a < Long.MAX_VALUE / b) {
            return a * b / c;
        }
        return java.math.BigInteger.valueOf(a).multiply(java.math.BigInteger.valueOf(b))
                .divide(java.math.BigInteger.valueOf(c)).longValueExact();
    }

    static long lastPerson(long id) {
        return id / PROPORTION;
    }

    static long lastAuction(long id) {
        long epoch = id / PROPORTION;
        long off = id % PROPORTION;
        if (off < 1) {
            epoch--;
            off = 2;
        } else if (off >= 4) {
            off = 2;
        } else {
            off -= 1;
        }
        return epoch * 3 + off;
    }

    static long nextPersonBase0(long id, JRandom r) {
        long people = lastPerson(id) + 1;
        long active = Math.min(people, ACTIVE_PEOPLE);
        return people - active + r.nextLongBelow(active + 10);
    }

    static long nextAuctionBase0(long id, JRandom r) {
        long max = lastAuction(id);
        long min = Math.max(max - IN_FLIGHT_AUCTIONS, 0);
        return min + r.nextLongBelow(max - min + 1 + 10);
    }

    /** Generates event {@code id} into {@code e} (its nested objects are fresh). */
    public static void generate(long id, long eventRate, JRandom r, Event e) {
        r.setSeed(JRandom.mix(id));
        long ts = timestamp(id, eventRate);
        long rem = id % PROPORTION;
        e.eventId = id;
        e.ingestNanos = 0;
        e.person = null;
        e.auction = null;
        e.bid = null;
        if (rem == 0) {
            e.kind = 0;
            e.person = person(id, ts, r);
        } else if (rem < 4) {
            e.kind = 1;
            e.auction = auction(id, ts, eventRate, r);
        } else {
            e.kind = 2;
            e.bid = bid(id, ts, r);
        }
    }

    static Event.Person person(long id, long ts, JRandom r) {
        Event.Person p = new Event.Person();
        p.id = lastPerson(id) + FIRST_PERSON_ID;
        p.name = FIRST_NAMES[r.nextInt(FIRST_NAMES.length)] + " " + LAST_NAMES[r.nextInt(LAST_NAMES.length)];
        p.emailAddress = nextString(r, 7, ' ') + "@" + nextString(r, 5, ' ') + ".com";
        StringBuilder cc = new StringBuilder(19);
        for (int k = 0; k < 4; k++) {
            if (k > 0) {
                cc.append(' ');
            }
            int n = r.nextInt(10000);
            cc.append((char) ('0' + n / 1000)).append((char) ('0' + n / 100 % 10))
                    .append((char) ('0' + n / 10 % 10)).append((char) ('0' + n % 10));
        }
        p.creditCard = cc.toString();
        p.city = CITIES[r.nextInt(CITIES.length)];
        p.state = STATES[r.nextInt(STATES.length)];
        p.dateTime = ts;
        int cur = 8 + p.name.length() + p.emailAddress.length() + p.creditCard.length() + p.city.length()
                + p.state.length();
        p.extra = nextExtra(r, cur, 200);
        return p;
    }

    static Event.Auction auction(long id, long ts, long eventRate, JRandom r) {
        Event.Auction a = new Event.Auction();
        a.id = lastAuction(id) + FIRST_AUCTION_ID;
        long seller;
        if (r.nextInt(HOT_RATIO_SELLER) > 0) {
            seller = (lastPerson(id) / 100) * 100;
        } else {
            seller = nextPersonBase0(id, r);
        }
        a.seller = seller + FIRST_PERSON_ID;
        a.category = FIRST_CATEGORY_ID + r.nextInt(5);
        a.initialBid = nextPrice(r);
        long horizon = timestamp(id + AUCTION_HORIZON_EVENTS, eventRate) - ts;
        a.expires = ts + 1 + r.nextLongBelow(Math.max(horizon * 2, 1));
        a.itemName = nextString(r, 20, ' ');
        a.description = nextString(r, 100, ' ');
        a.reserve = a.initialBid + nextPrice(r);
        a.dateTime = ts;
        int cur = 8 + a.itemName.length() + a.description.length() + 8 + 8 + 8 + 8 + 8;
        a.extra = nextExtra(r, cur, 500);
        return a;
    }

    static Event.Bid bid(long id, long ts, JRandom r) {
        Event.Bid b = new Event.Bid();
        long auction;
        if (r.nextInt(HOT_RATIO_AUCTION) > 0) {
            auction = (lastAuction(id) / 100) * 100;
        } else {
            auction = nextAuctionBase0(id, r);
        }
        b.auction = auction + FIRST_AUCTION_ID;
        long bidder;
        if (r.nextInt(HOT_RATIO_BIDDER) > 0) {
            bidder = (lastPerson(id) / 100) * 100 + 1;
        } else {
            bidder = nextPersonBase0(id, r);
        }
        b.bidder = bidder + FIRST_PERSON_ID;
        b.price = nextPrice(r);
        b.dateTime = ts;
        b.extra = nextExtra(r, 32, 100);
        if (r.nextInt(2) > 0) {
            int k = r.nextInt(HOT_CHANNELS.length);
            b.channel = HOT_CHANNELS[k];
            b.url = HOT_URLS[k];
        } else {
            int k = r.nextInt(CHANNELS);
            b.channel = CHANNEL_NAMES[k];
            b.url = CHANNEL_URLS[k];
        }
        b.eventId = id;
        return b;
    }
}
