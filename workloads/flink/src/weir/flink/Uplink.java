package weir.flink;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The TaskManager end of the channel that carries a cluster job's figures back to weir's client
 * JVM, where {@link Hub} is the other end (docs/SCALING.md explains the choice).
 *
 * <p><b>In the client</b>, while the job graph is built, every source and sink takes the hub's
 * address ({@link #forOperator()}, a serialized field), and the number of such operators is
 * counted: operators x parallelism is the number of task instances that must report before
 * the result is final.
 *
 * <p><b>In a TaskManager</b>, the first source reader or sink writer of the job opens the
 * connection ({@link #open}), synchronously, and measures its clock's offset to the client's
 * (the best of 8 round trips), so every time taken afterwards ({@link Stats#now()}) is on the
 * client's clock. A daemon thread then sends this JVM's {@link Stats} every 100 ms; a task that
 * closes sends one frame at once, so the last task's frame carries the final digest before the
 * task (and so the job) finishes. Each frame is answered with the stop flag and the job's count
 * of ready replay readers. Counters travel as totals (idempotent); latency samples, watermark
 * log entries, window samples and result rows travel once, as deltas. If the client stops
 * answering, the sources fail the job ({@link #check()}), so a job never outlives its client.
 *
 * <p>Wire format, DataOutputStream (big-endian). Handshake: uplink sends int {@link #MAGIC},
 * int {@link #VERSION}, UTF token; the hub answers int status (0 ok), int workers, boolean
 * rows-wanted; then 8 pings (uplink: long 0; hub: long nanoTime). Frames: see {@link #send()}.
 */
final class Uplink {
    static final int MAGIC = 0x57454952;
    static final int VERSION = 1;
    static final int PINGS = 8;
    /** Result rows buffered before a sink sends them itself (back-pressure on the sink). */
    private static final int ROW_BYTES = 1 << 20;

    // ---- client side, while the job graph is built ----

    private static String target;
    private static int operators;

    /** Sets the hub address ("host:port/token") that operators built from now on report to. */
    static synchronized void target(String hub) {
        target = hub;
        operators = 0;
    }

    /** The hub address for an operator being built (null in the MiniCluster); counts it. */
    static synchronized String forOperator() {
        if (target != null) {
            operators++;
        }
        return target;
    }

    /** Operators built since {@link #target} that report to the hub. */
    static synchronized int operators() {
        return operators;
    }

    // ---- TaskManager side ----

    private static volatile Uplink current;
    private static volatile boolean connected;
    private static volatile boolean rows;
    private static volatile String failure;

    private final String hub;
    private final Socket socket;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final int workers;
    private int opened;
    private int closed;
    private final int[][] wmCursor = {new int[8]};
    private long[] pending = new long[256];
    private int pendingLen;
    private final ByteArrayOutputStream rowBytes = new ByteArrayOutputStream();
    private final DataOutputStream rowOut = new DataOutputStream(rowBytes);
    private int rowCount;

    private Uplink(String hub, Socket socket, int workers) throws IOException {
        this.hub = hub;
        this.socket = socket;
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.workers = workers;
    }

    /** Whether this JVM reports to a client (a TaskManager of a cluster job). */
    static boolean connected() {
        return connected;
    }

    /** Whether the client asked for the result rows (--output). */
    static boolean wantsRows() {
        return rows;
    }

    /**
     * Registers a task instance of the job in this JVM, connecting to the hub first if this is
     * the job's first; no-op when {@code hub} is null (MiniCluster).
     */
    static void open(String hub) throws IOException {
        if (hub == null) {
            return;
        }
        Uplink u;
        synchronized (Uplink.class) {
            if (current == null) {
                current = connect(hub);
                Thread t = new Thread(current::loop, "weir-uplink");
                t.setDaemon(true);
                t.start();
            }
            u = current;
        }
        synchronized (u) {
            u.opened++;
        }
    }

    /** A task instance closed: counts it and sends a frame now (the last one carries the end). */
    static void close() {
        Uplink u;
        synchronized (Uplink.class) {
            u = current;
        }
        if (u == null) {
            return;
        }
        synchronized (u) {
            u.closed++;
            try {
                u.send();
            } catch (IOException e) {
                failure = u.lost(e);
            }
        }
    }

    /** Throws when the client stopped answering (called by the sources, which then fail the job). */
    static void check() {
        String f = failure;
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    /** A window result's sample: the row left the sink at {@code nanos}; {@code t} = window end - 1. */
    static void windowSample(long t, long nanos) {
        Uplink u = current;
        synchronized (u) {
            if (u.pendingLen + 2 > u.pending.length) {
                u.pending = java.util.Arrays.copyOf(u.pending, u.pending.length * 2);
            }
            u.pending[u.pendingLen++] = t;
            u.pending[u.pendingLen++] = nanos;
        }
    }

    /** A result row for the client's --output file (+1 insert, -1 retraction). */
    static void row(CharSequence json, int sign) throws IOException {
        Uplink u = current;
        synchronized (u) {
            byte[] b = json.toString().getBytes(StandardCharsets.UTF_8);
            u.rowOut.writeByte(sign);
            u.rowOut.writeInt(b.length);
            u.rowOut.write(b);
            u.rowCount++;
            if (u.rowBytes.size() >= ROW_BYTES) {
                u.send();
            }
        }
    }

    private static Uplink connect(String hub) throws IOException {
        int slash = hub.lastIndexOf('/');
        int colon = hub.lastIndexOf(':', slash);
        String host = hub.substring(0, colon);
        int port = Integer.parseInt(hub.substring(colon + 1, slash));
        String token = hub.substring(slash + 1);
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 10_000);
            s.setSoTimeout(60_000);
        } catch (IOException e) {
            s.close();
            throw new IOException("this TaskManager cannot reach weir's client at " + host + ":" + port + " (" + e
                    + "): the TaskManagers must be able to open TCP connections to the machine that runs weir; "
                    + "set WEIR_FLINK_CLIENT_ADDRESS=HOST[:PORT] on that machine to an address they can reach", e);
        }
        try {
            DataOutputStream o = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            DataInputStream i = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            o.writeInt(MAGIC);
            o.writeInt(VERSION);
            o.writeUTF(token);
            o.flush();
            if (i.readInt() != 0) {
                throw new IOException("weir's client at " + host + ":" + port + " refused this job's token");
            }
            int workers = i.readInt();
            rows = i.readBoolean();
            long best = Long.MAX_VALUE;
            long offset = 0;
            for (int k = 0; k < PINGS; k++) {
                long t0 = System.nanoTime();
                o.writeLong(0);
                o.flush();
                long there = i.readLong();
                long t1 = System.nanoTime();
                if (t1 - t0 < best) {
                    best = t1 - t0;
                    offset = there - (t0 + (t1 - t0) / 2);
                }
            }
            Stats.clockOffset = offset;
            connected = true;
            return new Uplink(hub, s, workers);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    private String lost(IOException e) {
        return "weir's client at " + hub.substring(0, hub.lastIndexOf('/')) + " stopped answering (" + e
                + "); the job is failed so that it does not run on without it";
    }

    private void loop() {
        while (true) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                try {
                    send();
                } catch (IOException e) {
                    // After the job's last task closed, the client hangs up: that is the end.
                    if (opened == 0 || opened != closed) {
                        failure = lost(e);
                    }
                    closeQuietly();
                    return;
                }
            }
        }
    }

    private void closeQuietly() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    /**
     * One frame: int W; long[W] events, rows, sink watermarks; long source time, late, first
     * source start, last sink end; int readers, ready; long digest rows, lo, hi; int digests
     * published; int tasks opened, closed; int n + long[n] latency samples; int n + n x (int
     * slot, long wm, long nanos) watermark log entries; int n + n x (long t, long nanos) window
     * samples; int rows + int bytes + rows as (byte sign, int length, UTF-8). Caller holds the
     * lock.
     */
    private void send() throws IOException {
        int w = workers;
        out.writeInt(w);
        for (int i = 0; i < w; i++) {
            out.writeLong(Stats.EVENTS.get(i));
        }
        for (int i = 0; i < w; i++) {
            out.writeLong(Stats.ROWS_OUT.get(i));
        }
        for (int i = 0; i < w; i++) {
            out.writeLong(Stats.SINK_WATERMARK.get(i));
        }
        out.writeLong(Stats.SOURCE_TIME.get());
        out.writeLong(Stats.LATE.get());
        out.writeLong(Stats.FIRST_SOURCE_NANOS.get());
        out.writeLong(Stats.LAST_SINK_NANOS.get());
        out.writeInt(Stats.READERS.get());
        out.writeInt(Stats.READY.get());
        long[] d = Stats.digest();
        out.writeLong(d[0]);
        out.writeLong(d[1]);
        out.writeLong(d[2]);
        out.writeInt((int) d[3]);
        out.writeInt(opened);
        out.writeInt(closed);
        long[] lat = Stats.drainLatency();
        out.writeInt(lat.length);
        for (long v : lat) {
            out.writeLong(v);
        }
        long[] wm = Stats.takeWatermarks(wmCursor);
        out.writeInt(wm.length / 3);
        for (int k = 0; k < wm.length; k += 3) {
            out.writeInt((int) wm[k]);
            out.writeLong(wm[k + 1]);
            out.writeLong(wm[k + 2]);
        }
        out.writeInt(pendingLen / 2);
        for (int k = 0; k < pendingLen; k++) {
            out.writeLong(pending[k]);
        }
        pendingLen = 0;
        out.writeInt(rowCount);
        out.writeInt(rowBytes.size());
        rowBytes.writeTo(out);
        rowBytes.reset();
        rowCount = 0;
        out.flush();
        boolean stop = in.readBoolean();
        int ready = in.readInt();
        if (stop) {
            Stats.stop = true;
        }
        Stats.jobReady = ready;
    }
}
