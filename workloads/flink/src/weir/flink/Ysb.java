package weir.flink;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** YSB on Flink (generator port pending the Rust reference). */
final class Ysb {
    private Ysb() {}

    static void build(StreamExecutionEnvironment env, long events, long eventRate, long rate) {
        throw new IllegalArgumentException("YSB on Flink is not built yet");
    }
}
