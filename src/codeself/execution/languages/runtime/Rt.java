// CodeSelf's Java harness runtime (docs/languages.md): package codeself_rt, compiled once per
// machine by trusted code into the cache directory, which the sandbox shows read-only. It holds
// no expected value: it encodes what the candidate's method returned.
//
// Protocol (fd 3 in, fd 4 out; 4-byte big-endian length + body): the import answer
// {"ok":true,"n":N}, sent before any class of the candidate is initialised (so a run without
// it is a JVM that did not start, never the candidate's doing), then for each step
// {"t":I,"n":N} one answer {"values":[ENCODED],"n":N} or {"error":{"type":T,"message":M},"n":N}.
// A static initialiser of the candidate runs in the first call; when it throws, that call's
// error is its exception. Values use the closed encoding of codec.py. When the worker closes
// fd 3 the JVM halts: no shutdown hook of the candidate runs.
package codeself_rt;

import java.io.DataInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

public final class Rt {
    /** One test: the call of the candidate's method (or, in the expected program, the value). */
    @FunctionalInterface
    public interface Call {
        Object call() throws Throwable;
    }

    private static final int MAX_CHARS = 16 << 20;
    private static final int MAX_DEPTH = 100;
    private static final String OPTIONAL_MARK = "[\"b\",\"4f7074696f6e616c\"]";  // bytes "Optional"

    private Rt() {
    }

    /** A value outside the closed encoding; its type becomes the answer's error type. */
    private static final class Refused extends RuntimeException {
        final String type;

        Refused(String type, String message) {
            super(message, null, false, false);
            this.type = type;
        }
    }

    // java.io has no public way to name an inherited descriptor; sun.misc.Unsafe (module
    // jdk.unsupported, open to every class) writes FileDescriptor's private int. Candidate
    // code can do the same: this grants it nothing (it already shares the process).
    private static FileDescriptor descriptor(int fd) throws ReflectiveOperationException {
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        Object unsafe = theUnsafe.get(null);
        long offset = (long) unsafeClass.getMethod("objectFieldOffset", Field.class)
                .invoke(unsafe, FileDescriptor.class.getDeclaredField("fd"));
        FileDescriptor descriptor = new FileDescriptor();
        unsafeClass.getMethod("putInt", Object.class, long.class, int.class).invoke(unsafe, descriptor, offset, fd);
        return descriptor;
    }

    /** Answer the import step, then one step per test; halts the JVM when the worker closes
     * the control pipe. Never returns. */
    public static void serve(String[] args, Call[] calls) {
        String nonce = args.length > 0 ? args[args.length - 1] : "";
        DataInputStream control;
        FileOutputStream result;
        try {
            control = new DataInputStream(new FileInputStream(descriptor(3)));
            result = new FileOutputStream(descriptor(4));
        } catch (ReflectiveOperationException | RuntimeException error) {
            System.err.println("codeself: cannot open the protocol pipes: " + error);
            Runtime.getRuntime().halt(70);
            return;
        }
        java.io.PrintStream stdout = System.out, stderr = System.err;  // before any candidate code
        answer(result, "{\"ok\":true", nonce);
        while (true) {
            String step;
            try {
                int size = control.readInt();
                if (size < 0 || size > 4096) {
                    break;
                }
                byte[] body = new byte[size];
                control.readFully(body);
                step = new String(body, StandardCharsets.UTF_8);
            } catch (IOException error) {
                break;
            }
            int index = stepIndex(step);
            String stepNonce = field(step, "\"n\":\"");
            String body;
            try {
                if (index < 0 || index >= calls.length) {
                    throw new Refused("NotRun", "no such test");
                }
                StringBuilder out = new StringBuilder("{\"values\":[");
                encode(calls[index].call(), out, 0);
                body = out.toString() + "]";
            } catch (Throwable error) {
                body = "{\"error\":" + errorJson(error);
            }
            stdout.flush();  // what the call printed without a newline (the worker may kill us next)
            stderr.flush();
            answer(result, body, stepNonce);
        }
        Runtime.getRuntime().halt(0);
    }

    private static int stepIndex(String step) {
        String digits = field(step, "\"t\":");
        int end = 0;
        while (end < digits.length() && end < 9 && Character.isDigit(digits.charAt(end))) {
            end++;
        }
        return end == 0 ? -1 : Integer.parseInt(digits.substring(0, end));
    }

    private static String field(String text, String key) {
        int at = text.indexOf(key);
        if (at < 0) {
            return "";
        }
        String rest = text.substring(at + key.length());
        int quote = rest.indexOf('"');
        return key.endsWith("\"") && quote >= 0 ? rest.substring(0, quote) : rest;
    }

    private static void answer(FileOutputStream result, String body, String nonce) {
        StringBuilder text = new StringBuilder(body).append(",\"n\":");
        putString(text, nonce);
        byte[] data = text.append('}').toString().getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[data.length + 4];
        frame[0] = (byte) (data.length >>> 24);
        frame[1] = (byte) (data.length >>> 16);
        frame[2] = (byte) (data.length >>> 8);
        frame[3] = (byte) data.length;
        System.arraycopy(data, 0, frame, 4, data.length);
        try {
            result.write(frame);
        } catch (IOException error) {
            Runtime.getRuntime().halt(70);
        }
    }

    private static String errorJson(Throwable thrown) {
        Throwable error = thrown instanceof ExceptionInInitializerError && thrown.getCause() != null
                ? thrown.getCause() : thrown;
        String type = error instanceof Refused ? ((Refused) error).type : error.getClass().getSimpleName();
        String message;
        try {
            message = String.valueOf(error.getMessage());
        } catch (Throwable ignored) {  // a candidate's exception whose getMessage throws
            message = "";
        }
        StringBuilder out = new StringBuilder("{\"type\":");
        putString(out, type.length() > 80 ? type.substring(0, 80) : type);
        out.append(",\"message\":");
        putString(out, message.length() > 300 ? message.substring(0, 300) : message);
        return out.append('}').toString();
    }

    private static void put(StringBuilder out, String text) {
        out.append(text);
        if (out.length() > MAX_CHARS) {
            throw new Refused("ValueTooLarge", "value too large to return");
        }
    }

    private static void putString(StringBuilder out, String text) {
        StringBuilder quoted = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char unit = text.charAt(i);
            if (unit == '"' || unit == '\\') {
                quoted.append('\\').append(unit);
            } else if (unit >= 0x20 && unit <= 0x7e) {
                quoted.append(unit);
            } else {
                quoted.append(String.format("\\u%04x", (int) unit));
            }
        }
        put(out, quoted.append('"').toString());
    }

    private static void putDouble(StringBuilder out, double value) {
        if (Double.isNaN(value)) {
            put(out, "[\"f\",\"nan\"]");
        } else if (Double.isInfinite(value)) {
            put(out, value > 0 ? "[\"f\",\"inf\"]" : "[\"f\",\"-inf\"]");
        } else {
            put(out, "[\"f\",\"" + Double.toString(value) + "\"]");  // round-trips exactly
        }
    }

    private static void putItems(StringBuilder out, String tag, Iterable<?> items, int depth) {
        put(out, "[\"" + tag + "\",[");
        boolean first = true;
        for (Object item : items) {
            if (!first) {
                put(out, ",");
            }
            first = false;
            encode(item, out, depth + 1);
        }
        put(out, "]]");
    }

    /** The closed encoding of the values MultiPL-E's Java tasks return; anything else is refused. */
    static void encode(Object value, StringBuilder out, int depth) {
        if (depth > MAX_DEPTH) {
            throw new Refused("UnsupportedValue", "value nested too deeply");
        }
        if (value == null) {
            put(out, "null");
        } else if (value instanceof Boolean) {
            put(out, ((Boolean) value) ? "true" : "false");
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                || value instanceof Byte) {
            put(out, Long.toString(((Number) value).longValue()));
        } else if (value instanceof BigInteger) {
            BigInteger big = (BigInteger) value;
            put(out, big.bitLength() < 64 ? big.toString()
                    : "[\"i\",\"" + (big.signum() < 0 ? "-" : "") + big.abs().toString(16) + "\"]");
        } else if (value instanceof Float || value instanceof Double) {
            putDouble(out, ((Number) value).doubleValue());  // float to double is exact
        } else if (value instanceof Character) {
            putString(out, String.valueOf((char) (Character) value));
        } else if (value instanceof String) {
            putString(out, (String) value);
        } else if (value instanceof Optional) {
            // a tuple headed by bytes b"Optional" (no other Java value encodes to bytes), so that
            // Optional.of(x) equals neither x nor Optional.of(Optional.of(x)), as in Java
            Optional<?> optional = (Optional<?>) value;
            put(out, "[\"t\",[" + OPTIONAL_MARK);
            if (optional.isPresent()) {
                put(out, ",");
                encode(optional.get(), out, depth + 1);
            }
            put(out, "]]");
        } else if (value instanceof Map) {
            put(out, "[\"d\",[");
            boolean first = true;
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                put(out, first ? "[" : ",[");
                first = false;
                encode(entry.getKey(), out, depth + 1);
                put(out, ",");
                encode(entry.getValue(), out, depth + 1);
                put(out, "]");
            }
            put(out, "]]");
        } else if (value instanceof Set) {
            putItems(out, "s", (Set<?>) value, depth);
        } else if (value instanceof Collection) {
            putItems(out, "l", (Collection<?>) value, depth);
        } else if (value instanceof Iterable && value.getClass().getName().startsWith("org.javatuples.")) {
            putItems(out, "t", (Iterable<?>) value, depth);
        } else {
            throw new Refused("UnsupportedValue", "cannot return a value of class " + value.getClass().getName());
        }
    }
}
