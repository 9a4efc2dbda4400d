package weir.flink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Nexmark events from a file ({@code --input FILE}), JSON lines or CSV exactly as {@code weir gen
 * nexmark} writes them (docs/WORKLOADS.md 4.5 and 4.6): the form is told by the first character
 * ({@code '{'}: JSON lines). The file stands for the generator's timeline: an event's id is its
 * position in the file from 0 (a bid's {@code eventId} too), each source subtask takes the ids
 * of the generator's split ({@link GenSource}: blocks of 1024 round-robin), and the record
 * timestamp is the event's {@code dateTime}, so the watermarks follow the same rule as for
 * generated events.
 *
 * <p>The whole file is parsed and checked before the job is built ({@link #load}): one event a
 * line with every field of its kind, integers non-negative whole numbers, {@code dateTime} never
 * smaller than the line before's, auction ids unique, bid prices small enough for {@code price *
 * 908}. The first fault is an error naming the file and the line. The events stay in memory for
 * the job; each source hands out copies (queries may change an event in place).
 */
public final class EventFile {
    private EventFile() {}

    /** The largest bid price: price * 908 (q1, q14) must fit a signed 64-bit integer. */
    static final long MAX_BID_PRICE = Long.MAX_VALUE / 908;

    private static final String[][] FIELDS = {
        {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"},
        {"id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category", "extra"},
        {"auction", "bidder", "price", "channel", "url", "dateTime", "extra"},
    };
    private static final String[] KINDS = {"person", "auction", "bid"};

    /** The file's events, in file order (event id = index); null until {@link #load}. */
    private static volatile Event[] loaded;

    /** Parses and checks the file; the events are then what every source of this JVM reads. */
    static int load(String path) {
        String text;
        try {
            text = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot read it: " + e);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<Event> events = new ArrayList<>();
        Checks checks = new Checks();
        if (text.startsWith("{")) {
            ObjectMapper json = new ObjectMapper();
            String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            String[] lines = body.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
                try {
                    events.add(checks.check(fromJson(json, line)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(path + ": line " + (i + 1) + ": " + e.getMessage());
                }
            }
        } else {
            Csv csv = new Csv(text);
            try {
                for (List<String> f = csv.next(); f != null; f = csv.next()) {
                    try {
                        events.add(checks.check(fromCsv(f)));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(path + ": line " + csv.recordLine + ": " + e.getMessage());
                    }
                }
            } catch (Csv.BadRecord e) {
                throw new IllegalArgumentException(path + ": line " + e.line + ": " + e.getMessage());
            }
        }
        if (events.isEmpty()) {
            throw new IllegalArgumentException(path + ": the file holds no events");
        }
        Event[] all = events.toArray(new Event[0]);
        for (int id = 0; id < all.length; id++) {
            all[id].eventId = id;
            if (all[id].bid != null) {
                all[id].bid.eventId = id;
            }
        }
        loaded = all;
        return all.length;
    }

    /** What holds across lines: non-decreasing dateTime, unique auction ids. */
    private static final class Checks {
        private long lastTime;
        private final Set<Long> auctions = new HashSet<>();

        Event check(Event e) {
            long t = e.dateTime();
            if (t < lastTime) {
                throw new IllegalArgumentException("dateTime " + t + " is before the previous event's " + lastTime
                        + ": event times must not decrease from one line to the next (the generator's timeline;"
                        + " sort the file by dateTime)");
            }
            lastTime = t;
            if (e.kind == 1 && !auctions.add(e.auction.id)) {
                throw new IllegalArgumentException("auction id " + e.auction.id
                        + " appears a second time (auction ids are unique)");
            }
            if (e.kind == 2 && e.bid.price > MAX_BID_PRICE) {
                throw new IllegalArgumentException("price " + e.bid.price + " is larger than " + MAX_BID_PRICE
                        + ": price * 908 (q1 and q14) must fit a 64-bit signed integer");
            }
            return e;
        }
    }

    private static int kind(String k) {
        for (int i = 0; i < KINDS.length; i++) {
            if (KINDS[i].equals(k)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown kind '" + k + "': a line starts with person, auction or bid");
    }

    private static Event fromCsv(List<String> f) {
        if (f.size() == 1 && f.get(0).isEmpty()) {
            throw new IllegalArgumentException(
                    "the line is empty (every line holds one event: event ids are line positions)");
        }
        int kind = kind(f.get(0));
        String[] names = FIELDS[kind];
        if (f.size() - 1 != names.length) {
            throw new IllegalArgumentException("a " + KINDS[kind] + " has " + names.length + " fields after its kind ("
                    + String.join(",", names) + "), this line has " + (f.size() - 1));
        }
        Object[] v = new Object[names.length];
        for (int i = 0; i < names.length; i++) {
            v[i] = f.get(i + 1);
        }
        return build(kind, v);
    }

    private static Event fromJson(ObjectMapper json, String line) {
        if (line.isEmpty()) {
            throw new IllegalArgumentException(
                    "the line is empty (every line holds one event: event ids are line positions)");
        }
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a JSON object of an event (" + e.getMessage().split("\n")[0]
                    + "); lines are as `weir gen nexmark` prints them");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object of an event; lines are as `weir gen nexmark` prints them");
        }
        JsonNode k = node.get("kind");
        if (k == null || !k.isTextual()) {
            throw new IllegalArgumentException("the object has no string \"kind\" (person, auction or bid)");
        }
        int kind = kind(k.asText());
        String[] names = FIELDS[kind];
        Object[] v = new Object[names.length];
        for (int i = 0; i < names.length; i++) {
            JsonNode n = node.get(names[i]);
            if (n == null) {
                throw new IllegalArgumentException("a " + KINDS[kind] + " needs the field \"" + names[i] + "\"");
            }
            v[i] = n.isTextual() ? n.asText() : n;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            String name = it.next().getKey();
            if (!name.equals("kind") && !java.util.Arrays.asList(names).contains(name)) {
                throw new IllegalArgumentException("a " + KINDS[kind] + " has no field \"" + name + "\"");
            }
        }
        return build(kind, v);
    }

    /** An integer field: CSV text or a JSON number, a non-negative 64-bit integer. */
    private static long integer(String name, Object v) {
        if (v instanceof JsonNode) {
            JsonNode n = (JsonNode) v;
            if (n.isIntegralNumber() && n.canConvertToLong() && n.asLong() >= 0) {
                return n.asLong();
            }
            throw new IllegalArgumentException(name + " must be a non-negative whole number that fits a 64-bit signed"
                    + " integer, got " + n);
        }
        String s = (String) v;
        if (!s.matches("[0-9]{1,19}")) {
            throw new IllegalArgumentException(name + " must be a non-negative whole number, got '" + s + "'");
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + s + " is larger than a 64-bit signed integer holds");
        }
    }

    private static String string(String name, Object v) {
        if (v instanceof String) {
            return (String) v;
        }
        throw new IllegalArgumentException(name + " must be a string, got " + v);
    }

    private static Event build(int kind, Object[] v) {
        String[] n = FIELDS[kind];
        Event e = new Event();
        e.kind = kind;
        switch (kind) {
            case 0: {
                Event.Person p = new Event.Person();
                p.id = integer(n[0], v[0]);
                p.name = string(n[1], v[1]);
                p.emailAddress = string(n[2], v[2]);
                p.creditCard = string(n[3], v[3]);
                p.city = string(n[4], v[4]);
                p.state = string(n[5], v[5]);
                p.dateTime = integer(n[6], v[6]);
                p.extra = string(n[7], v[7]);
                e.person = p;
                break;
            }
            case 1: {
                Event.Auction a = new Event.Auction();
                a.id = integer(n[0], v[0]);
                a.itemName = string(n[1], v[1]);
                a.description = string(n[2], v[2]);
                a.initialBid = integer(n[3], v[3]);
                a.reserve = integer(n[4], v[4]);
                a.dateTime = integer(n[5], v[5]);
                a.expires = integer(n[6], v[6]);
                a.seller = integer(n[7], v[7]);
                a.category = integer(n[8], v[8]);
                a.extra = string(n[9], v[9]);
                e.auction = a;
                break;
            }
            default: {
                Event.Bid b = new Event.Bid();
                b.auction = integer(n[0], v[0]);
                b.bidder = integer(n[1], v[1]);
                b.price = integer(n[2], v[2]);
                b.channel = string(n[3], v[3]);
                b.url = string(n[4], v[4]);
                b.dateTime = integer(n[5], v[5]);
                b.extra = string(n[6], v[6]);
                e.bid = b;
                break;
            }
        }
        return e;
    }

    /** The file's events as a {@link GenSource.Gen}: event {@code id} is a copy of line {@code id}. */
    static final class Gen implements GenSource.Gen<Event> {
        private static final long serialVersionUID = 1L;

        @Override
        public Event make(long id, long ingestNanos) {
            Event[] all = loaded;
            if (all == null) {
                throw new IllegalStateException("the --input file was not loaded in this JVM (a Flink cluster cannot"
                        + " read weir's --input: run on the local MiniCluster)");
            }
            Event src = all[(int) id];
            Event e = new Event();
            e.kind = src.kind;
            e.eventId = src.eventId;
            if (src.person != null) {
                Event.Person p = new Event.Person();
                Event.Person s = src.person;
                p.id = s.id;
                p.name = s.name;
                p.emailAddress = s.emailAddress;
                p.creditCard = s.creditCard;
                p.city = s.city;
                p.state = s.state;
                p.dateTime = s.dateTime;
                p.extra = s.extra;
                e.person = p;
            } else if (src.auction != null) {
                Event.Auction a = new Event.Auction();
                Event.Auction s = src.auction;
                a.id = s.id;
                a.itemName = s.itemName;
                a.description = s.description;
                a.initialBid = s.initialBid;
                a.reserve = s.reserve;
                a.dateTime = s.dateTime;
                a.expires = s.expires;
                a.seller = s.seller;
                a.category = s.category;
                a.extra = s.extra;
                e.auction = a;
            } else {
                Event.Bid b = new Event.Bid();
                Event.Bid s = src.bid;
                b.auction = s.auction;
                b.bidder = s.bidder;
                b.price = s.price;
                b.channel = s.channel;
                b.url = s.url;
                b.dateTime = s.dateTime;
                b.extra = s.extra;
                b.eventId = s.eventId;
                e.bid = b;
            }
            e.stamp(ingestNanos);
            return e;
        }

        @Override
        public void stamp(Event e, long ingestNanos) {
            e.stamp(ingestNanos);
        }

        @Override
        public long timestamp(Event e, long id, long eventRate) {
            return e.dateTime();
        }

        @Override
        public GenSource.Gen<Event> copy() {
            return new Gen();
        }
    }
}
