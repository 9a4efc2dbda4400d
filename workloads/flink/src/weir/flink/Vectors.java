package weir.flink;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code vectors}: prints what the Rust test compares with the committed vectors in
 * workloads/testdata: the row hashes and digest of digest_vectors.tsv, mix() and the
 * java.util.Random port, the generator's first events and the digest of the first 1,000,000.
 */
final class Vectors {
    private Vectors() {}

    static void print(java.util.Map<String, String> opt) throws Exception {
        String digestFile = opt.get("digest-vectors");
        if (digestFile != null) {
            digestRows(digestFile);
        }
        for (long x : new long[] {0, 1, 1000}) {
            Main.emit("VECTOR", "{\"mix\":" + x + ",\"value\":\"" + String.format("%016x", JRandom.mix(x)) + "\"}");
        }
        // The LCG port against java.util.Random itself, over every method the generator uses.
        for (long seed = -3; seed < 2000; seed += 7) {
            long s = JRandom.mix(seed);
            java.util.Random ref = new java.util.Random(s);
            JRandom mine = new JRandom(s);
            for (int k = 1; k < 200; k++) {
                boolean ok = ref.nextInt() == mine.nextInt() && ref.nextInt(k) == mine.nextInt(k)
                        && ref.nextInt(1 << (k % 31)) == mine.nextInt(1 << (k % 31))
                        && ref.nextLong() == mine.nextLong() && ref.nextDouble() == mine.nextDouble();
                if (!ok) {
                    throw new IllegalStateException("JRandom disagrees with java.util.Random at seed " + s);
                }
            }
        }
        Main.emit("VECTOR", "{\"random_port\":\"ok\",\"next_int_mix1\":" + new JRandom(JRandom.mix(1)).nextInt() + "}");
        Generated.print(opt);
    }

    private static void digestRows(String file) throws Exception {
        Digest all = new Digest();
        int n = 0;
        for (String line : Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8)) {
            if (!line.startsWith("row\t")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            List<Object> values = parseArray(f[1]);
            Digest d = new Digest();
            d.begin();
            for (Object v : values) {
                if (v == null) {
                    d.nul();
                } else if (v instanceof Long) {
                    d.integer((Long) v);
                } else {
                    d.string((String) v);
                }
            }
            long[] h = d.hashRow();
            StringBuilder hex = new StringBuilder();
            for (byte b : d.bytes()) {
                hex.append(String.format("%02x", b & 0xFF));
            }
            Main.emit("VECTOR", "{\"row\":" + n + ",\"encoding\":\"" + hex + "\",\"hash\":\""
                    + String.format("%016x%016x", h[1], h[0]) + "\"}");
            int times = n == 9 ? 3 : 1; // the q0-like row (1000, 1001, ...) counts three times
            for (int k = 0; k < times; k++) {
                all.begin();
                for (Object v : values) {
                    if (v == null) {
                        all.nul();
                    } else if (v instanceof Long) {
                        all.integer((Long) v);
                    } else {
                        all.string((String) v);
                    }
                }
                all.fold(1);
            }
            n++;
        }
        Main.emit("VECTOR", "{\"digest_rows\":" + all.rows() + ",\"digest_hash\":\""
                + String.format("%016x%016x", all.hi(), all.lo()) + "\"}");
    }

    /** A JSON array of integers, strings and nulls. */
    static List<Object> parseArray(String s) {
        List<Object> out = new ArrayList<>();
        int i = s.indexOf('[') + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ']') {
                break;
            } else if (c == ',' || c == ' ') {
                i++;
            } else if (c == 'n') {
                out.add(null);
                i += 4;
            } else if (c == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                while (s.charAt(i) != '"') {
                    char d = s.charAt(i);
                    if (d == '\\') {
                        char e = s.charAt(i + 1);
                        if (e == 'u') {
                            sb.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                            i += 6;
                            continue;
                        }
                        sb.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
                        i += 2;
                        continue;
                    }
                    sb.append(d);
                    i++;
                }
                i++;
                out.add(sb.toString());
            } else {
                int j = i;
                while (j < s.length() && (s.charAt(j) == '-' || Character.isDigit(s.charAt(j)))) {
                    j++;
                }
                out.add(Long.parseLong(s.substring(i, j)));
                i = j;
            }
        }
        return out;
    }
}
