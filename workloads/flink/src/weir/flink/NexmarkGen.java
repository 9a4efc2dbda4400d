package weir.flink;

/** The Nexmark generator as a {@link GenSource.Gen}: one fresh Event per id. */
public final class NexmarkGen implements GenSource.Gen<Event> {
    private static final long serialVersionUID = 1L;
    private final long eventRate;
    private transient JRandom random;

    /** Events per second of event time. */
    public NexmarkGen(long eventRate) {
        this.eventRate = eventRate;
    }

    @Override
    public Event make(long id, long ingestNanos) {
        if (random == null) {
            random = new JRandom(0);
        }
        Event e = new Event();
        Nexmark.generate(id, eventRate, random, e);
        e.stamp(ingestNanos);
        return e;
    }

    @Override
    public void stamp(Event e, long ingestNanos) {
        e.stamp(ingestNanos);
    }

    @Override
    public GenSource.Gen<Event> copy() {
        return new NexmarkGen(eventRate);
    }
}
