package weir.flink;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The client end of the channel from a cluster job's tasks (see {@link Uplink}): a TCP listener
 * in weir's client JVM. Each TaskManager JVM of the job connects once; every frame it sends
 * replaces that connection's totals, and the hub writes the sum over all connections into this
 * JVM's {@link Stats}, so the driver's PROGRESS and RESULT lines read the same fields as in a
 * MiniCluster run. Latency samples and result rows are added as they come; window samples wait
 * until the merged watermark logs say when their window became complete.
 *
 * <p>Costs: one thread and one socket per TaskManager; a frame is ~24 bytes per worker plus the
 * deltas, 10 frames a second per TaskManager.
 */
final class Hub implements AutoCloseable {
    private final ServerSocket server;
    private final String token;
    private final int workers;
    private final boolean rows;
    private final List<Conn> conns = new ArrayList<>();
    private long[] pending = new long[256];
    private int pendingLen;
    private volatile boolean closing;

    /** One TaskManager JVM's latest totals. */
    private static final class Conn {
        final Socket socket;
        long[] events;
        long[] rowsOut;
        long[] sinkWm;
        long sourceTime = Long.MIN_VALUE;
        long late;
        long first;
        long last;
        int readers;
        int ready;
        long dRows;
        long dLo;
        long dHi;
        int published;
        int opened;
        int closed;
        final Map<Integer, Integer> slots = new HashMap<>();

        Conn(Socket socket) {
            this.socket = socket;
        }
    }

    private Hub(ServerSocket server, int workers, boolean rows) {
        this.server = server;
        this.workers = workers;
        this.rows = rows;
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        this.token = sb.toString();
    }

    /** Listens on {@code bind}:{@code port} (0 = any free port) for a job of {@code workers}. */
    static Hub open(InetAddress bind, int port, int workers, boolean rows) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        try {
            s.bind(new InetSocketAddress(bind, port), 64);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + bind.getHostAddress() + ":" + port
                    + " for the TaskManagers' reports (" + e + "); check WEIR_FLINK_CLIENT_ADDRESS", e);
        }
        Hub hub = new Hub(s, workers, rows);
        Thread t = new Thread(hub::accept, "weir-hub");
        t.setDaemon(true);
        t.start();
        return hub;
    }

    /** The address operators report to: host:port/token. */
    String target() {
        String host = server.getInetAddress().getHostAddress();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return host + ":" + server.getLocalPort() + "/" + token;
    }

    /** TaskManager JVMs connected so far. */
    synchronized int connections() {
        return conns.size();
    }

    /**
     * Waits until {@code tasks} task instances have closed (their last frames merged), at most
     * {@code timeoutMs}; then resolves the window samples that are still pending.
     *
     * @return whether they all reported
     */
    synchronized boolean awaitClosed(int tasks, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (closedTasks() < tasks) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        resolve();
        return true;
    }

    /** Task instances closed, over every TaskManager. */
    synchronized int closedTasks() {
        int n = 0;
        for (Conn c : conns) {
            n += c.closed;
        }
        return n;
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        synchronized (this) {
            for (Conn c : conns) {
                try {
                    c.socket.close();
                } catch (IOException e) {
                    // already closed
                }
            }
        }
    }

    private void accept() {
        while (!closing) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "weir-hub-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            if (in.readInt() != Uplink.MAGIC || in.readInt() != Uplink.VERSION || !token.equals(in.readUTF())) {
                out.writeInt(1);
                out.flush();
                return;
            }
            out.writeInt(0);
            out.writeInt(workers);
            out.writeBoolean(rows);
            out.flush();
            for (int k = 0; k < Uplink.PINGS; k++) {
                in.readLong();
                out.writeLong(System.nanoTime());
                out.flush();
            }
            Conn c = new Conn(s);
            synchronized (this) {
                conns.add(c);
            }
            while (true) {
                frame(c, in);
                out.writeBoolean(Stats.stop);
                out.writeInt(Stats.READY.get());
                out.flush();
            }
        } catch (EOFException e) {
            // the TaskManager's uplink ended
        } catch (IOException e) {
            if (!closing) {
                System.err.println("weir: lost a TaskManager's report channel: " + e);
            }
        }
    }

    private void frame(Conn c, DataInputStream in) throws IOException {
        int w = in.readInt();
        long[] events = longs(in, w);
        long[] rowsOut = longs(in, w);
        long[] sinkWm = longs(in, w);
        long sourceTime = in.readLong();
        long late = in.readLong();
        long first = in.readLong();
        long last = in.readLong();
        int readers = in.readInt();
        int ready = in.readInt();
        long dRows = in.readLong();
        long dLo = in.readLong();
        long dHi = in.readLong();
        int published = in.readInt();
        int opened = in.readInt();
        int closed = in.readInt();
        long[] lat = longs(in, in.readInt());
        int nWm = in.readInt();
        int[] wmSlot = new int[nWm];
        long[] wm = new long[2 * nWm];
        for (int k = 0; k < nWm; k++) {
            wmSlot[k] = in.readInt();
            wm[2 * k] = in.readLong();
            wm[2 * k + 1] = in.readLong();
        }
        long[] samples = longs(in, 2 * in.readInt());
        int nRows = in.readInt();
        byte[] rowBytes = new byte[in.readInt()];
        in.readFully(rowBytes);
        if (nRows > 0) {
            writeRows(nRows, rowBytes);
        }
        synchronized (this) {
            c.events = events;
            c.rowsOut = rowsOut;
            c.sinkWm = sinkWm;
            c.sourceTime = sourceTime;
            c.late = late;
            c.first = first;
            c.last = last;
            c.readers = readers;
            c.ready = ready;
            c.dRows = dRows;
            c.dLo = dLo;
            c.dHi = dHi;
            c.published = published;
            c.opened = opened;
            c.closed = closed;
            Stats.addLatency(lat, lat.length);
            for (int k = 0; k < nWm; k++) {
                int slot = c.slots.computeIfAbsent(wmSlot[k], x -> Stats.registerWatermarkSource());
                Stats.watermarkEmitted(slot, wm[2 * k], wm[2 * k + 1]);
            }
            merge();
            if (pendingLen + samples.length > pending.length) {
                pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLen + samples.length));
            }
            System.arraycopy(samples, 0, pending, pendingLen, samples.length);
            pendingLen += samples.length;
            resolve();
            notifyAll();
        }
    }

    private static long[] longs(DataInputStream in, int n) throws IOException {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = in.readLong();
        }
        return a;
    }

    private static void writeRows(int n, byte[] bytes) throws IOException {
        DataInputStream r = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
        for (int k = 0; k < n; k++) {
            int sign = r.readByte();
            byte[] b = new byte[r.readInt()];
            r.readFully(b);
            Output.write(new String(b, StandardCharsets.UTF_8), sign);
        }
    }

    /** Writes the sums over every connection into Stats. Caller holds the lock. */
    private void merge() {
        long sourceTime = Long.MIN_VALUE;
        long late = 0;
        long first = 0;
        long last = 0;
        int readers = 0;
        int ready = 0;
        long dRows = 0;
        long dLo = 0;
        long dHi = 0;
        int published = 0;
        long[] events = new long[workers];
        long[] rowsOut = new long[workers];
        long[] sinkWm = new long[workers];
        java.util.Arrays.fill(sinkWm, Long.MIN_VALUE);
        for (Conn c : conns) {
            if (c.events == null) {
                continue;
            }
            for (int i = 0; i < workers && i < c.events.length; i++) {
                events[i] += c.events[i];
                rowsOut[i] += c.rowsOut[i];
                sinkWm[i] = Math.max(sinkWm[i], c.sinkWm[i]);
            }
            sourceTime = Math.max(sourceTime, c.sourceTime);
            late += c.late;
            if (c.first != 0) {
                first = first == 0 ? c.first : Math.min(first, c.first);
            }
            last = Math.max(last, c.last);
            readers += c.readers;
            ready += c.ready;
            dRows += c.dRows;
            long lo = dLo + c.dLo;
            dHi += c.dHi + (Long.compareUnsigned(lo, dLo) < 0 ? 1 : 0);
            dLo = lo;
            published += c.published;
        }
        for (int i = 0; i < workers; i++) {
            Stats.EVENTS.set(i, events[i]);
            Stats.ROWS_OUT.set(i, rowsOut[i]);
            Stats.SINK_WATERMARK.set(i, sinkWm[i]);
        }
        Stats.SOURCE_TIME.set(sourceTime);
        Stats.LATE.set(late);
        Stats.FIRST_SOURCE_NANOS.set(first);
        Stats.LAST_SINK_NANOS.set(last);
        Stats.READERS.set(readers);
        Stats.READY.set(ready);
        Stats.setDigest(dRows, dLo, dHi, published);
    }

    /** Turns the window samples whose window is complete into latency samples. Caller holds the lock. */
    private void resolve() {
        int kept = 0;
        long[] lat = new long[pendingLen / 2];
        int n = 0;
        long[] endLat = new long[pendingLen / 2];
        int ends = 0;
        for (int k = 0; k < pendingLen; k += 2) {
            long at = Stats.completeAt(pending[k]);
            if (at != 0 && Stats.completedByEnd(pending[k])) {
                endLat[ends++] = Math.max(pending[k + 1] - at, 1);
            } else if (at != 0) {
                lat[n++] = Math.max(pending[k + 1] - at, 1);
            } else {
                pending[kept++] = pending[k];
                pending[kept++] = pending[k + 1];
            }
        }
        pendingLen = kept;
        Stats.addLatency(lat, n);
        Stats.addEndLatency(endLat, ends);
    }
}
