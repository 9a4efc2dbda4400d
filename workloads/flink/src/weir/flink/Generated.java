package weir.flink;

/** Generator vectors: the first events as JSON lines (as `weir gen --format jsonl`). */
final class Generated {
    private Generated() {}

    static void print(java.util.Map<String, String> opt) {
        long n = Main.num(opt, "first", 20);
        long rate = Main.num(opt, "event-rate", 10_000_000);
        JRandom r = new JRandom(0);
        Event e = new Event();
        for (long i = 0; i < n; i++) {
            Nexmark.generate(i, rate, r, e);
            Main.emit("EVENT", json(e));
        }
        long raw = Main.num(opt, "raw-events", 1_000_000);
        Digest[] kinds = {new Digest(), new Digest(), new Digest()};
        Digest all = new Digest();
        for (long i = 0; i < raw; i++) {
            Nexmark.generate(i, rate, r, e);
            rawRow(e, all.begin());
            all.fold(1);
            rawRow(e, kinds[e.kind].begin());
            kinds[e.kind].fold(1);
        }
        String[] names = {"person", "auction", "bid"};
        for (int k = 0; k < 3; k++) {
            Main.emit("RAW", "{\"scope\":\"" + names[k] + "\",\"rows\":" + kinds[k].rows() + ",\"hash\":\""
                    + String.format("%016x%016x", kinds[k].hi(), kinds[k].lo()) + "\"}");
        }
        Main.emit("RAW", "{\"scope\":\"all\",\"rows\":" + all.rows() + ",\"hash\":\""
                + String.format("%016x%016x", all.hi(), all.lo()) + "\"}");
        Digest ysb = new Digest();
        for (long i = 0; i < raw; i++) {
            Ysb.Event y = Ysb.generate(i, rate, r);
            if (i < n) {
                Main.emit("YSB_EVENT", Ysb.json(y));
            }
            Ysb.rawRow(y, ysb.begin());
            ysb.fold(1);
        }
        Main.emit("YSB_RAW", "{\"scope\":\"all\",\"rows\":" + ysb.rows() + ",\"hash\":\""
                + String.format("%016x%016x", ysb.hi(), ysb.lo()) + "\"}");
    }

    /** The raw row of an event: its kind, then every field in DDL order. */
    static void rawRow(Event e, Digest d) {
        switch (e.kind) {
            case 0: {
                Event.Person p = e.person;
                d.string("person").integer(p.id).string(p.name).string(p.emailAddress).string(p.creditCard)
                        .string(p.city).string(p.state).integer(p.dateTime).string(p.extra);
                break;
            }
            case 1: {
                Event.Auction a = e.auction;
                d.string("auction").integer(a.id).string(a.itemName).string(a.description).integer(a.initialBid)
                        .integer(a.reserve).integer(a.dateTime).integer(a.expires).integer(a.seller)
                        .integer(a.category).string(a.extra);
                break;
            }
            default: {
                Event.Bid b = e.bid;
                d.string("bid").integer(b.auction).integer(b.bidder).integer(b.price).string(b.channel)
                        .string(b.url).integer(b.dateTime).string(b.extra);
                break;
            }
        }
    }

    static String json(Event e) {
        StringBuilder sb = new StringBuilder();
        switch (e.kind) {
            case 0: {
                Event.Person p = e.person;
                sb.append("{\"kind\":\"person\",\"id\":").append(p.id).append(",\"name\":");
                DigestSink.str(sb, p.name);
                sb.append(",\"emailAddress\":");
                DigestSink.str(sb, p.emailAddress);
                sb.append(",\"creditCard\":");
                DigestSink.str(sb, p.creditCard);
                sb.append(",\"city\":");
                DigestSink.str(sb, p.city);
                sb.append(",\"state\":");
                DigestSink.str(sb, p.state);
                sb.append(",\"dateTime\":").append(p.dateTime).append(",\"extra\":");
                DigestSink.str(sb, p.extra);
                break;
            }
            case 1: {
                Event.Auction a = e.auction;
                sb.append("{\"kind\":\"auction\",\"id\":").append(a.id).append(",\"itemName\":");
                DigestSink.str(sb, a.itemName);
                sb.append(",\"description\":");
                DigestSink.str(sb, a.description);
                sb.append(",\"initialBid\":").append(a.initialBid).append(",\"reserve\":").append(a.reserve)
                        .append(",\"dateTime\":").append(a.dateTime).append(",\"expires\":").append(a.expires)
                        .append(",\"seller\":").append(a.seller).append(",\"category\":").append(a.category)
                        .append(",\"extra\":");
                DigestSink.str(sb, a.extra);
                break;
            }
            default: {
                Event.Bid b = e.bid;
                sb.append("{\"kind\":\"bid\",\"auction\":").append(b.auction).append(",\"bidder\":").append(b.bidder)
                        .append(",\"price\":").append(b.price).append(",\"channel\":");
                DigestSink.str(sb, b.channel);
                sb.append(",\"url\":");
                DigestSink.str(sb, b.url);
                sb.append(",\"dateTime\":").append(b.dateTime).append(",\"extra\":");
                DigestSink.str(sb, b.extra);
                break;
            }
        }
        sb.append('}');
        return sb.toString();
    }
}
