package weir.flink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.TableDescriptor;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.LookupTableSource;
import org.apache.flink.table.connector.source.lookup.LookupFunctionProvider;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.LookupFunction;

/**
 * q13's side table (docs/WORKLOADS.md, q13) as a Flink SQL lookup table: the connector
 * {@code weir-side-input} ({@link Factory}) serves the rows {@code (key BIGINT, value STRING)} of
 * a CSV file ({@code --side-input}), or of the built-in table ({@code value} = {@code key} as
 * decimal text, keys 0..9999, what {@code weir gen side-input} writes) when no file is given.
 *
 * <p>The file is read and checked once before the job is built ({@link #load}: every key
 * 0..9999 exactly once, two fields a line; an error names the file and the line or key), and
 * again by each lookup function when it opens (in the same JVM: the file was already checked).
 * A lookup is an array index: the table is 10,000 rows held in every subtask.
 */
public final class SideInput {
    private SideInput() {}

    /** Keys 0 .. KEYS - 1; q13 joins on {@code auction mod KEYS}. */
    static final int KEYS = 10_000;

    /** The connector's name in the table descriptor. */
    static final String CONNECTOR = "weir-side-input";

    /** The file; empty for the built-in table. */
    static final ConfigOption<String> PATH = ConfigOptions.key("path").stringType().defaultValue("");

    /** The table's values by key, from {@code path} or built in (path null or empty). */
    static String[] load(String path) {
        String[] values = new String[KEYS];
        if (path == null || path.isEmpty()) {
            for (int k = 0; k < KEYS; k++) {
                values[k] = Integer.toString(k);
            }
            return values;
        }
        String text;
        try {
            text = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot read it: " + e);
        }
        Csv csv = new Csv(text);
        int rows = 0;
        try {
            for (List<String> f = csv.next(); f != null; f = csv.next()) {
                rows++;
                String at = path + ": line " + csv.recordLine + ": ";
                if (f.size() != 2) {
                    throw new IllegalArgumentException(at + "expected two fields `key,value`, found " + f.size());
                }
                int key = -1;
                if (f.get(0).matches("[0-9]{1,5}")) {
                    key = Integer.parseInt(f.get(0));
                }
                if (key < 0 || key >= KEYS) {
                    throw new IllegalArgumentException(at + "the key '" + f.get(0) + "' is not a whole number from 0 to "
                            + (KEYS - 1) + " (q13 joins on auction mod " + KEYS + ")");
                }
                if (values[key] != null) {
                    throw new IllegalArgumentException(at + "the key " + key + " appears a second time");
                }
                values[key] = f.get(1);
            }
        } catch (Csv.BadRecord e) {
            throw new IllegalArgumentException(path + ": line " + e.line + ": " + e.getMessage());
        }
        if (rows == 0) {
            throw new IllegalArgumentException(path + ": the file is empty");
        }
        for (int k = 0; k < KEYS; k++) {
            if (values[k] == null) {
                throw new IllegalArgumentException(path + ": the key " + k + " is missing: the table needs every key"
                        + " from 0 to " + (KEYS - 1) + " (`weir gen side-input` writes the suite's)");
            }
        }
        return values;
    }

    /** The lookup table of the file at {@code path} (null or empty: the built-in table). */
    static TableDescriptor descriptor(String path) {
        return TableDescriptor.forConnector(CONNECTOR)
                .schema(Schema.newBuilder().column("key", DataTypes.BIGINT().notNull())
                        .column("value", DataTypes.STRING()).primaryKey("key").build())
                .option(PATH, path == null ? "" : path).build();
    }

    /** Finds {@link Source} for the {@code weir-side-input} connector (META-INF/services). */
    public static final class Factory implements DynamicTableSourceFactory {
        @Override
        public String factoryIdentifier() {
            return CONNECTOR;
        }

        @Override
        public Set<ConfigOption<?>> requiredOptions() {
            return Collections.emptySet();
        }

        @Override
        public Set<ConfigOption<?>> optionalOptions() {
            Set<ConfigOption<?>> s = new HashSet<>();
            s.add(PATH);
            return s;
        }

        @Override
        public DynamicTableSource createDynamicTableSource(Context ctx) {
            FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, ctx);
            helper.validate();
            return new Source(helper.getOptions().get(PATH));
        }
    }

    /** The table: lookups only (it is static, so a scan would add nothing). */
    static final class Source implements LookupTableSource {
        private final String path;

        Source(String path) {
            this.path = path;
        }

        @Override
        public LookupRuntimeProvider getLookupRuntimeProvider(LookupContext ctx) {
            int[][] keys = ctx.getKeys();
            if (keys.length != 1 || keys[0].length != 1 || keys[0][0] != 0) {
                throw new IllegalArgumentException("the side input is looked up by its column `key` alone");
            }
            return LookupFunctionProvider.of(new Lookup(path));
        }

        @Override
        public DynamicTableSource copy() {
            return new Source(path);
        }

        @Override
        public String asSummaryString() {
            return "weir side input " + (path.isEmpty() ? "(built in)" : path);
        }
    }

    /** Looks a key up in the table, loaded when the function opens. */
    public static final class Lookup extends LookupFunction {
        private static final long serialVersionUID = 1L;
        private final String path;
        private transient RowData[] rows;

        public Lookup(String path) {
            this.path = path;
        }

        @Override
        public void open(FunctionContext ctx) {
            String[] values = load(path);
            rows = new RowData[values.length];
            for (int k = 0; k < values.length; k++) {
                rows[k] = GenericRowData.of((long) k, StringData.fromString(values[k]));
            }
        }

        @Override
        public Collection<RowData> lookup(RowData key) {
            long k = key.getLong(0);
            return k >= 0 && k < rows.length ? Collections.singletonList(rows[(int) k]) : Collections.emptyList();
        }
    }
}
