package dev.overlay4j.fuse;

import dev.overlay4j.fuse.kernel.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Mounting without privileges through the set-user-ID {@code fusermount3} of libfuse's fuse3
 * package: it opens {@code /dev/fuse}, mounts it, and hands the descriptor back over the unix
 * socket whose descriptor number it finds in {@code _FUSE_COMMFD} (SCM_RIGHTS).
 */
final class Fusermount {

    static final String PROGRAM = "fusermount3";
    /** The descriptor number the socket has in fusermount3. */
    private static final int CHILD_SOCKET_FD = 3;
    private static final int STDERR = 2;

    private Fusermount() {
    }

    /** The {@code -o} options for fusermount3. */
    static String options(FuseOptions options, boolean readOnly) {
        List<String> all = new ArrayList<>();
        all.add(readOnly ? "ro" : "rw");
        all.add("fsname=" + options.fsName());
        all.add("subtype=" + FuseMount.TYPE.substring("fuse.".length()));
        all.add("default_permissions");
        if (options.allowOther()) {
            all.add("allow_other");
        }
        for (FuseOptions.MountFlag flag : options.flags()) {
            all.add(flag.option);
        }
        return String.join(",", all);
    }

    /**
     * Mounts {@code target} and returns the FUSE device descriptor of the new mount.
     *
     * @throws IOException with fusermount3's own message when it fails
     */
    static int mount(Path target, String options) throws IOException {
        try (Syscalls sys = new Syscalls()) {
            int[] socket = sys.socketPair();
            if (socket.length < 2) {
                throw new IOException("cannot create a socket pair for " + PROGRAM + ": " + Syscalls.message(socket[0]));
            }
            int[] errors = sys.pipe();
            if (errors.length < 2) {
                sys.close(socket[0]);
                sys.close(socket[1]);
                throw new IOException("cannot create a pipe for " + PROGRAM + ": " + Syscalls.message(errors[0]));
            }
            String[] argv = {PROGRAM, "-o", options, "--", target.toString()};
            int pid = sys.spawn(argv, environment(), new int[] {socket[1], CHILD_SOCKET_FD},
                    new int[] {errors[1], STDERR});
            sys.close(socket[1]);
            sys.close(errors[1]);
            if (pid < 0) {
                sys.close(socket[0]);
                sys.close(errors[0]);
                throw new IOException("cannot run " + PROGRAM + " to mount " + target + " without privileges: "
                        + Syscalls.message(pid) + " (install the fuse3 package)");
            }
            int fd = sys.receiveFd(socket[0]);
            sys.close(socket[0]);
            int status = sys.waitFor(pid);
            String stderr = readAll(sys, errors[0]).strip();
            sys.close(errors[0]);
            if (fd < 0 || status != 0) {
                if (fd >= 0) {
                    sys.close(fd);
                }
                throw new IOException(PROGRAM + " could not mount " + target + ": "
                        + (stderr.isEmpty() ? "exit status " + status : stderr.replace('\n', ' ')));
            }
            return fd;
        }
    }

    /** Detaches the mount ({@code fusermount3 -u -z}): at once, or once its last user lets go. */
    static void unmount(Path target) throws IOException {
        Process process = new ProcessBuilder(PROGRAM, "-u", "-z", "--", target.toString())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(PROGRAM + " -u " + target + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unmounting " + target, e);
        }
        // "not found in /etc/mtab" / "entry not found": someone else unmounted it already.
        if (process.exitValue() != 0 && !output.contains("not found")) {
            throw new IOException("cannot unmount " + target + ": " + output);
        }
    }

    private static String[] environment() {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> variable : System.getenv().entrySet()) {
            if (!variable.getKey().startsWith("_FUSE_")) {
                env.add(variable.getKey() + "=" + variable.getValue());
            }
        }
        env.add("_FUSE_COMMFD=" + CHILD_SOCKET_FD);
        return env.toArray(String[]::new);
    }

    private static String readAll(Syscalls sys, int fd) {
        StringBuilder text = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096);
            long n;
            while ((n = sys.read(fd, buffer, buffer.byteSize())) > 0 || n == -Syscalls.EINTR) {
                if (n > 0) {
                    text.append(new String(buffer.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            StandardCharsets.UTF_8));
                }
            }
        }
        return text.toString();
    }
}
