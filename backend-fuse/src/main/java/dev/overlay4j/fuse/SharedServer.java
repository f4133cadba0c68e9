package dev.overlay4j.fuse;

import dev.overlay4j.fuse.kernel.Syscalls;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One server JVM for many mounts of one user: the JVM that the launcher starts for a mount
 * stays, once that mount is live, to mount and serve what later {@code overlay4j} commands of
 * the same user ask, so that such a mount costs no JVM start (podman and buildah mount once per
 * container and per build step). It ends when it has served no mount for
 * {@value #DEFAULT_IDLE_SECONDS} s ({@code OVERLAY4J_SHARE_IDLE}).
 *
 * <p>The launcher (bin/overlay4j, a shell script, so that asking costs no JVM) names the
 * directory: {@code OVERLAY4J_SHARE_DIR}, else {@code /run/overlay4j} for root and
 * {@code $XDG_RUNTIME_DIR/overlay4j} (else {@code /tmp/overlay4j-UID}) for others; it must be
 * the user's, mode 0700. In it this server
 * holds a lock on {@code lock} (one server per directory), writes its process id to {@code pid}
 * and reads request names, one per line, from the FIFO {@code requests}. A request is a
 * directory {@code req.*} made there by the command: {@code args} (its arguments, each ended by
 * NUL), {@code cwd}, {@code ns} (its mount and user namespaces), {@code env} (the variables that
 * change how a server runs: NAME=VALUE, each ended by NUL) and the FIFO {@code reply}, on which
 * the server writes one line: {@code ok}, {@code error STATUS: MESSAGE}, or {@code decline:
 * REASON}, after which the command starts a JVM of its own.
 *
 * <p>A request is declined when this JVM would not mount as a JVM of the command's own would:
 * another mount or user namespace (a mount would land in this JVM's), another installation,
 * other JVM options or AWS settings in its environment, jars changed on disk since this JVM
 * started (a new build), a
 * {@code log=} option (the log is a JVM's standard error), or {@code -f}.
 */
final class SharedServer {

    /** Set by the launcher: the directory of the shared server of this user. */
    static final String DIR_ENV = "OVERLAY4J_SHARE_DIR";
    static final String IDLE_ENV = "OVERLAY4J_SHARE_IDLE";
    static final int DEFAULT_IDLE_SECONDS = 10;
    private static final Pattern REQUEST_NAME = Pattern.compile("req\\.[A-Za-z0-9]{1,32}");

    private final Path dir;
    private final FileLock lock;
    private final RandomAccessFile requests;
    private final long idleNanos;
    private final Map<String, String> environment = sharedEnvironment(System.getenv());
    private final String namespaces;
    private final Map<Path, FileTime> jars;
    private final Object state = new Object();
    private int live = 1; // the mount this JVM was started for
    private long idleSince;
    private boolean stopping;
    private boolean retired;

    private SharedServer(Path dir, FileLock lock, RandomAccessFile requests, long idleNanos, String namespaces,
            Map<Path, FileTime> jars) {
        this.dir = dir;
        this.lock = lock;
        this.requests = requests;
        this.idleNanos = idleNanos;
        this.namespaces = namespaces;
        this.jars = jars;
    }

    /**
     * Starts taking requests in {@code dir}; null, after a line on standard error, when another
     * server already does or the directory is not this user's alone.
     */
    static SharedServer start(Path dir) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            }
            Map<String, Object> owner = Files.readAttributes(dir, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            int uid = (int) owner.get("uid");
            int mode = (int) owner.get("mode");
            try (Syscalls sys = new Syscalls()) {
                if (uid != sys.geteuid() || (mode & 077) != 0 || (mode & 0170000) != 0040000) {
                    System.err.println("overlay4j: not sharing this JVM: " + dir + " must be a directory of uid "
                            + sys.geteuid() + " with mode 0700");
                    return null;
                }
                FileChannel lockFile = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockFile.tryLock();
                if (lock == null) {
                    lockFile.close();
                    return null; // another JVM serves this directory
                }
                Path fifo = dir.resolve("requests");
                Files.deleteIfExists(fifo);
                int made = sys.mkfifo(fifo.toString(), 0600);
                if (made < 0) {
                    lock.release();
                    lockFile.close();
                    System.err.println("overlay4j: not sharing this JVM: mkfifo " + fifo + ": " + Syscalls.message(made));
                    return null;
                }
                // Read and write: opening never waits for a writer, and reading never sees end of file.
                RandomAccessFile requests = new RandomAccessFile(fifo.toFile(), "rw");
                SharedServer server = new SharedServer(dir, lock, requests, idleNanos(), namespaces(), jarTimes());
                Path pid = dir.resolve("pid");
                Path staged = dir.resolve("pid.new");
                Files.writeString(staged, ProcessHandle.current().pid() + "\n");
                Files.move(staged, pid, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Thread accept = new Thread(server::accept, "overlay4j-shared-requests");
                accept.setDaemon(true);
                accept.start();
                return server;
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("overlay4j: not sharing this JVM: " + Main.message(e));
            return null;
        }
    }

    private static long idleNanos() {
        String value = System.getenv(IDLE_ENV);
        long seconds = DEFAULT_IDLE_SECONDS;
        if (value != null && value.matches("[0-9]{1,6}")) {
            seconds = Long.parseLong(value);
        }
        return seconds * 1_000_000_000L;
    }

    /** This process's mount and user namespaces, as /proc names them (the launcher writes its own so). */
    private static String namespaces() throws IOException {
        Path proc = Path.of("/proc/self/ns");
        return Files.readSymbolicLink(proc.resolve("mnt")) + "\n" + Files.readSymbolicLink(proc.resolve("user")) + "\n";
    }

    /**
     * The variables that change how a JVM of the command's would run: its options, the user's
     * home, AWS's settings, and the installation (OVERLAY4J_INSTALL, set by the launcher).
     */
    static Map<String, String> sharedEnvironment(Map<String, String> env) {
        Map<String, String> shared = new TreeMap<>();
        env.forEach((name, value) -> {
            if (name.startsWith("AWS_") || name.equals("HOME") || name.equals("OVERLAY4J_JAVA_OPTS")
                    || name.equals("OVERLAY4J_HOME") || name.equals("OVERLAY4J_INSTALL") || name.equals("JAVA_HOME")) {
                shared.put(name, value);
            }
        });
        return shared;
    }

    /** The jars of this JVM's module path and their modification times. */
    private static Map<Path, FileTime> jarTimes() throws IOException {
        Map<Path, FileTime> times = new HashMap<>();
        String modulePath = System.getProperty("jdk.module.path", "");
        for (String entry : modulePath.split(java.io.File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                try (var jarsInDir = Files.list(path)) {
                    for (Path jar : jarsInDir.filter(p -> p.toString().endsWith(".jar")).toList()) {
                        times.put(jar, Files.getLastModifiedTime(jar));
                    }
                }
            } else if (Files.exists(path)) {
                times.put(path, Files.getLastModifiedTime(path));
            }
        }
        return times;
    }

    private boolean jarsChanged() {
        for (Map.Entry<Path, FileTime> jar : jars.entrySet()) {
            try {
                if (!Files.getLastModifiedTime(jar.getKey()).equals(jar.getValue())) {
                    return true;
                }
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    /** One mount served by this JVM has ended. */
    void mountEnded() {
        synchronized (state) {
            live--;
            if (live == 0) {
                idleSince = System.nanoTime();
            }
            state.notifyAll();
        }
    }

    /**
     * Returns once no mount has been served for the idle time (or, after {@link #retire}, once
     * none is left); no request is taken after that.
     */
    void serveUntilIdle() {
        synchronized (state) {
            while (live > 0 || !stopping && System.nanoTime() - idleSince < idleNanos) {
                waitNanos(live > 0 ? Long.MAX_VALUE : idleNanos - (System.nanoTime() - idleSince));
            }
            stopping = true; // under the same lock: accept counts no mount from now on
        }
        retire();
    }

    /**
     * Takes no more requests: new commands find no server here (and the next JVM started may
     * take the directory over); a name written just before is still read, and declined.
     */
    private void retire() {
        synchronized (state) {
            if (retired) {
                return;
            }
            retired = true;
            stopping = true;
        }
        try {
            Files.deleteIfExists(dir.resolve("requests"));
            Files.deleteIfExists(dir.resolve("pid"));
            Thread.sleep(200);
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            System.err.println("overlay4j: stopping the shared server: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void waitNanos(long nanos) {
        try {
            long millis = Math.max(1, Math.min(nanos / 1_000_000, 60_000));
            state.wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void accept() {
        while (true) {
            String name;
            try {
                name = readLine();
            } catch (IOException e) {
                return;
            }
            if (name == null) {
                return;
            }
            synchronized (state) {
                if (stopping) {
                    decline(name, "the shared server is stopping");
                    continue;
                }
                live++; // counted now, so that the server cannot go idle while this mount is made
            }
            // Virtual: the thread only waits for its mount to end (the mount's readers are its own).
            Thread.ofVirtual().name("overlay4j-shared-mount").start(() -> handle(name));
        }
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = requests.read();
            if (c < 0) {
                return line.isEmpty() ? null : line.toString();
            }
            if (c == '\n') {
                return line.toString();
            }
            if (line.length() < 256) {
                line.append((char) c);
            }
        }
    }

    /** Mounts what one request asks, answers, and serves the mount until it is unmounted. */
    private void handle(String name) {
        try {
            Path request = requestDir(name);
            if (request == null) {
                return;
            }
            String refusal = refusal(request);
            if (refusal != null) {
                reply(request, "decline: " + refusal);
                return;
            }
            List<String> args = nulSeparated(Files.readString(request.resolve("args")));
            Path cwd = Path.of(Files.readString(request.resolve("cwd")).strip());
            Main.Prepared prepared;
            try {
                CommandLine line = CommandLine.parse(args.toArray(String[]::new));
                if (line.help() || line.version() || line.foreground()) {
                    reply(request, "decline: not a mount that detaches");
                    return;
                }
                if (!cwd.isAbsolute()) {
                    reply(request, "decline: the working directory " + cwd + " is not absolute");
                    return;
                }
                prepared = Main.prepare(line, cwd);
            } catch (IllegalArgumentException e) {
                reply(request, "error " + Main.EXIT_USAGE + ": " + Main.oneLine(e.getMessage()));
                return;
            } catch (IOException e) {
                reply(request, "error " + Main.EXIT_FAILURE + ": " + Main.oneLine(e.getMessage()));
                return;
            }
            if (prepared.log() != null) {
                reply(request, "decline: a mount with log= has a JVM of its own");
                return;
            }
            Main.Served mount;
            try {
                mount = Main.startServing(prepared);
            } catch (IOException e) {
                reply(request, "error " + Main.EXIT_FAILURE + ": " + Main.oneLine(Main.message(e)));
                return;
            }
            reply(request, "ok");
            Main.serveUntilUnmounted(mount);
        } catch (IOException | RuntimeException e) {
            System.err.println("overlay4j: shared server: request " + name + ": " + Main.message(e));
        } finally {
            mountEnded();
        }
    }

    /** The request's directory, when it is one this user made in the shared directory. */
    private Path requestDir(String name) throws IOException {
        if (!REQUEST_NAME.matcher(name).matches()) {
            System.err.println("overlay4j: shared server: ignoring a request named " + name);
            return null;
        }
        Path request = dir.resolve(name);
        if (!Files.isDirectory(request, LinkOption.NOFOLLOW_LINKS)) {
            return null; // the command gave up and removed it
        }
        return request;
    }

    /** Why this JVM would not mount as the command's own JVM would, or null. */
    private String refusal(Path request) throws IOException {
        if (!Files.readString(request.resolve("ns")).equals(namespaces)) {
            return "the command runs in another mount or user namespace";
        }
        Map<String, String> theirs = new TreeMap<>();
        for (String variable : nulSeparated(Files.readString(request.resolve("env")))) {
            int eq = variable.indexOf('=');
            if (eq > 0) {
                theirs.put(variable.substring(0, eq), variable.substring(eq + 1));
            }
        }
        if (!sharedEnvironment(theirs).equals(environment)) {
            return "the command's environment differs (JVM options, HOME or AWS settings)";
        }
        if (jarsChanged()) {
            retire(); // a JVM of the new build serves the next mounts
            return "overlay4j's jars changed since the shared server started";
        }
        return null;
    }

    private void decline(String name, String reason) {
        try {
            Path request = requestDir(name);
            if (request != null) {
                reply(request, "decline: " + reason);
            }
        } catch (IOException e) {
            // the command is gone
        }
    }

    /**
     * Writes the one reply line. The command holds its FIFO open for reading; one that is gone
     * leaves none, and the open fails (ENXIO) instead of waiting.
     */
    private static void reply(Path request, String line) throws IOException {
        Path fifo = request.resolve("reply");
        try (Syscalls sys = new Syscalls(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            int fd = sys.open(fifo.toString(), Syscalls.O_WRONLY | Syscalls.O_NONBLOCK | Syscalls.O_NOFOLLOW | Syscalls.O_CLOEXEC);
            if (fd < 0) {
                return;
            }
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
            var buffer = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, bytes);
            sys.write(fd, buffer, bytes.length);
            sys.close(fd);
        }
    }

    private static List<String> nulSeparated(String text) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\0') {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        return parts;
    }
}
