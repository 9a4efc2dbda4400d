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
