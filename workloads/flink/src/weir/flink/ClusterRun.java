package weir.flink;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code run --cluster HOST:PORT --jar JAR}: the job on a Flink cluster (a standalone session
 * cluster's REST address), from weir's client JVM (docs/SCALING.md).
 *
 * <p>The job graph is built here exactly as for the MiniCluster and submitted with Flink's
 * remote environment, which uploads the job jar; restarts are off (a restarted task would count
 * its events twice). The tasks report to this JVM's {@link Hub}. The job's end is Flink's
 * result (a failure carries the cluster's exception); the figures are final once every source
 * and sink instance has sent its last frame. Busy, idle and back-pressured times come from the
 * REST API's per-subtask I/O metrics, polled every second (they are as fresh as the
 * JobManager's metric fetcher, 10 s by default, 1 s on clusters started by
 * scripts/flink-cluster.sh). The same poll reads the job's vertices (names, inputs and ship
 * strategies from {@code plan}) and per subtask their {@code read-records}, {@code write-records}
 * and {@code accumulated-busy-time} for the progress lines' vertices ({@link Vertices}); those
 * details carry no output buffer usage (the per-subtask metrics endpoint would; not read), so the
 * dataflow view shows no exchange fill there.
 *
 * <p>The job never outlives the client when it can help it: a stop request that does not end
 * the job within {@link #STOP_GRACE_S} s, a failure of the client, the end of stdin (weir gone)
 * and a JVM shutdown all cancel it.
 */
final class ClusterRun {
    /** How long a stopped job may take to drain before it is cancelled. */
    static final long STOP_GRACE_S = 60;
    /** How long after the job finished its tasks' last frames may take to arrive. */
    static final long REPORT_WAIT_MS = 30_000;

    private static volatile ClusterRun active;

    private final String host;
    private final int port;
    private final String jar;
    private final Hub hub;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private volatile JobClient job;
    private volatile boolean done;
    private String flinkVersion = Main.FLINK_VERSION;
    private long[][] times;
    /** Per vertex id, the last {records in, records out, busy ms}[subtask] read (kept monotonic). */
    private Map<String, long[][]> vertexFigures = new HashMap<>();
    /** Whether the job's vertices were read ({@link #readGraph}). */
    private boolean graphRead;

    private ClusterRun(String host, int port, String jar, Hub hub) {
        this.host = host;
        this.port = port;
        this.jar = jar;
        this.hub = hub;
    }

    /**
     * Prepares a run on the cluster whose REST API is at {@code address} (host:port): checks the
     * jar, and opens the hub on the address this machine uses to reach the cluster (or
     * WEIR_FLINK_CLIENT_ADDRESS=HOST[:PORT]).
     */
    static ClusterRun connect(String address, String jar, int workers, boolean rows) throws IOException {
        String[] hp = hostPort(address);
        if (hp[1] == null) {
            throw new IllegalArgumentException("--cluster must be HOST:PORT (the REST address), got '" + address + "'");
        }
        String host = hp[0];
        int port = port(hp[1], "--cluster " + address);
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalArgumentException("the job jar '" + jar + "' does not exist: run scripts/setup-flink.sh");
        }
        InetAddress bind;
        int hubPort = 0;
        String override = System.getenv("WEIR_FLINK_CLIENT_ADDRESS");
        if (override != null && !override.isBlank()) {
            String[] o = hostPort(override.trim());
            bind = InetAddress.getByName(o[0]);
            hubPort = o[1] == null ? 0 : port(o[1], "WEIR_FLINK_CLIENT_ADDRESS=" + override);
        } else {
            // The interface this machine uses to reach the cluster is the one the TaskManagers can reach.
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(host, port), 10_000);
                bind = probe.getLocalAddress();
            } catch (IOException e) {
                throw new IOException("cannot reach the Flink cluster's REST address " + address + " (" + e
                        + "); start one with scripts/flink-cluster.sh start, or check --flink-cluster", e);
            }
        }
        return new ClusterRun(host, port, jar, Hub.open(bind, hubPort, workers, rows));
    }

    /** {host, port or null} of "host", "host:port", "[v6]" or "[v6]:port" (a bare v6 has no port). */
    static String[] hostPort(String s) {
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            String host = s.substring(1, Math.max(1, end));
            String rest = end < 0 ? "" : s.substring(end + 1);
            return new String[] {host, rest.startsWith(":") ? rest.substring(1) : null};
        }
        int colon = s.indexOf(':');
        if (colon > 0 && colon == s.lastIndexOf(':')) {
            return new String[] {s.substring(0, colon), s.substring(colon + 1)};
        }
        return new String[] {s, null};
    }

    private static int port(String text, String what) {
        try {
            int p = Integer.parseInt(text);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + ": '" + text + "' is not a port (0-65535)");
    }

    /** Flink's version on the cluster. */
    String flinkVersion() {
        return flinkVersion;
    }

    /** Builds, submits and follows one job; returns when its figures are final. */
    void run(String workload, String query, int workers, long events, long eventRate, long rate) throws Exception {
        active = this;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> cancel("the client JVM is shutting down"), "weir-cancel"));
        JsonNode overview = get("/overview");
        if (overview != null && overview.hasNonNull("flink-version")) {
            flinkVersion = overview.get("flink-version").asText();
        }
        Stats.reset();
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "disable");
        conf.set(RestOptions.RETRY_MAX_ATTEMPTS, 3);
        conf.set(RestOptions.RETRY_DELAY, Duration.ofSeconds(1));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(host, port, conf, jar);
        env.setParallelism(workers);
        env.getConfig().enableObjectReuse();
        Uplink.target(hub.target());
        int tasks;
        try {
            Main.build(env, workload, query, events, eventRate, rate);
            tasks = Uplink.operators() * workers;
        } finally {
            Uplink.target(null);
        }
        JobClient client = env.executeAsync("weir " + workload + " " + query);
        job = client;
        String id = client.getJobID().toHexString();
        StringBuilder sb = new StringBuilder("{\"job_id\":\"").append(id).append("\",\"cluster\":");
        DigestSink.str(sb, host + ":" + port);
        Main.emit("SUBMITTED", sb.append('}'));
        Thread poller = new Thread(() -> pollTimes(id, workers), "weir-task-times");
        poller.setDaemon(true);
        poller.start();
        try {
            await(client, id);
            if (!hub.awaitClosed(tasks, REPORT_WAIT_MS)) {
                throw new IllegalStateException("the job finished on the cluster, but only " + hub.closedTasks() + " of its "
                        + tasks + " source and sink instances reported to weir within " + REPORT_WAIT_MS / 1000
                        + " s (" + hub.connections() + " TaskManagers connected); the result would be incomplete");
            }
            int published = Stats.digestsPublished();
            if (published != workers) {
                throw new IllegalStateException("the job finished on the cluster, but " + published + " of its " + workers
                        + " sink subtasks published a digest");
            }
            done = true;
            poller.interrupt();
            poller.join();
            readTimes(id, workers);
        } finally {
            done = true;
            hub.close();
            active = null;
        }
    }

    private void await(JobClient client, String id) throws Exception {
        CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
        long stopped = 0;
        while (true) {
            try {
                result.get(100, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                if (Stats.stop && stopped == 0) {
                    stopped = System.nanoTime();
                }
                if (stopped != 0 && System.nanoTime() - stopped > STOP_GRACE_S * 1_000_000_000L) {
                    cancel("it did not end within " + STOP_GRACE_S + " s of the stop request");
                    throw new IllegalStateException("the job did not end within " + STOP_GRACE_S
                            + " s of the stop request, so it was cancelled on the cluster");
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new IllegalStateException("the job failed on the Flink cluster at " + host + ":" + port
                        + " (job " + id + "; Flink's web UI shows it at http://" + host + ":" + port + "/#/job/completed/"
                        + id + "/exceptions)", cause);
            }
        }
    }

    /** Cancels the running job of this JVM, if any (on a failure, a stop timeout, weir's exit). */
    static void cancelActive(String why) {
        ClusterRun r = active;
        if (r != null) {
            r.cancel(why);
        }
    }

    private void cancel(String why) {
        JobClient c = job;
        if (c == null || done) {
            return;
        }
        try {
            JobStatus status = c.getJobStatus().get(5, TimeUnit.SECONDS);
            if (status.isGloballyTerminalState()) {
                return;
            }
            System.err.println("weir: cancelling job " + c.getJobID() + " on the cluster: " + why);
            c.cancel().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("weir: could not cancel job " + c.getJobID() + " on " + host + ":" + port + ": " + e);
        }
    }

    private void pollTimes(String id, int workers) {
        while (!done) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            readTimes(id, workers);
        }
    }

    /**
     * Per worker (subtask index), the busy, idle and back-pressured ms summed over the job's
     * vertices, from the REST API; kept monotonic (a running subtask's figures are refreshed by
     * the JobManager's metric fetcher, a finished one's are final).
     */
    private synchronized void readTimes(String id, int workers) {
        JsonNode jobInfo = get("/jobs/" + id);
        if (jobInfo == null) {
            return;
        }
        long[][] t = new long[3][workers];
        String[] keys = {"accumulated-busy-time", "accumulated-idle-time", "accumulated-backpressured-time"};
        String[] vertexKeys = {"read-records", "write-records", "accumulated-busy-time"};
        Map<String, long[][]> figures = new HashMap<>();
        for (JsonNode v : jobInfo.path("vertices")) {
            String vid = v.path("id").asText();
            JsonNode detail = get("/jobs/" + id + "/vertices/" + vid);
            if (detail == null) {
                return;
            }
            long[][] f = new long[3][workers];
            for (JsonNode s : detail.path("subtasks")) {
                int i = s.path("subtask").asInt(-1);
                if (i < 0 || i >= workers) {
                    continue;
                }
                for (int k = 0; k < 3; k++) {
                    t[k][i] += Math.max(0, s.path("metrics").path(keys[k]).asLong(0));
                    f[k][i] = Math.max(0, s.path("metrics").path(vertexKeys[k]).asLong(0));
                }
            }
            long[][] before = vertexFigures.get(vid);
            for (int k = 0; k < 3 && before != null; k++) {
                for (int i = 0; i < workers; i++) {
                    f[k][i] = Math.max(f[k][i], before[k][i]);
                }
            }
            figures.put(vid, f);
        }
        if (times != null) {
            for (int k = 0; k < 3; k++) {
                for (int i = 0; i < workers; i++) {
                    t[k][i] = Math.max(t[k][i], times[k][i]);
                }
            }
        }
        times = t;
        TaskTimeReporter.external(t);
        vertexFigures = figures;
        if (!graphRead) {
            graphRead = readGraph(jobInfo);
        }
        Vertices.external(figures);
    }

    /**
     * The job's vertices for the progress lines, from {@code GET /jobs/:id}: names from
     * {@code vertices}, inputs and ship strategies from {@code plan.nodes[].inputs}; false when
     * the answer lacks them (tried again on the next poll).
     */
    private static boolean readGraph(JsonNode jobInfo) {
        Map<String, Integer> index = new HashMap<>();
        List<String[]> named = new ArrayList<>();
        for (JsonNode v : jobInfo.path("vertices")) {
            index.put(v.path("id").asText(), named.size());
            named.add(new String[] {v.path("id").asText(), v.path("name").asText()});
        }
        Map<String, JsonNode> nodes = new HashMap<>();
        for (JsonNode n : jobInfo.path("plan").path("nodes")) {
            nodes.put(n.path("id").asText(), n);
        }
        if (named.isEmpty() || nodes.size() != named.size()) {
            return false;
        }
        List<Vertices.Vertex> graph = new ArrayList<>();
        for (String[] v : named) {
            JsonNode node = nodes.get(v[0]);
            if (node == null) {
                return false;
            }
            List<Integer> inputs = new ArrayList<>();
            List<String> ships = new ArrayList<>();
            for (JsonNode in : node.path("inputs")) {
                Integer from = index.get(in.path("id").asText());
                if (from == null) {
                    return false;
                }
                inputs.add(from);
                ships.add(in.hasNonNull("ship_strategy") ? in.get("ship_strategy").asText() : null);
            }
            graph.add(new Vertices.Vertex(v[0], v[1], inputs.stream().mapToInt(Integer::intValue).toArray(),
                    ships.toArray(new String[0])));
        }
        Vertices.graph(graph);
        return true;
    }

    /** GET on the cluster's REST API; null when it fails (the figures it feeds are optional). */
    private JsonNode get(String path) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + hostForUri() + ":" + port + path))
                    .timeout(Duration.ofSeconds(5)).GET().build();
            HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
            return res.statusCode() == 200 ? json.readTree(res.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private String hostForUri() {
        return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    }
}
