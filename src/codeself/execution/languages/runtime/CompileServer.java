// CodeSelf's warm Java compiler (docs/languages.md, "Java specifics"): one JVM per worker, started
// inside that worker's sandbox, that compiles each sample's sources in memory with the JDK's own
// javac (javax.tools), so a sample pays for compiling its code, not for starting and warming a JVM.
// It runs no code of the sources it compiles (no annotation processing), keeps nothing between
// requests (a fresh file manager and task per request; classes stay in memory, never on disk) and
// is trusted by nobody: the worker reads its replies as untrusted bytes and kills it at the time
// limit.
//
// Protocol on stdin/stdout (java.io.Data* encoding): at start one int 0x636f6465 ("code") once
// warm. Request: int count, then per source: UTF name ("Problem.java"), int length, UTF-8 bytes.
// Reply: int status (0 compiled, 1 compile errors, 2 the compiler itself failed, 3 a source is not
// valid UTF-8: the worker compiles that one with the javac command instead), int length + UTF-8
// diagnostics in javac's command-line layout (FILE:LINE: error: MESSAGE, the source line, a caret,
// the message's other lines), then (status 0) int count and per class: UTF path
// ("Problem$1.class"), int length, bytes. Arguments: the class path, then javac's options.
package codeself_rt;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

public final class CompileServer {
    static final int READY = 0x636f6465;
    static final int MAX_SOURCE = 1 << 24;

    /** A source held in memory under its file name. */
    static final class Source extends SimpleJavaFileObject {
        final String name;
        final String text;

        Source(String name, String text) {
            super(URI.create("string:///" + name), Kind.SOURCE);
            this.name = name;
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }

        @Override
        public String getName() {
            return name;
        }
    }

    /** A class file javac writes, kept in memory. */
    static final class Output extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Output(String binaryName) {
            super(URI.create("mem:///" + binaryName.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            return bytes;
        }
    }

    public static void main(String[] args) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        String classPath = args[0];
        List<String> options = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        options.add("-classpath");
        options.add(classPath);
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out, 1 << 16));
        // one compile loads javac's classes before the first request; more rounds here would only
        // move the JIT's warm-up (measured: 12 rounds cost 0.6 s more CPU than 1, recouped after
        // ~15 requests), which the first real requests do as well
        compile(javac, options, List.of(new Source("Problem.java", WARM_PROBLEM),
                                        new Source("CodeselfHarness.java", WARM_HARNESS)));
        out.writeInt(READY);
        out.flush();
        while (true) {
            int count;
            try {
                count = in.readInt();
            } catch (EOFException end) {
                return;
            }
            List<Source> sources = new ArrayList<>();
            boolean decodable = true;
            for (int index = 0; index < count; index++) {
                String name = in.readUTF();
                int length = in.readInt();
                if (length < 0 || length > MAX_SOURCE) {
                    throw new IOException("source too large");
                }
                byte[] data = new byte[length];
                in.readFully(data);
                String text = strictUtf8(data);
                decodable &= text != null;
                sources.add(new Source(name, text == null ? "" : text));
            }
            if (!decodable) {
                reply(out, 3, "", Map.of());
                continue;
            }
            Reply result;
            try {
                result = compile(javac, options, sources);
            } catch (Throwable failure) { // OutOfMemoryError, StackOverflowError, a javac bug
                reply(out, 2, "the compiler failed: " + failure, Map.of());
                Runtime.getRuntime().halt(3); // its state is unknown now: the worker starts another
                return;
            }
            reply(out, result.ok ? 0 : 1, result.diagnostics, result.ok ? result.classes : Map.of());
        }
    }

    static String strictUtf8(byte[] data) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data)).toString();
        } catch (CharacterCodingException bad) {
            return null;
        }
    }

    static final class Reply {
        boolean ok;
        String diagnostics;
        Map<String, byte[]> classes;
    }

    static Reply compile(JavaCompiler javac, List<String> options, List<Source> sources) throws IOException {
        DiagnosticCollector<JavaFileObject> collected = new DiagnosticCollector<>();
        Map<String, Output> outputs = new TreeMap<>();
        StandardJavaFileManager standard = javac.getStandardFileManager(collected, Locale.ROOT, StandardCharsets.UTF_8);
        ForwardingJavaFileManager<StandardJavaFileManager> memory = new ForwardingJavaFileManager<>(standard) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
                                                       FileObject sibling) {
                Output output = new Output(className);
                outputs.put(className, output);
                return output;
            }
        };
        Reply reply = new Reply();
        try {
            reply.ok = javac.getTask(null, memory, collected, options, null, sources).call();
        } finally {
            memory.close();
        }
        reply.diagnostics = render(collected.getDiagnostics(), sources);
        reply.classes = new TreeMap<>();
        for (Map.Entry<String, Output> entry : outputs.entrySet()) {
            reply.classes.put(entry.getKey().replace('.', '/') + ".class", entry.getValue().bytes.toByteArray());
        }
        return reply;
    }

    /** The diagnostics as javac's command line prints them. */
    static String render(List<Diagnostic<? extends JavaFileObject>> diagnostics, List<Source> sources) {
        StringBuilder text = new StringBuilder();
        int errors = 0;
        for (Diagnostic<? extends JavaFileObject> diagnostic : diagnostics) {
            String message = diagnostic.getMessage(Locale.ROOT);
            String first = message;
            String rest = "";
            int newline = message.indexOf('\n');
            if (newline >= 0) {
                first = message.substring(0, newline);
                rest = message.substring(newline + 1);
            }
            String kind = diagnostic.getKind() == Diagnostic.Kind.ERROR ? "error" : "warning";
            errors += diagnostic.getKind() == Diagnostic.Kind.ERROR ? 1 : 0;
            JavaFileObject file = diagnostic.getSource();
            if (diagnostic.getKind() == Diagnostic.Kind.NOTE || file == null) {
                text.append(diagnostic.getKind() == Diagnostic.Kind.NOTE ? "Note: " : kind + ": ")
                    .append(message).append('\n');
                continue;
            }
            text.append(file.getName()).append(':').append(diagnostic.getLineNumber()).append(": ")
                .append(kind).append(": ").append(first).append('\n');
            String line = sourceLine(file, diagnostic.getLineNumber());
            if (line != null) {
                text.append(line).append('\n');
                long column = Math.max(1, diagnostic.getColumnNumber());
                text.append(" ".repeat((int) Math.min(column - 1, 4096))).append("^\n");
            }
            if (!rest.isEmpty()) {
                text.append(rest).append('\n');
            }
        }
        if (errors > 0) {
            text.append(errors).append(errors == 1 ? " error\n" : " errors\n");
        }
        return text.toString();
    }

    static String sourceLine(JavaFileObject file, long number) {
        if (!(file instanceof Source) || number < 1) {
            return null;
        }
        String[] lines = ((Source) file).text.split("\n", -1);
        return number <= lines.length ? lines[(int) number - 1].replace("\r", "") : null;
    }

    static void reply(DataOutputStream out, int status, String diagnostics, Map<String, byte[]> classes)
            throws IOException {
        byte[] text = diagnostics.getBytes(StandardCharsets.UTF_8);
        out.writeInt(status);
        out.writeInt(text.length);
        out.write(text);
        if (status == 0) {
            out.writeInt(classes.size());
            for (Map.Entry<String, byte[]> entry : classes.entrySet()) {
                out.writeUTF(entry.getKey());
                out.writeInt(entry.getValue().length);
                out.write(entry.getValue());
            }
        }
        out.flush();
    }

    static final String WARM_PROBLEM = "import java.util.*;\nimport java.util.stream.*;\nclass Problem {\n"
        + "    public static ArrayList<Long> f(ArrayList<Long> xs, String s, HashMap<String, Long> m) {\n"
        + "        ArrayList<Long> out = new ArrayList<>();\n"
        + "        for (long x : xs) { if (x % 2 == 0 && s.length() > 0) out.add(x * m.getOrDefault(s, 1L)); }\n"
        + "        return out.stream().sorted().collect(Collectors.toCollection(ArrayList::new));\n    }\n}\n";
    static final String WARM_HARNESS = "import java.util.*;\nfinal class CodeselfHarness {\n"
        + "    public static void main(String[] args) {\n        Object[] calls = new Object[] {\n"
        + "            Problem.f(new ArrayList<Long>(Arrays.asList(1L, 2L, 3L)), \"a\", new HashMap<String, Long>()),\n"
        + "            Optional.of(3L), List.of(\"x\", \"y\")\n        };\n    }\n}\n";
}
