package weir.flink;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * Entry point of weir's Flink job (docs/ARCHITECTURE.md, "Flink"). Modes:
 * <ul>
 *   <li>{@code run --workload nexmark|ysb --query Q --workers W (--events N | --duration-ms D)
 *       --event-rate R [--rate R] [--output FILE [--updating yes]] [--input FILE] [--side-input FILE]
 *       [--sink-dir DIR] [--watch-stdin] [--cluster
 *       HOST:PORT --jar JAR]}: one job in a local MiniCluster, or on the Flink cluster whose REST
 *       API is at HOST:PORT ({@link ClusterRun}); prints {@code PROGRESS {json}} every 100 ms and
 *       {@code RESULT {json}} at the end (and {@code SUBMITTED {json}} on a cluster);</li>
 *   <li>{@code suite --workers W --events N --event-rate R --queries Q,... [--updating Q,...]
 *       [--input FILE [--source replay]] [--side-input FILE] [--sink-dir DIR]}:
 *       the queries one after another in
 *       this JVM, one {@code SUITE {json}} line each (the CI test pays JVM start-up once);</li>
 *   <li>{@code vectors}: the generator's and digest's test vectors ({@code VECTOR ...} lines).</li>
 * </ul>
 * Protocol lines go to the real stdout; everything else (Flink's logging) is sent to stderr.
 * With {@code --watch-stdin} the JVM exits when its stdin closes (the parent died) and ends the
 * input early when it reads {@code stop}.
 */
public final class Main {
    private Main() {}

    /** Flink's version (the jars on the class path). */
    public static final String FLINK_VERSION = "2.3.0";

    private static PrintStream proto;

    /** Failure injection for tests (WEIR_FLINK_FAIL_AFTER_EVENTS): source 0 throws after this many events. */
    static long failAfterEvents;

    /** Prints one protocol line. */
    static synchronized void emit(String kind, CharSequence json) {
        proto.print(kind);
        proto.print(' ');
        proto.println(json);
        proto.flush();
    }

    public static void main(String[] args) {
        proto = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        Map<String, String> opt = new HashMap<>();
        String mode = args.length > 0 ? args[0] : "";
        try {
            String fail = System.getenv("WEIR_FLINK_FAIL_AFTER_EVENTS");
            if (fail != null && !fail.isBlank()) {
                try {
                    failAfterEvents = Long.parseLong(fail.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("WEIR_FLINK_FAIL_AFTER_EVENTS must be an integer, got '" + fail + "'");
                }
            }
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument '" + a + "'");
                }
                if (a.equals("--watch-stdin")) {
                    opt.put("watch-stdin", "1");
                } else if (i + 1 < args.length) {
                    opt.put(a.substring(2), args[++i]);
                } else {
                    throw new IllegalArgumentException("flag " + a + " needs a value");
                }
            }
            if (opt.containsKey("watch-stdin")) {
                watchStdin();
            }
            switch (mode) {
                case "run":
                    run(opt);
                    break;
                case "suite":
                    suite(opt);
                    break;
                case "vectors":
                    Vectors.print(opt);
                    break;
                default:
                    throw new IllegalArgumentException("usage: weir.flink.Main run|suite|vectors [--flags]");
            }
            proto.flush();
            System.exit(0);
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            t.printStackTrace(System.err);
            ClusterRun.cancelActive("the client failed: " + root);
            StringBuilder sb = new StringBuilder("{\"message\":");
            DigestSink.str(sb, root == t ? String.valueOf(t) : t + " (cause: " + root + ")");
            sb.append('}');
            emit("ERROR", sb);
            System.exit(1);
        }
    }

    private static void watchStdin() {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.trim().equals("stop")) {
                        Stats.stop = true;
                    }
                }
            } catch (java.io.IOException e) {
                // fall through: treat as a closed pipe
            }
            // The parent (weir) is gone: end now, without waiting for the job (a cluster's job is
            // cancelled first: it must not run on without anyone reading it).
            ClusterRun.cancelActive("weir closed the client's stdin (it exited or was killed)");
            Runtime.getRuntime().halt(3);
        }, "weir-stdin-watchdog");
        t.setDaemon(true);
        t.start();
    }

    static long num(Map<String, String> opt, String key, long dflt) {
        String v = opt.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be an integer, got '" + v + "'");
        }
    }

    static StreamExecutionEnvironment env(int workers) {
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, workers);
        conf.setString("metrics.reporter.weir.factory.class", TaskTimeReporter.class.getName());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(workers, conf);
        env.getConfig().enableObjectReuse();
        return env;
    }

    /** Builds and runs one query; returns after the job finished. */
    static void runJob(String workload, String query, int workers, long events, long eventRate, long rate)
            throws Exception {
        runJob(workload, query, workers, events, eventRate, rate, null);
    }

    /** The {@code --source} of this run: replay = generate into memory before the clock. */
    static boolean replay;

    /** q13's side table ({@code --side-input FILE}); null for the built-in table. */
    static String sideInput;

    /** The {@code --input} file whose events the sources read; null: the generator. */
    static String input;

    /**
     * Reads {@code --input} (Nexmark events from a file, parsed and checked now) and returns the
     * number of events the run reads: the first {@code events} of the file.
     */
    static long input(Map<String, String> opt, long events) {
        input = opt.get("input");
        if (input == null) {
            return events;
        }
        if (opt.containsKey("rate")) {
            throw new IllegalArgumentException("--input cannot be paced (--rate): a file is replayed as fast as it goes");
        }
        return Math.min(events, EventFile.load(input));
    }

    /**
     * Reads {@code --side-input} (q13's table, the file checked before any job is built) and
     * {@code --sink-dir} (q10's directory).
     */
    static void queryFiles(Map<String, String> opt) {
        Q10Files.sinkDir = opt.get("sink-dir");
        sideInput = opt.get("side-input");
        if (sideInput != null) {
            SideInput.load(sideInput);
        }
    }

    /**
     * Builds and runs one query, in {@code cluster} when given (suite mode shares one
     * MiniCluster between its jobs), else in a MiniCluster of its own as Flink's local
     * environment does it.
     */
    static void runJob(String workload, String query, int workers, long events, long eventRate, long rate,
            MiniCluster cluster) throws Exception {
        Stats.reset();
        StreamExecutionEnvironment env = env(workers);
        build(env, workload, query, events, eventRate, rate);
        if (cluster == null) {
            captureGraph(env);
            env.execute("weir " + workload + " " + query);
        } else {
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName("weir " + workload + " " + query);
            cluster.executeJobBlocking(graph.getJobGraph());
        }
    }

    /**
     * Takes the job graph of the job built in {@code env} for the progress lines' vertices
     * ({@link Vertices}), from a copy of its stream graph ({@code getStreamGraph(false)} keeps
     * the transformations, as {@code getExecutionPlan} does), so the job that runs is built
     * exactly as before. Without it the dataflow view says per-vertex figures are unavailable;
     * a failure here is reported on stderr and does not fail the run.
     */
    static void captureGraph(StreamExecutionEnvironment env) {
        try {
            Vertices.capture(env.getStreamGraph(false).getJobGraph());
        } catch (RuntimeException e) {
            System.err.println("weir: the job graph could not be read for the dataflow view: " + e);
        }
    }

    /** Adds the sources, query and sinks of one job to {@code env}. */
    static void build(StreamExecutionEnvironment env, String workload, String query, long events, long eventRate,
            long rate) {
        if (workload.equals("ysb")) {
            if (!query.equals("ysb")) {
                throw new IllegalArgumentException("YSB has one query, 'ysb'; got '" + query + "'");
            }
            Ysb.build(env, events, eventRate, rate);
        } else if (workload.equals("nexmark")) {
            GenSource.Gen<Event> gen = input != null ? new EventFile.Gen() : new NexmarkGen(eventRate);
            DataStream<Event> ev = env.fromSource(new GenSource<>(gen, events, eventRate, rate, replay),
                    GenSource.<Event>watermarks(4000), "nexmark-source",
                    org.apache.flink.api.common.typeinfo.TypeInformation.of(Event.class));
            if (query.equals("q6")) {
                Q6.build(ev);
            } else if (SuiteSql.runs(query)) {
                SuiteSql.build(query, env, ev);
            } else {
                Queries.build(query, ev);
            }
        } else {
            throw new IllegalArgumentException("unknown workload '" + workload + "' (nexmark or ysb)");
        }
    }

    static void run(Map<String, String> opt) throws Exception {
        String workload = opt.getOrDefault("workload", "nexmark");
        String query = opt.getOrDefault("query", "q5");
        int workers = (int) num(opt, "workers", 1);
        if (workers < 1 || workers > Stats.MAX_WORKERS) {
            throw new IllegalArgumentException("--workers must be 1.." + Stats.MAX_WORKERS);
        }
        long events = num(opt, "events", Long.MAX_VALUE);
        long durationMs = num(opt, "duration-ms", 0);
        long eventRate = num(opt, "event-rate", 10_000_000);
        long rate = num(opt, "rate", 0);
        if (eventRate < 1) {
            throw new IllegalArgumentException("--event-rate must be at least 1");
        }
        String source = opt.getOrDefault("source", "generate");
        if (!source.equals("generate") && !source.equals("replay")) {
            throw new IllegalArgumentException("--source must be generate or replay, got '" + source + "'");
        }
        replay = source.equals("replay");
        queryFiles(opt);
        events = input(opt, events);
        if (input != null && opt.containsKey("cluster")) {
            throw new IllegalArgumentException("--input runs on the local MiniCluster only: a Flink cluster's task"
                    + " managers cannot read weir's file (leave out --flink-cluster, or --input)");
        }
        if (query.equals("q10") && opt.containsKey("cluster")) {
            throw new IllegalArgumentException(Q10Files.NOT_ON_A_CLUSTER);
        }
        if (replay && events == Long.MAX_VALUE) {
            throw new IllegalArgumentException("--source replay needs --events (a bounded input to hold in memory)");
        }
        ClusterRun cluster = opt.containsKey("cluster")
                ? ClusterRun.connect(opt.get("cluster"), opt.get("jar"), workers, opt.containsKey("output"))
                : null;
        if (opt.containsKey("output")) {
            // An updating query's rows are folded to its final table (weir's catalog says which).
            Output.open(Paths.get(opt.get("output")), "yes".equals(opt.get("updating")));
        }
        Thread progress = new Thread(() -> progressLoop(workers, durationMs), "weir-progress");
        progress.setDaemon(true);
        progress.start();
        if (cluster == null) {
            runJob(workload, query, workers, events, eventRate, rate);
        } else {
            cluster.run(workload, query, workers, events, eventRate, rate);
        }
        progress.interrupt();
        progress.join();
        Output.close();
        emit("PROGRESS", progressJson(workers, true));
        long first = Stats.FIRST_SOURCE_NANOS.get();
        long last = Stats.LAST_SINK_NANOS.get();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        long firstWallMs = System.currentTimeMillis() - (System.nanoTime() - first) / 1_000_000;
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"events\":").append(totalEvents());
        sb.append(",\"startup_ms\":").append(Math.max(0, firstWallMs - jvmStart));
        sb.append(",\"runtime_ns\":").append(Math.max(1, last - first));
        sb.append(",\"rows\":").append(Stats.digestRows());
        sb.append(",\"hash\":\"").append(Stats.digestHex()).append('"');
        sb.append(",\"late\":").append(Stats.LATE.get());
        sb.append(",\"dropped\":0");
        sb.append(",\"flink\":\"").append(cluster == null ? FLINK_VERSION : cluster.flinkVersion()).append('"');
        sb.append(",\"java\":");
        DigestSink.str(sb, System.getProperty("java.runtime.version"));
        sb.append('}');
        emit("RESULT", sb);
    }

    static long totalEvents() {
        long n = 0;
        for (int i = 0; i < Stats.MAX_WORKERS; i++) {
            n += Stats.EVENTS.get(i);
        }
        return n;
    }

    private static void progressLoop(int workers, long durationMs) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            long first = Stats.FIRST_SOURCE_NANOS.get();
            if (first == 0) {
                continue;
            }
            if (durationMs > 0 && System.nanoTime() - first >= durationMs * 1_000_000L) {
                Stats.stop = true;
            }
            emit("PROGRESS", progressJson(workers, false));
        }
    }

    static String progressJson(int workers, boolean finished) {
        long first = Stats.FIRST_SOURCE_NANOS.get();
        StringBuilder sb = new StringBuilder("{\"elapsed_ns\":");
        sb.append(first == 0 ? 0 : System.nanoTime() - first);
        sb.append(",\"events\":[");
        for (int i = 0; i < workers; i++) {
            sb.append(i == 0 ? "" : ",").append(Stats.EVENTS.get(i));
        }
        sb.append("],\"rows\":[");
        long wm = Long.MAX_VALUE;
        for (int i = 0; i < workers; i++) {
            sb.append(i == 0 ? "" : ",").append(Stats.ROWS_OUT.get(i));
            wm = Math.min(wm, Stats.SINK_WATERMARK.get(i));
        }
        sb.append("],\"watermark\":").append(wm == Long.MIN_VALUE ? "null" : Long.toString(wm));
        long src = Stats.SOURCE_TIME.get();
        sb.append(",\"source_time\":").append(src == Long.MIN_VALUE ? "null" : Long.toString(src));
        sb.append(",\"late\":").append(Stats.LATE.get());
        if (TaskTimeReporter.active()) {
            String[] keys = {"busy_ms", "idle_ms", "backpressured_ms"};
            for (int k = 0; k < keys.length; k++) {
                sb.append(",\"").append(keys[k]).append("\":[");
                long[] t = TaskTimeReporter.totals(k, workers);
                for (int i = 0; i < t.length; i++) {
                    sb.append(i == 0 ? "" : ",").append(t[i]);
                }
                sb.append(']');
            }
        }
        Vertices.json(sb, workers);
        sb.append(",\"finished\":").append(finished);
        sb.append(",\"latency_ns\":[");
        long[] lat = Stats.drainLatency();
        for (int i = 0; i < lat.length; i++) {
            sb.append(i == 0 ? "" : ",").append(lat[i]);
        }
        sb.append("],\"end_of_input_latency_ns\":[");
        long[] end = Stats.drainEndLatency();
        for (int i = 0; i < end.length; i++) {
            sb.append(i == 0 ? "" : ",").append(end[i]);
        }
        sb.append("]}");
        return sb.toString();
    }

    static void suite(Map<String, String> opt) throws Exception {
        int workers = (int) num(opt, "workers", 1);
        long events = num(opt, "events", 50_000);
        long eventRate = num(opt, "event-rate", 10_000);
        String only = opt.get("queries");
        if (only == null || only.isEmpty()) {
            throw new IllegalArgumentException("suite needs --queries q0,q1,... (weir passes its catalog's)");
        }
        String[] queries = only.split(",");
        replay = "replay".equals(opt.getOrDefault("source", "generate"));
        queryFiles(opt);
        events = input(opt, events);
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, workers);
        // Random ports: several suites (tests in parallel, other users) share the machine.
        conf.set(RestOptions.BIND_PORT, "0");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(workers).withRandomPorts().build());
        cluster.start();
        try {
            suiteJobs(queries, opt, workers, events, eventRate, cluster);
        } finally {
            cluster.close();
        }
    }

    private static void suiteJobs(String[] queries, Map<String, String> opt, int workers, long events,
            long eventRate, MiniCluster cluster) throws Exception {
        // The queries whose --output rows are folded to a final table (weir's catalog says which).
        java.util.Set<String> updating = new java.util.HashSet<>(
                java.util.Arrays.asList(opt.getOrDefault("updating", "").split(",")));
        for (String q : queries) {
            String workload = q.equals("ysb") ? "ysb" : "nexmark";
            long t0 = System.nanoTime();
            if (opt.containsKey("output-dir")) {
                Output.open(Paths.get(opt.get("output-dir"), q + ".jsonl"), updating.contains(q));
            }
            runJob(workload, q, workers, events, eventRate, 0, cluster);
            Output.close();
            StringBuilder sb = new StringBuilder("{\"query\":\"").append(q).append('"');
            sb.append(",\"workers\":").append(workers);
            sb.append(",\"events\":").append(totalEvents());
            sb.append(",\"rows\":").append(Stats.digestRows());
            sb.append(",\"hash\":\"").append(Stats.digestHex()).append('"');
            sb.append(",\"late\":").append(Stats.LATE.get());
            sb.append(",\"job_ms\":").append((System.nanoTime() - t0) / 1_000_000);
            sb.append('}');
            emit("SUITE", sb);
        }
    }

}
