package weir.flink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code --output FILE}: result rows as JSON lines. Append-only queries stream their rows;
 * updating queries (retractions) are folded to their final multiset and written at the end.
 */
public final class Output {
    private Output() {}

    private static BufferedWriter out;
    private static boolean updating;
    private static final Map<String, Long> FOLDED = new HashMap<>();

    /** Opens the file; updating = fold retractions before writing. */
    public static synchronized void open(Path path, boolean fold) throws IOException {
        out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
        updating = fold;
        FOLDED.clear();
    }

    /** Whether --output was given. */
    public static boolean enabled() {
        return out != null;
    }

    /** Writes (or folds) one row. */
    public static synchronized void write(CharSequence row, int sign) throws IOException {
        if (updating) {
            FOLDED.merge(row.toString(), (long) sign, Long::sum);
        } else {
            out.append(row).append('\n');
        }
    }

    /** Writes the folded rows (updating queries) and closes the file. */
    public static synchronized void close() throws IOException {
        if (out == null) {
            return;
        }
        for (Map.Entry<String, Long> e : FOLDED.entrySet()) {
            if (e.getValue() < 0) {
                throw new IOException("row retracted more often than inserted: " + e.getKey());
            }
            for (long k = 0; k < e.getValue(); k++) {
                out.append(e.getKey()).append('\n');
            }
        }
        out.close();
        out = null;
    }
}
