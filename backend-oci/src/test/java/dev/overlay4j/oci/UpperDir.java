package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

/**
 * Builds directories in the kernel's overlayfs upper format for tests, as root makes them:
 * whiteouts as 0/0 character devices or empty files with {@code trusted.overlay.whiteout},
 * opaque directories, redirects and metacopy marks as {@code trusted.overlay.*} xattrs (which
 * the JDK cannot write: {@code lsetxattr(2)} through FFM).
 */
final class UpperDir {

    final Path root;

    UpperDir(Path root) throws IOException {
        this.root = Files.createDirectories(root);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    Path path(String rel) {
        return root.resolve(rel);
    }

    UpperDir file(String rel, String content) throws IOException {
        return file(rel, content.getBytes(StandardCharsets.UTF_8));
    }

    UpperDir file(String rel, byte[] content) throws IOException {
        Files.createDirectories(path(rel).getParent());
        Files.write(path(rel), content);
        return this;
    }

    UpperDir dir(String rel) throws IOException {
        Files.createDirectories(path(rel));
        return this;
    }

    UpperDir symlink(String rel, String target) throws IOException {
        Files.createDirectories(path(rel).getParent());
        Files.createSymbolicLink(path(rel), Path.of(target));
        return this;
    }

    UpperDir hardLink(String rel, String existing) throws IOException {
        Files.createLink(path(rel), path(existing));
        return this;
    }

    UpperDir mode(String rel, String permissions) throws IOException {
        Files.setPosixFilePermissions(path(rel), PosixFilePermissions.fromString(permissions));
        return this;
    }

    UpperDir owner(String rel, long uid, long gid) throws IOException {
        Files.setAttribute(path(rel), "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path(rel), "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
        return this;
    }

    /** A whiteout as the kernel makes it: a character device 0/0. */
    UpperDir whiteout(String rel) throws Exception {
        Files.createDirectories(path(rel).getParent());
        run("mknod", path(rel).toString(), "c", "0", "0");
        return this;
    }

    /** A whiteout as the kernel reads it where it cannot make devices: an empty file with the whiteout xattr. */
    UpperDir xattrWhiteout(String rel) throws Throwable {
        file(rel, "");
        return xattr(rel, "trusted.overlay.whiteout", "y");
    }

    UpperDir device(String rel, char type, int major, int minor) throws Exception {
        Files.createDirectories(path(rel).getParent());
        run("mknod", path(rel).toString(), String.valueOf(type), String.valueOf(major), String.valueOf(minor));
        return this;
    }

    UpperDir fifo(String rel) throws Exception {
        Files.createDirectories(path(rel).getParent());
        run("mkfifo", path(rel).toString());
        return this;
    }

    UpperDir opaque(String rel) throws Throwable {
        return xattr(rel, "trusted.overlay.opaque", "y");
    }

    /** The kernel's mark of a renamed directory (or of a metacopy file that moved): where its lower content is. */
    UpperDir redirect(String rel, String target) throws Throwable {
        return xattr(rel, "trusted.overlay.redirect", target);
    }

    /** A metadata-only copy-up: the file keeps its size, its data stays in the lower layers. */
    UpperDir metacopy(String rel, long size) throws Throwable {
        Files.createDirectories(path(rel).getParent());
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(path(rel).toFile(), "rw")) {
            file.setLength(size); // a hole: the kernel copies no data up
        }
        return xattr(rel, "trusted.overlay.metacopy", "");
    }

    UpperDir xattr(String rel, String name, String value) throws Throwable {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        Linker linker = Linker.nativeLinker();
        MethodHandle set = linker.downcallHandle(linker.defaultLookup().find("lsetxattr").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Math.max(1, bytes.length));
            v.copyFrom(MemorySegment.ofArray(bytes));
            int r = (int) set.invokeExact(arena.allocateFrom(path(rel).toString()), arena.allocateFrom(name), v,
                    (long) bytes.length, 0);
            assertEquals(0, r, "lsetxattr " + name + " on " + path(rel));
        }
        return this;
    }

    /** Sets the modification time of every entry, symlinks themselves included (so that listings can be exact). */
    UpperDir mtimes(long nanos) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = walk.toList();
        }
        for (Path p : all.reversed()) {
            setMtime(p, nanos);
        }
        return this;
    }

    UpperDir mtime(String rel, long nanos) throws IOException {
        setMtime(path(rel), nanos);
        return this;
    }

    /**
     * The JDK opens the file to set its times, which waits forever on a FIFO (and would open a
     * device): those get theirs from touch(1).
     */
    private static void setMtime(Path p, long nanos) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                || Files.isSymbolicLink(p)) {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(FileTime.from(Instant.ofEpochSecond(0, nanos)), null, null);
            return;
        }
        String time = "@" + Math.floorDiv(nanos, 1_000_000_000L) + "." + String.format("%09d", Math.floorMod(nanos, 1_000_000_000L));
        try {
            run("touch", "-h", "-m", "-d", time, p.toString());
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + output);
    }

    /** Runs a command and returns its standard output; fails on a non-zero exit. */
    static String output(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command));
        return output;
    }
}
