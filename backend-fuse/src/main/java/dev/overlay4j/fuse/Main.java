package dev.overlay4j.fuse;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.cli.Command;
import dev.overlay4j.fuse.kernel.Syscalls;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code overlay4j} command: mounts an overlay through FUSE. Without {@code -f} it starts
 * itself again in the background and exits once that copy reports the mount live (or with its
 * error), the way FUSE file systems behave under {@code mount.fuse3}.
 */
public final class Main {

    /** Set in the background copy's environment: it reports "ok" or "error: ..." on stdout. */
    static final String DAEMON_ENV = "OVERLAY4J_DAEMON_STATUS";
    /**
     * Set by the launcher (bin/overlay4j), which starts this JVM in the background for a mount
     * that is to detach: the number of a descriptor on which to report "ok" or "error: ...". The
     * JVM then detaches itself instead of starting a second JVM, and closes the descriptor at
     * once when it turns out to stay in the foreground (-f, --help, a subcommand).
     */
    static final String STATUS_FD_ENV = "OVERLAY4J_STATUS_FD";

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status (in the foreground, after the mount is gone). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        PrintStream launcher = launcherStatus();
        Optional<Command> command = args.length == 0 ? Optional.empty() : command(args[0]);
        if (command.isPresent()) {
            closeQuietly(launcher);
            return command.get().run(List.of(args).subList(1, args.length), out, err);
        }
        boolean daemonChild = System.getenv(DAEMON_ENV) != null;
        Prepared prepared;
        try {
            CommandLine line = CommandLine.parse(args);
            if (launcher != null && (line.help() || line.version() || line.foreground())) {
                closeQuietly(launcher); // the launcher waits for this JVM, which stays in the foreground
                launcher = null;
            }
            if (line.help()) {
                out.print(CommandLine.USAGE);
                List<Command> commands = commands();
                if (!commands.isEmpty()) {
                    out.println();
                    out.println("Commands from installed modules:");
                    commands.forEach(c -> out.println("  overlay4j " + c.summary()));
                }
                return EXIT_OK;
            }
            if (line.version()) {
                out.println("overlay4j " + version());
                return EXIT_OK;
            }
            prepared = prepare(line, null);
        } catch (IllegalArgumentException e) {
            return failBeforeServing(launcher, daemonChild ? out : err, daemonChild, e.getMessage(), EXIT_USAGE);
        } catch (IOException e) {
            return failBeforeServing(launcher, daemonChild ? out : err, daemonChild, e.getMessage(), EXIT_FAILURE);
        }
        if (launcher != null) {
            // Started in the background by the launcher: this JVM becomes the server itself.
            try {
                detachAsServer(prepared.log());
            } catch (IOException e) {
                return failBeforeServing(launcher, err, true, e.getMessage(), EXIT_FAILURE);
            }
            // A mount with a log of its own keeps the JVM to itself: the log is the JVM's standard error.
            String shareDir = prepared.log() == null ? System.getenv(SharedServer.DIR_ENV) : null;
            return serve(prepared, launcher, launcher, shareDir == null || shareDir.isEmpty() ? null : Path.of(shareDir));
        }
        if (!prepared.line().foreground()) {
            return runInBackground(args, err, prepared.log());
        }
        if (daemonChild) {
            detachFromTerminal();
        } else if (prepared.log() != null) {
            // Before anything logs: java.util.logging's console handler keeps the stream it first saw.
            try {
                System.setErr(new PrintStream(new FileOutputStream(prepared.log().toFile(), true), true,
                        StandardCharsets.UTF_8));
            } catch (IOException e) {
                return fail(err, false, "cannot write the log file " + prepared.log() + ": " + e.getMessage(), EXIT_FAILURE);
            }
        }
        return serve(prepared, daemonChild ? out : null, daemonChild ? out : err, null);
    }

    /** The subcommands other modules add (backend-s3's push, ...), by name. */
    private static List<Command> commands() {
        List<Command> commands = new ArrayList<>();
        ServiceLoader.load(Command.class).forEach(commands::add);
        commands.sort(java.util.Comparator.comparing(Command::name));
        return commands;
    }

    /** The subcommand named {@code word}; options and a mount's SOURCE never start a subcommand. */
    private static Optional<Command> command(String word) {
        if (word.startsWith("-")) {
            return Optional.empty();
        }
        return commands().stream().filter(c -> c.name().equals(word)).findFirst();
    }

    record Prepared(CommandLine line, OverlayConfig config, FuseOptions fuse, Path mountpoint, Path log) {
    }

    /**
     * Every check that can fail before anything is opened or mounted; relative paths are taken
     * against {@code cwd} (the command's, when a shared server mounts for it), or this JVM's.
     */
    static Prepared prepare(CommandLine line, Path cwd) throws IOException {
        OverlayConfig config = OverlayConfig.fromMountOptions(line.options(), cwd);
        FuseOptions fuse = CommandLine.fuseOptions(config);
        Path mountpoint = (cwd == null ? Path.of(line.mountpoint()).toAbsolutePath() : cwd.resolve(line.mountpoint())).normalize();
        // As the kernel's overlayfs and fuse-overlayfs (libfuse 3): a directory with entries may be
        // mounted over; they are hidden until the mount is gone.
        java.nio.file.attribute.BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(mountpoint, java.nio.file.attribute.BasicFileAttributes.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("mountpoint " + mountpoint + " does not exist: create an empty directory there");
        } catch (java.nio.file.FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("Transport endpoint is not connected")) {
                throw new IOException("mountpoint " + mountpoint + " is a FUSE mount whose server is gone (ENOTCONN):"
                        + " unmount it first with umount " + mountpoint + " (or fusermount3 -u " + mountpoint + ")");
            }
            throw new IOException("mountpoint " + mountpoint + ": " + e.getReason());
        }
        if (!attributes.isDirectory()) {
            throw new IOException("mountpoint " + mountpoint + " is not a directory");
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new IOException("/dev/fuse is missing: load the fuse kernel module (modprobe fuse), "
                    + "or in a container pass --device /dev/fuse");
        }
        Path log = CommandLine.logFile(config);
        if (log != null) {
            try (FileOutputStream opened = new FileOutputStream(log.toFile(), true)) {
                // Only to know now, not after detaching, that the log can be written.
            } catch (IOException e) {
                throw new IOException("cannot write the log file " + log + ": " + e.getMessage(), e);
            }
        }
        return new Prepared(line, config, fuse, mountpoint, log);
    }

    /** A live mount: its overlay, its FUSE mount, and the hook that unmounts it at SIGTERM. */
    record Served(Prepared prepared, Overlay overlay, FuseMount mount, Thread hook, AtomicBoolean closed) {
    }

    /** Opens the overlay and mounts it; the mount is live when this returns. */
    static Served startServing(Prepared prepared) throws IOException {
        Overlay overlay;
        try {
            overlay = Overlay.open(prepared.config());
        } catch (RuntimeException e) {
            throw new IOException(message(e), e);
        }
        FuseMount mount;
        try {
            mount = FuseMount.mount(overlay, prepared.mountpoint(), prepared.fuse());
        } catch (IOException | RuntimeException e) {
            closeQuietly(overlay);
            throw e instanceof IOException io ? io : new IOException(message(e), e);
        }
        AtomicBoolean closed = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            // SIGTERM or SIGINT: unmount (lazily when busy: users still inside keep working until
            // the JVM is gone), but only if the mount at the path is still this one.
            try {
                mount.close();
            } catch (IOException e) {
                System.err.println("overlay4j: " + e.getMessage());
            }
            if (closed.compareAndSet(false, true)) {
                closeQuietly(overlay);
            }
        }, "overlay4j-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (prepared.log() != null) {
            System.err.println(java.time.Instant.now() + " overlay4j " + version() + ": serving " + prepared.mountpoint());
        }
        return new Served(prepared, overlay, mount, hook, closed);
    }

    /** Serves a live mount until it is unmounted, then closes its overlay. */
    static void serveUntilUnmounted(Served served) {
        try {
            served.mount().awaitUnmount();
            served.mount().close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            System.err.println("overlay4j: " + e.getMessage());
        }
        if (served.closed().compareAndSet(false, true)) {
            closeQuietly(served.overlay());
        }
        try {
            Runtime.getRuntime().removeShutdownHook(served.hook());
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs
        }
        if (served.prepared().log() != null) {
            System.err.println(java.time.Instant.now() + " overlay4j: unmounted " + served.prepared().mountpoint());
        }
    }

    /**
     * Opens the overlay, mounts it and serves until it is unmounted. With {@code shareDir}, the
     * JVM then also serves the mounts that later commands of this user ask of it there (see
     * {@link SharedServer}), and ends once it has served none for a while.
     */
    private static int serve(Prepared prepared, PrintStream status, PrintStream err, Path shareDir) {
        Served served;
        try {
            served = startServing(prepared);
        } catch (IOException e) {
            return fail(err, status != null, message(e), EXIT_FAILURE);
        }
        if (status != null) {
            status.println("ok");
            status.flush();
            status.close();
        }
        SharedServer shared = shareDir == null ? null : SharedServer.start(shareDir);
        serveUntilUnmounted(served);
        if (shared != null) {
            shared.mountEnded();
            shared.serveUntilIdle();
        }
        return EXIT_OK;
    }

    /**
     * Starts this command again with {@code -f} in its own session, waits for its one status
     * line, and returns 0 once it reports the mount live.
     */
    private static int runInBackground(String[] args, PrintStream err, Path log) {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String java = info.command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String[] all = info.arguments().orElse(null);
        if (all == null || all.length < args.length
                || !Arrays.equals(Arrays.copyOfRange(all, all.length - args.length, all.length), args)) {
            return fail(err, false, "cannot tell how this JVM was started, so cannot detach; run with -f", EXIT_FAILURE);
        }
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(Arrays.asList(all).subList(0, all.length - args.length));
        command.add("-f");
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put(DAEMON_ENV, "1");
        try {
            Process child = builder.start();
            String line;
            try (InputStream stdout = child.getInputStream();
                 BufferedReader reader = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
                // The status line may follow what JVM options print (-XX:StartFlightRecording, -verbose).
                do {
                    line = reader.readLine();
                } while (line != null && !line.equals("ok") && !line.startsWith("error: "));
            }
            if ("ok".equals(line)) {
                return EXIT_OK;
            }
            if (line != null && line.startsWith("error: ")) {
                err.println("overlay4j: " + line.substring("error: ".length()));
                child.waitFor();
                return child.exitValue() == 0 ? EXIT_FAILURE : child.exitValue();
            }
            int status = child.waitFor();
            err.println("overlay4j: the background server exited with status " + status + " before the mount was live");
            return EXIT_FAILURE;
        } catch (IOException e) {
            return fail(err, false, "cannot start the background server: " + e.getMessage(), EXIT_FAILURE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_FAILURE;
        }
    }

    /** The launcher's status descriptor as a stream (the descriptor itself closed), or null without a launcher. */
    private static PrintStream launcherStatus() {
        String fd = System.getenv(STATUS_FD_ENV);
        if (fd == null || !fd.matches("[0-9]+")) {
            return null;
        }
        try {
            PrintStream status = new PrintStream(new FileOutputStream("/proc/self/fd/" + fd), true,
                    StandardCharsets.UTF_8);
            try (Syscalls sys = new Syscalls()) {
                sys.close(Integer.parseInt(fd)); // the stream holds the pipe now: closing it ends the launcher's read
            }
            return status;
        } catch (IOException e) {
            return null; // no launcher listening after all
        }
    }

    private static int failBeforeServing(PrintStream launcher, PrintStream stream, boolean asStatus, String message,
            int exit) {
        if (launcher != null) {
            int status = fail(launcher, true, message, exit);
            launcher.close();
            return status;
        }
        return fail(stream, asStatus, message, exit);
    }

    private static void closeQuietly(PrintStream stream) {
        if (stream != null) {
            stream.close();
        }
    }

    /**
     * Leaves the terminal's session and lets go of the terminal: standard input and output from
     * and to /dev/null, standard error to the log file when there is one, else /dev/null.
     */
    private static void detachAsServer(Path log) throws IOException {
        detachFromTerminal();
        try (Syscalls sys = new Syscalls()) {
            int nothing = sys.open("/dev/null", Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
            int errors = log == null ? nothing
                    : sys.open(log.toString(), Syscalls.O_WRONLY | Syscalls.O_APPEND | Syscalls.O_CLOEXEC);
            if (nothing < 0 || errors < 0) {
                throw new IOException("cannot detach from the terminal: " + Syscalls.message(nothing < 0 ? nothing : errors));
            }
            sys.dup2(nothing, 0);
            sys.dup2(nothing, 1);
            sys.dup2(errors, 2);
            // Hold no caller's directory busy (a file system to be unmounted once the mount is gone);
            // paths were made absolute against it already (the JVM's user.dir stays as it was).
            sys.chdir("/");
            sys.close(nothing);
            if (errors != nothing) {
                sys.close(errors);
            }
        }
    }

    /** In the background copy: leave the terminal's session so its signals do not reach us. */
    static void detachFromTerminal() {
        try (Syscalls sys = new Syscalls()) {
            sys.setsid();
        }
    }

    private static int fail(PrintStream stream, boolean asStatus, String message, int exit) {
        String oneLine = oneLine(message);
        stream.println(asStatus ? "error: " + oneLine : "overlay4j: " + oneLine);
        stream.flush();
        return exit;
    }

    /** An error message as the one line a status report carries. */
    static String oneLine(String message) {
        return message == null ? "failed" : message.replace('\n', ' ');
    }

    static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static void closeQuietly(Overlay overlay) {
        try {
            overlay.close();
        } catch (IOException e) {
            System.err.println("overlay4j: closing the overlay failed: " + e.getMessage());
        }
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }
}
