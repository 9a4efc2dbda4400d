package weir.flink;

/**
 * One Nexmark event: exactly one of {@link #person}, {@link #auction}, {@link #bid} is set.
 * Public fields and no-argument constructors make these Flink POJOs (PojoSerializer), the
 * cheapest serializer Flink offers for records that cross a network channel.
 */
public class Event {
    /** 0 person, 1 auction, 2 bid. */
    public int kind;
    /** Position on the logical timeline (docs/WORKLOADS.md 3.1). */
    public long eventId;
    /** Wall-clock ingestion time (System.nanoTime) for the latency sample, or 0. */
    public long ingestNanos;
    /** Set when kind = 0. */
    public Person person;
    /** Set when kind = 1. */
    public Auction auction;
    /** Set when kind = 2. */
    public Bid bid;

    /** For Flink's POJO serializer. */
    public Event() {}

    /** Sets the ingestion time of a latency-sampled event (and of its bid). */
    public void stamp(long ns) {
        ingestNanos = ns;
        if (bid != null) {
            bid.ingestNanos = ns;
        }
    }

    /** The event's timestamp (epoch ms). */
    public long dateTime() {
        switch (kind) {
            case 0:
                return person.dateTime;
            case 1:
                return auction.dateTime;
            default:
                return bid.dateTime;
        }
    }

    /** A person. */
    public static class Person {
        public long id;
        public String name;
        public String emailAddress;
        public String creditCard;
        public String city;
        public String state;
        public long dateTime;
        public String extra;

        public Person() {}
    }

    /** An auction. */
    public static class Auction {
        public long id;
        public String itemName;
        public String description;
        public long initialBid;
        public long reserve;
        public long dateTime;
        public long expires;
        public long seller;
        public long category;
        public String extra;

        public Auction() {}
    }

    /** A bid. */
    public static class Bid {
        public long auction;
        public long bidder;
        public long price;
        public String channel;
        public String url;
        public long dateTime;
        public String extra;
        /** Hidden: the event id (tie-breaks). */
        public long eventId;
        /** Hidden: wall-clock ingestion time of a latency-sampled event, else 0. */
        public long ingestNanos;

        public Bid() {}
    }
}
