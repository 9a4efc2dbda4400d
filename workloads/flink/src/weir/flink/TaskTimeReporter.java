package weir.flink;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter (registered as {@code metrics.reporter.weir}) that keeps the tasks'
 * cumulative busy, idle and back-pressured times ({@code accumulateBusyTimeMs},
 * {@code accumulateIdleTimeMs}, {@code accumulateBackPressuredTimeMs}) so the progress lines
 * can report them per worker: worker w = the subtasks with index w of every task (one slot).
 * It also hands every metric to {@link Vertices}, which keeps the per-vertex figures.
 */
public final class TaskTimeReporter implements MetricReporter, MetricReporterFactory {
    static final String[] NAMES = {"accumulateBusyTimeMs", "accumulateIdleTimeMs", "accumulateBackPressuredTimeMs"};

    private record Entry(int subtask, int kind, Gauge<?> gauge) {}

    private static final List<Entry> LIVE = new CopyOnWriteArrayList<>();
    /** Times read elsewhere (a cluster job's, from the REST API), [kind][worker] ms; null if none. */
    private static volatile long[][] external;
    /** Final values of the gauges of finished tasks, [kind][subtask], ms. */
    private static final long[][] RETIRED = new long[3][Stats.MAX_WORKERS];

    /** For the service loader. */
    public TaskTimeReporter() {}

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new TaskTimeReporter();
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    private static int kind(String name) {
        for (int k = 0; k < NAMES.length; k++) {
            if (NAMES[k].equals(name)) {
                return k;
            }
        }
        return -1;
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        Vertices.added(metric, name, group);
        int kind = kind(name);
        String index = group.getAllVariables().get("<subtask_index>");
        if (kind < 0 || index == null || !(metric instanceof Gauge)) {
            return;
        }
        int subtask = Integer.parseInt(index);
        if (subtask < Stats.MAX_WORKERS) {
            LIVE.add(new Entry(subtask, kind, (Gauge<?>) metric));
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        Vertices.removed(metric);
        for (Entry e : LIVE) {
            if (e.gauge() == metric) {
                synchronized (RETIRED) {
                    RETIRED[e.kind()][e.subtask()] += value(e.gauge());
                }
                LIVE.remove(e);
            }
        }
    }

    private static long value(Gauge<?> g) {
        Object v = g.getValue();
        return v instanceof Number ? ((Number) v).longValue() : 0;
    }

    /** Sets the times of a job whose tasks run elsewhere (a cluster job, read over REST). */
    static void external(long[][] times) {
        external = times;
    }

    /** Whether any task registered its time gauges (the reporter is active), or times came from elsewhere. */
    static boolean active() {
        return external != null || !LIVE.isEmpty() || retiredAny();
    }

    private static boolean retiredAny() {
        synchronized (RETIRED) {
            for (long[] k : RETIRED) {
                for (long v : k) {
                    if (v != 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Cumulative ms of one kind (0 busy, 1 idle, 2 back-pressured) per worker. */
    static long[] totals(int kind, int workers) {
        long[][] ext = external;
        if (ext != null) {
            return java.util.Arrays.copyOf(ext[kind], workers);
        }
        long[] out = new long[workers];
        synchronized (RETIRED) {
            System.arraycopy(RETIRED[kind], 0, out, 0, workers);
        }
        for (Entry e : LIVE) {
            if (e.kind() == kind && e.subtask() < workers) {
                out[e.subtask()] += value(e.gauge());
            }
        }
        return out;
    }

    /** Forgets everything (suite mode runs several jobs in one JVM). */
    static void reset() {
        Vertices.reset();
        external = null;
        LIVE.clear();
        synchronized (RETIRED) {
            for (long[] k : RETIRED) {
                java.util.Arrays.fill(k, 0);
            }
        }
    }
}
