package weir.flink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamStatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

/**
 * q10's partitioned file sink in Flink SQL (docs/WORKLOADS.md, q10), as the Nexmark suite
 * writes it: a {@code filesystem} table {@code PARTITIONED BY (dt, hm)} in CSV, committed by
 * partition time. The query's rows (the {@code q10} SELECT of {@link SuiteSql}, one table) go
 * both into that table ({@code INSERT INTO}, attached to the job's DataStream graph with
 * {@link StreamStatementSet#attachAsDataStream()}) and, as for every other query, into weir's
 * digest sink.
 *
 * <p>How Flink writes and commits: each writer subtask appends a partition's rows to a hidden
 * in-progress file ({@code .part-<uuid>-<subtask>-<n>.inprogress.<uuid>}). The suite's rolling
 * policy (roll after 1 min of processing time) is set, but Flink writes CSV through a bulk
 * writer, which also rolls every open file at each checkpoint; a completed checkpoint renames
 * the rolled files to their visible names {@code part-<uuid>-<subtask>-<n>}, so a partition
 * holds one file per subtask and checkpoint it was written across. The committer (one subtask)
 * then writes the empty {@code _SUCCESS} of every partition whose minute the watermark has
 * passed: the partition time is {@code dt hm:00} ({@code partition.time-extractor.timestamp-pattern})
 * and the commit delay one minute, so a partition commits at the first checkpoint after the
 * watermark passes its minute's end. Flink's escaping makes the directories
 * {@code dt=<dt>/hm=HH%3Amm}, which weir's reader decodes.
 *
 * <p>Checkpoints: the file sink finalizes files and commits partitions only when a checkpoint
 * completes, so q10 runs with checkpointing on, every {@link #CHECKPOINT_INTERVAL}. At the end
 * of a bounded input the writers close every file and report their partitions with the final
 * watermark, and the job's final checkpoint (checkpoints after tasks finish, on by default and
 * set here so it cannot be turned off) completes the commit before the job ends: after the run
 * no in-progress file is left and every partition has its {@code _SUCCESS}.
 */
final class Q10Files {
    private Q10Files() {}

    /**
     * The checkpoint interval of a q10 job: 1 s. It bounds how long a finished minute's files
     * stay invisible and its partition uncommitted after the watermark passed it, and how long
     * the job waits at the end of its input for the final checkpoint. The checkpoints are cheap
     * (the only state is the writers' open-file offsets and the committer's pending partitions),
     * so a short interval costs little; Nexmark's own Flink configuration checkpoints every
     * 180 s, which would hold a short run's files back for minutes.
     */
    static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(1);

    /** q10's directory ({@code --sink-dir}); weir creates and checks it before the job. */
    static String sinkDir;

    /** Why q10 does not run on a Flink cluster (weir refuses it first, with the same words). */
    static final String NOT_ON_A_CLUSTER = "q10 runs on Flink's local MiniCluster only: a cluster's task managers"
            + " would write its partitioned files on their own machines, where weir cannot commit-check or read"
            + " them (leave out --flink-cluster)";

    /** The SQL table name of the file sink. */
    private static final String TABLE = "q10_files";

    /**
     * Adds q10's file sink over {@code rows} (the q10 SELECT) to the job of {@code tables}, and
     * turns checkpointing on in {@code env}.
     */
    static void attach(StreamExecutionEnvironment env, StreamTableEnvironment tables, Table rows) {
        if (sinkDir == null) {
            throw new IllegalArgumentException("q10 needs --sink-dir DIR: its partitioned files go there");
        }
        Path dir = Paths.get(sinkDir).toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("--sink-dir " + dir + ": q10 cannot write its files there (" + e + ")");
        }
        Configuration checkpoints = new Configuration();
        checkpoints.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, CHECKPOINT_INTERVAL);
        checkpoints.set(CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH, true);
        env.configure(checkpoints);
        tables.executeSql("CREATE TEMPORARY TABLE " + TABLE + " ("
                + " auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` BIGINT, extra STRING,"
                + " dt STRING, hm STRING"
                + ") PARTITIONED BY (dt, hm) WITH ("
                + " 'connector' = 'filesystem',"
                + " 'path' = '" + dir.toUri().toString().replace("'", "''") + "',"
                + " 'format' = 'csv',"
                + " 'sink.partition-commit.trigger' = 'partition-time',"
                + " 'partition.time-extractor.timestamp-pattern' = '$dt $hm:00',"
                + " 'sink.partition-commit.delay' = '1 min',"
                + " 'sink.partition-commit.watermark-time-zone' = 'UTC',"
                + " 'sink.partition-commit.policy.kind' = 'success-file',"
                + " 'sink.rolling-policy.rollover-interval' = '1 min',"
                + " 'sink.rolling-policy.check-interval' = '1 min'"
                + ")");
        tables.createTemporaryView("q10_rows", rows);
        StreamStatementSet statements = tables.createStatementSet();
        statements.addInsertSql("INSERT INTO " + TABLE
                + " SELECT auction, bidder, price, `dateTime`, extra, dt, hm FROM q10_rows");
        statements.attachAsDataStream();
    }
}
