package weir.flink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.jobgraph.JobEdge;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;

/**
 * The job's vertices (Flink's tasks: a chain of operators each) with their per-subtask figures,
 * for the {@code "vertices"} field of the progress lines (docs/ARCHITECTURE.md, "Flink"): weir's
 * dataflow view draws one operator per vertex, worker w = subtask w.
 *
 * <p>The graph (names, inputs and each input's ship strategy, in topological order) is taken
 * from the job graph when the job is built ({@link #capture}), or from a cluster's REST API
 * ({@link #external}). The figures are Flink's own task metrics, which {@link TaskTimeReporter}
 * hands over as tasks register them: {@code numRecordsIn} and {@code numRecordsOut} of the task
 * (the chain's head input and its tail outputs), {@code accumulateBusyTimeMs} and
 * {@code Shuffle.Netty.Output.Buffers.outPoolUsage} (the share of the task's output buffer pool
 * in use: buffers written and not yet consumed downstream, over the pool's size; it can pass 1
 * when overdraft buffers are in use). A task's metrics are identified by {@code <task_id>} (the
 * job vertex id) and {@code <subtask_index>}; when the ids do not match the captured graph (the
 * executor built its own job graph with other ids) the vertex name matches instead.
 *
 * <p>Cost: nothing on a record's path. The gauges and counters are read when a progress line is
 * built (every 100 ms, under one lock: vertices x subtasks x 4 reads); registration happens once
 * per task. When a task ends Flink removes its metrics: the last values are kept (summed over
 * attempts for the counters and the busy time, the last reading for the pool usage).
 */
final class Vertices {
    private Vertices() {}

    /** Metric names taken, by kind: 0 records in, 1 records out, 2 busy ms, 3 output pool usage. */
    private static final String[] NAMES = {"numRecordsIn", "numRecordsOut", "accumulateBusyTimeMs", "outPoolUsage"};
    private static final int FILL = 3;

    /** One vertex of the graph: its id (hex), name, input vertices (indices) and their ship strategies. */
    record Vertex(String id, String name, int[] inputs, String[] ships) {}

    /** One task (vertex) as its metrics name it, with its live metrics and retired values per subtask. */
    private static final class Task {
        final Metric[][] live = new Metric[NAMES.length][Stats.MAX_WORKERS];
        final long[][] retired = new long[FILL][Stats.MAX_WORKERS];
        final double[] lastFill = new double[Stats.MAX_WORKERS];

        Task() {
            java.util.Arrays.fill(lastFill, Double.NaN);
        }
    }

    private static final Object LOCK = new Object();
    /** The captured graph; null until a job was built. */
    private static List<Vertex> graph;
    private static Set<String> graphIds = new HashSet<>();
    /** Tasks by "id\nname", as their metrics name them. */
    private static final Map<String, Task> TASKS = new HashMap<>();
    /** Where each live metric of ours sits, to retire it when Flink removes it. */
    private record Slot(Task task, int kind, int subtask) {}
    private static final Map<Metric, Slot> SLOTS = new java.util.IdentityHashMap<>();
    /** A cluster job's figures from the REST API, by vertex id: {in, out, busy}[subtask]; null if none. */
    private static Map<String, long[][]> external;

    /** Takes the vertices of {@code job} (once the job is built, before it runs). */
    static void capture(JobGraph job) {
        List<JobVertex> sorted = job.getVerticesSortedTopologicallyFromSources();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < sorted.size(); i++) {
            index.put(sorted.get(i).getID().toString(), i);
        }
        List<Vertex> out = new ArrayList<>();
        for (JobVertex v : sorted) {
            List<JobEdge> edges = v.getInputs();
            int[] inputs = new int[edges.size()];
            String[] ships = new String[edges.size()];
            for (int k = 0; k < edges.size(); k++) {
                JobEdge e = edges.get(k);
                Integer from = index.get(e.getSource().getProducer().getID().toString());
                if (from == null) {
                    throw new IllegalStateException("vertex " + v.getName() + " has an input from outside its job graph");
                }
                inputs[k] = from;
                ships[k] = e.getShipStrategyName();
            }
            out.add(new Vertex(v.getID().toString(), v.getName(), inputs, ships));
        }
        graph(out);
    }

    /** Sets the graph (from a job graph, or a cluster's REST API). */
    static void graph(List<Vertex> vertices) {
        synchronized (LOCK) {
            graph = List.copyOf(vertices);
            graphIds = new HashSet<>();
            for (Vertex v : vertices) {
                graphIds.add(v.id());
            }
        }
    }

    /** Sets the figures of a job whose tasks run elsewhere (a cluster job, read over REST). */
    static void external(Map<String, long[][]> figures) {
        synchronized (LOCK) {
            external = figures;
        }
    }

    /** Takes a metric a task registered, if it is one of ours. */
    static void added(Metric metric, String name, MetricGroup group) {
        int kind = -1;
        for (int k = 0; k < NAMES.length; k++) {
            if (NAMES[k].equals(name)) {
                kind = k;
            }
        }
        if (kind < 0) {
            return;
        }
        Map<String, String> vars = group.getAllVariables();
        String id = vars.get("<task_id>");
        String task = vars.get("<task_name>");
        String index = vars.get("<subtask_index>");
        // Operator-level counters of the same name carry <operator_id>: the task's are the vertex's.
        if (id == null || task == null || index == null || vars.containsKey("<operator_id>")) {
            return;
        }
        // Records are counters; the busy time and the pool usage are gauges.
        boolean fits = kind < 2 ? metric instanceof Counter : metric instanceof Gauge;
        int subtask = Integer.parseInt(index);
        if (!fits || subtask >= Stats.MAX_WORKERS) {
            return;
        }
        synchronized (LOCK) {
            Task t = TASKS.computeIfAbsent(id + "\n" + task, k -> new Task());
            if (t.live[kind][subtask] == null) {
                t.live[kind][subtask] = metric;
                SLOTS.put(metric, new Slot(t, kind, subtask));
            }
        }
    }

    /** Folds a metric Flink removes (its task ended) into the retired values. */
    static void removed(Metric metric) {
        synchronized (LOCK) {
            Slot slot = SLOTS.remove(metric);
            if (slot == null) {
                return;
            }
            Task t = slot.task();
            if (slot.kind() == FILL) {
                t.lastFill[slot.subtask()] = level(metric);
            } else {
                t.retired[slot.kind()][slot.subtask()] += count(metric);
            }
            t.live[slot.kind()][slot.subtask()] = null;
        }
    }

    private static long count(Metric m) {
        try {
            if (m instanceof Counter) {
                return Math.max(0, ((Counter) m).getCount());
            }
            Object v = ((Gauge<?>) m).getValue();
            return v instanceof Number ? Math.max(0, ((Number) v).longValue()) : 0;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** A gauge's level, NaN when it cannot be read. */
    private static double level(Metric m) {
        try {
            Object v = ((Gauge<?>) m).getValue();
            return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Forgets everything (suite mode runs several jobs in one JVM). */
    static void reset() {
        synchronized (LOCK) {
            graph = null;
            graphIds = new HashSet<>();
            TASKS.clear();
            SLOTS.clear();
            external = null;
        }
    }

    /**
     * Appends {@code ,"vertices":[...]} for {@code workers} subtasks: per vertex its name, inputs,
     * ships, and per subtask records_in, records_out, busy_ms and out_pool_usage (null where
     * not observed; the whole field null on a cluster, whose REST API does not carry it).
     * Appends nothing before a graph was captured.
     */
    static void json(StringBuilder sb, int workers) {
        synchronized (LOCK) {
            if (graph == null) {
                return;
            }
            sb.append(",\"vertices\":[");
            for (int i = 0; i < graph.size(); i++) {
                Vertex v = graph.get(i);
                sb.append(i == 0 ? "{" : ",{").append("\"name\":");
                DigestSink.str(sb, v.name());
                sb.append(",\"inputs\":[");
                for (int k = 0; k < v.inputs().length; k++) {
                    sb.append(k == 0 ? "" : ",").append(v.inputs()[k]);
                }
                sb.append("],\"ships\":[");
                for (int k = 0; k < v.ships().length; k++) {
                    sb.append(k == 0 ? "" : ",");
                    if (v.ships()[k] == null) {
                        sb.append("null");
                    } else {
                        DigestSink.str(sb, v.ships()[k]);
                    }
                }
                sb.append(']');
                long[][] counts = new long[FILL][workers];
                double[] fill = new double[workers];
                java.util.Arrays.fill(fill, Double.NaN);
                figures(v, workers, counts, fill);
                String[] keys = {"records_in", "records_out", "busy_ms"};
                for (int k = 0; k < FILL; k++) {
                    sb.append(",\"").append(keys[k]).append("\":[");
                    for (int s = 0; s < workers; s++) {
                        sb.append(s == 0 ? "" : ",").append(counts[k][s]);
                    }
                    sb.append(']');
                }
                sb.append(",\"out_pool_usage\":");
                if (external != null) {
                    sb.append("null");
                } else {
                    sb.append('[');
                    for (int s = 0; s < workers; s++) {
                        sb.append(s == 0 ? "" : ",");
                        sb.append(Double.isNaN(fill[s]) || Double.isInfinite(fill[s]) ? "null" : Double.toString(fill[s]));
                    }
                    sb.append(']');
                }
                sb.append('}');
            }
            sb.append(']');
        }
    }

    /** Fills {@code counts} and {@code fill} for vertex v (caller holds the lock). */
    private static void figures(Vertex v, int workers, long[][] counts, double[] fill) {
        if (external != null) {
            long[][] ext = external.get(v.id());
            if (ext != null) {
                for (int k = 0; k < FILL; k++) {
                    System.arraycopy(ext[k], 0, counts[k], 0, Math.min(workers, ext[k].length));
                }
            }
            return;
        }
        for (Map.Entry<String, Task> e : TASKS.entrySet()) {
            String[] idName = e.getKey().split("\n", 2);
            boolean mine = graphIds.contains(idName[0]) ? idName[0].equals(v.id()) : idName[1].equals(v.name());
            if (!mine) {
                continue;
            }
            Task t = e.getValue();
            for (int s = 0; s < workers; s++) {
                for (int k = 0; k < FILL; k++) {
                    counts[k][s] += t.retired[k][s] + (t.live[k][s] == null ? 0 : count(t.live[k][s]));
                }
                double f = t.live[FILL][s] != null ? level(t.live[FILL][s]) : t.lastFill[s];
                if (!Double.isNaN(f)) {
                    fill[s] = f;
                }
            }
        }
    }
}
