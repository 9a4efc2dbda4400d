package weir.flink;

import java.util.ArrayList;
import java.util.List;

/**
 * CSV records as {@code weir gen} writes them (docs/WORKLOADS.md 4.5): fields separated by
 * commas, a field quoted with {@code "} (inner quotes doubled) when it holds a comma, a quote or
 * a line break; LF or CRLF line ends; a leading byte-order mark skipped. Each record carries the
 * line (from 1) it starts on, so errors name it.
 */
final class Csv {
    private final String text;
    private int pos;
    private int line = 1;
    /** The line the record last returned by {@link #next} started on. */
    int recordLine;

    Csv(String text) {
        this.text = text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** A record that cannot be read, with the line it starts on. */
    static final class BadRecord extends Exception {
        private static final long serialVersionUID = 1L;
        final int line;

        BadRecord(int line, String what) {
            super(what);
            this.line = line;
        }
    }

    /** The next record's fields, or null at the end of the text. */
    List<String> next() throws BadRecord {
        if (pos >= text.length()) {
            return null;
        }
        recordLine = line;
        List<String> fields = new ArrayList<>();
        int i = pos;
        int n = text.length();
        while (true) {
            if (i < n && text.charAt(i) == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        throw new BadRecord(recordLine, "a quoted field is not closed");
                    }
                    char c = text.charAt(j);
                    if (c == '"' && j + 1 < n && text.charAt(j + 1) == '"') {
                        sb.append('"');
                        j += 2;
                    } else if (c == '"') {
                        break;
                    } else {
                        if (c == '\n') {
                            line++;
                        }
                        sb.append(c);
                        j++;
                    }
                }
                fields.add(sb.toString());
                i = j + 1;
            } else {
                int end = i;
                while (end < n && text.charAt(end) != ',' && text.charAt(end) != '\n' && text.charAt(end) != '"') {
                    end++;
                }
                if (end < n && text.charAt(end) == '"') {
                    throw new BadRecord(recordLine, "a quote inside the unquoted field '" + text.substring(i, end)
                            + "' (quote the whole field and double inner quotes)");
                }
                String field = text.substring(i, end);
                if ((end == n || text.charAt(end) == '\n') && field.endsWith("\r")) {
                    field = field.substring(0, field.length() - 1);
                }
                fields.add(field);
                i = end;
            }
            if (i >= n) {
                pos = n;
                return fields;
            }
            char c = text.charAt(i);
            if (c == ',') {
                i++;
            } else if (c == '\n') {
                pos = i + 1;
                line++;
                return fields;
            } else if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                pos = i + 2;
                line++;
                return fields;
            } else {
                throw new BadRecord(recordLine, "text after a closing quote (a field is quoted as a whole)");
            }
        }
    }
}
