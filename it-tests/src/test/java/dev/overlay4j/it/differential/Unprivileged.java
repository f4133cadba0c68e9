package dev.overlay4j.it.differential;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The differential run of a user without privileges, on both sides: the kernel's overlayfs
 * mounted in a new user and mount namespace ({@code unshare --user --map-root-user --mount},
 * which forces userxattr, redirect_dir=nofollow and index=off), and the overlay4j command run as
 * that user, mounting through fusermount3 with {@code userxattr,redirect_dir=off}. The
 * operations run on a thread that is that user (see {@link Callers}), which reaches the kernel's
 * mount through {@code /proc/PID/root} of the process that holds the namespace.
 *
 * <p>The layers have no hard links: the kernel cannot keep them with userxattr (index=on is
 * refused), overlay4j always does (a deliberate difference, see the README); the privileged
 * runs compare them with the kernel's index=on. Every directory gives its owner rwx, and no
 * operation takes that away (see {@link KnownDifference#UNPRIVILEGED_SERVER_HAS_ONLY_THE_USERS_RIGHTS}).
 */
final class Unprivileged implements AutoCloseable {
    /** The system user the project's unprivileged tests share (see backend-fuse UnprivilegedMountTest). */
    static final String USER = "overlay4j-test";
    private static final Path DEVICE = Path.of("/dev/fuse");
    private static final long MOUNT_TIMEOUT_MILLIS = 30_000;

    static final String KERNEL_NAME = "kernel(user namespace, userxattr)";
    static final String OVERLAY4J_NAME = "overlay4j(fuse, fusermount3, userxattr)";

    private final Identity user;
    private final Set<PosixFilePermission> deviceMode;
    final OverlayUnderTest.Kind kernel;
    final OverlayUnderTest.Kind overlay4j;

    private Unprivileged(Identity user, Set<PosixFilePermission> deviceMode, Path modules) {
        this.user = user;
        this.deviceMode = deviceMode;
        this.kernel = OverlayUnderTest.Kind.of(KERNEL_NAME, OverlayUnderTest.Features.USER_MOUNT,
                (layout, scratch) -> UserNamespaceMount.mount(layout, scratch));
        this.overlay4j = OverlayUnderTest.Kind.of(OVERLAY4J_NAME, OverlayUnderTest.Features.USER_MOUNT,
                (layout, scratch) -> UserFuseMount.mount(layout, scratch, modules));
    }

    /** The setup of the run: layers owned by the user, in the userxattr format, without hard links. */
    DifferentialRun.Setup setup() {
        return new DifferentialRun.Setup(new LayerGenerator.Options(false, new int[] {user.uid(), user.gid()},
                "user.overlay.", true), user);
    }

    /**
     * Prepares the run, or says why it cannot run here (null when it can, then {@code prepared}
     * holds it): the user exists or is created, fusermount3 is installed, {@code /dev/fuse} is
     * opened to the user for the run (fusermount3 opens it with the user's rights; udev makes it
     * 0666 on a normal system, this kind of machine has 0600), and the module path is copied where
     * the user can read it.
     */
    static String prepare(Path scratch, Unprivileged[] prepared) throws IOException {
        if (Native.uid() != 0) {
            return "not running as root, so there is no user to become and no /dev/fuse to open up";
        }
        if (Callers.unavailable() != null) {
            return Callers.unavailable();
        }
        if (!Files.isExecutable(Path.of("/usr/bin/fusermount3")) && !Files.isExecutable(Path.of("/bin/fusermount3"))) {
            return "fusermount3 is not installed (package fuse3), so overlay4j cannot mount as a user";
        }
        if (!Files.exists(DEVICE)) {
            return "/dev/fuse is missing";
        }
        Shell.Result id = Shell.run("id", "-u", USER);
        if (!id.ok()) {
            Shell.Result add = Shell.run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER);
            if (!add.ok() && add.status() != 9) {
                return "cannot create the user " + USER + ": " + add.describe();
            }
        }
        int uid = Integer.parseInt(Shell.run("id", "-u", USER).output().strip());
        int gid = Integer.parseInt(Shell.run("id", "-g", USER).output().strip());
        Identity user = new Identity(USER, uid, gid, List.of(gid));
        Shell.Result namespaces = Shell.run("runuser", "-u", USER, "--", "unshare", "--user", "--map-root-user",
                "--mount", "true");
        if (!namespaces.ok()) {
            return "the user cannot make a user and mount namespace (" + namespaces.describe()
                    + "); /proc/sys/user/max_user_namespaces or a security module forbids it";
        }
        Path modules = copyModulePath(Files.createDirectories(scratch.resolve("modules")));
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(DEVICE);
        Set<PosixFilePermission> open = EnumSet.copyOf(mode);
        open.addAll(EnumSet.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE));
        Files.setPosixFilePermissions(DEVICE, open);
        prepared[0] = new Unprivileged(user, mode, modules);
        return null;
    }

    /** Copies the overlay4j command's modules (jars or class directories) where the user can read them. */
    private static Path copyModulePath(Path into) throws IOException {
        List<String> names = List.of("overlay-api", "overlay-cli", "overlay-core", "backend-nio", "backend-fuse");
        int copied = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            String file = source.getFileName().toString();
            boolean jar = names.stream().anyMatch(name -> file.startsWith(name + "-") && file.endsWith(".jar"));
            boolean classes = names.stream().anyMatch(name -> entry.endsWith(name + "/target/classes"));
            if (!jar && !classes) {
                continue;
            }
            Path copy = into.resolve(copied++ + "-" + (jar ? file : source.getParent().getParent().getFileName() + ".classes"));
            if (jar) {
                Files.copy(source, copy, StandardCopyOption.COPY_ATTRIBUTES);
            } else {
                Shell.check("cp", "-r", source.toString(), copy.toString());
            }
        }
        if (copied < names.size()) {
            throw new IOException("the test class path lacks some of " + names + ": " + System.getProperty("java.class.path"));
        }
        Shell.check("chmod", "-R", "a+rX", into.toString());
        return into;
    }

    @Override
    public void close() throws IOException {
        Files.setPosixFilePermissions(DEVICE, deviceMode);
    }

    private static boolean mounted(Path mountPoint) throws IOException {
        String target = mountPoint.toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(line -> line.split(" ")[4].equals(target));
    }

    /** The kernel's overlayfs in a user and mount namespace that a process of the user holds. */
    static final class UserNamespaceMount implements OverlayUnderTest {
        private final Process holder;
        private final long pid;
        private final Path root;

        private UserNamespaceMount(Process holder, long pid, Path root) {
            this.holder = holder;
            this.pid = pid;
            this.root = root;
        }

        static UserNamespaceMount mount(Layout layout, Path scratch) throws IOException {
            Path mountPoint = Files.createDirectories(scratch.resolve("merged"));
            Shell.check("chown", USER, mountPoint.toString());
            String script = "mount -t overlay overlay -o '" + layout.mountOptions("userxattr") + "' '" + mountPoint
                    + "' && echo \"mounted $$\" && exec sleep 100000";
            Process holder = new ProcessBuilder("runuser", "-u", USER, "--", "unshare", "--user", "--map-root-user",
                    "--mount", "sh", "-c", script).redirectErrorStream(true).start();
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line = output.readLine();
            if (line == null || !line.startsWith("mounted ")) {
                StringBuilder rest = new StringBuilder(line == null ? "" : line);
                for (String more = output.readLine(); more != null; more = output.readLine()) {
                    rest.append('\n').append(more);
                }
                holder.destroyForcibly();
                throw new IOException("mount -t overlay in a user namespace failed: " + rest);
            }
            long pid = Long.parseLong(line.substring("mounted ".length()).strip());
            return new UserNamespaceMount(holder, pid, Path.of("/proc/" + pid + "/root" + mountPoint));
        }

        @Override
        public Path root() {
            return root;
        }

        /** Ends the process that holds the namespace; the mount goes with it. */
        @Override
        public void close() throws IOException {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            try {
                if (!holder.waitFor(10, TimeUnit.SECONDS)) {
                    holder.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while ending the user namespace of " + root, e);
            }
        }
    }

    /** The overlay4j command run by the user: it mounts through fusermount3 and serves from a JVM of its own. */
    static final class UserFuseMount implements OverlayUnderTest {
        private final Process daemon;
        private final Path mountPoint;
        private final Path log;

        private UserFuseMount(Process daemon, Path mountPoint, Path log) {
            this.daemon = daemon;
            this.mountPoint = mountPoint;
            this.log = log;
        }

        static UserFuseMount mount(Layout layout, Path scratch, Path modules) throws IOException {
            Path mountPoint = Files.createDirectories(scratch.resolve("fuse-merged"));
            Path log = scratch.resolve("overlay4j.log");
            Shell.check("chown", USER, mountPoint.toString(), scratch.toString());
            String modulePath;
            try (var entries = Files.list(modules)) {
                modulePath = String.join(File.pathSeparator, entries.map(Path::toString).sorted().toList());
            }
            List<String> command = new ArrayList<>(List.of("runuser", "-u", USER, "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=dev.overlay4j.fuse,dev.overlay4j.nio", "--module-path", modulePath,
                    "-m", "dev.overlay4j.fuse/dev.overlay4j.fuse.Main", "-f",
                    "-o", layout.mountOptions("userxattr,redirect_dir=off"), mountPoint.toString()));
            Process daemon = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            UserFuseMount mount = new UserFuseMount(daemon, mountPoint, log);
            try {
                long deadline = System.currentTimeMillis() + MOUNT_TIMEOUT_MILLIS;
                while (!mounted(mountPoint)) {
                    if (!daemon.isAlive()) {
                        throw new IOException("overlay4j ended with " + daemon.exitValue() + " before mounting: "
                                + Files.readString(log));
                    }
                    if (System.currentTimeMillis() > deadline) {
                        throw new IOException(mountPoint + " was not mounted within 30 s: " + Files.readString(log));
                    }
                    Thread.sleep(20);
                }
            } catch (IOException | RuntimeException e) {
                mount.close();
                throw e;
            } catch (InterruptedException e) {
                mount.close();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while mounting " + mountPoint, e);
            }
            return mount;
        }

        @Override
        public Path root() {
            return mountPoint;
        }

        /** Unmounts as the user (fusermount3 -u), waits for the server to end; never leaves a mount behind. */
        @Override
        public void close() throws IOException {
            try {
                if (mounted(mountPoint)) {
                    Shell.Result result = Shell.run("runuser", "-u", USER, "--", "fusermount3", "-u", mountPoint.toString());
                    if (!result.ok()) {
                        Shell.run("umount", "-l", mountPoint.toString());
                    }
                }
                if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly();
                    throw new IOException("overlay4j did not end after the unmount of " + mountPoint + ": "
                            + Files.readString(log));
                }
            } catch (InterruptedException e) {
                daemon.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while unmounting " + mountPoint, e);
            } finally {
                if (mounted(mountPoint)) {
                    Shell.run("umount", "-l", mountPoint.toString());
                }
            }
        }
    }
}
