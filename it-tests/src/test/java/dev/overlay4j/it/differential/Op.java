package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One step of the random sequence, applied through java.nio to a merged root. Its outcome is
 * a normalized success value or "ERR &lt;errno&gt;"; mutations also report the lstat of what they
 * touched afterwards, so a wrong result shows at the step that caused it.
 */
sealed interface Op {
    /** Performs the operation; exceptions become the outcome via {@link #outcome(Path)}. */
    String apply(Path root) throws IOException;

    /**
     * The renames this operation makes, {source, target} each: times of the entry under its
     * new name are compared with its own under the old one (see {@link TreeWalk#changes}).
     */
    default List<String[]> renames() {
        return List.of();
    }

    /** The operation itself, inside those that run it as another user or around a held handle. */
    default Op innermost() {
        return this;
    }

    /** The normalized outcome of applying this operation to {@code root}. */
    default String outcome(Path root) {
        try {
            return apply(root);
        } catch (Exception e) {
            return Observe.failure(e);
        }
    }

    private static Path at(Path root, String path) {
        return path.isEmpty() ? root : root.resolve(path);
    }

    private static String after(Path root, String path) {
        return "ok | " + path + ": " + Observe.statOrError(at(root, path));
    }

    /** Deterministic file data: printable bytes derived from a seed. */
    record Content(long seed, int length) {
        byte[] bytes() {
            SplittableRandom random = new SplittableRandom(seed);
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) ('a' + random.nextInt(26));
            }
            return bytes;
        }

        @Override
        public String toString() {
            return length + " bytes #" + Long.toHexString(seed);
        }
    }

    enum MoveMode {
        /** Files.move without options: fails with EEXIST when the target exists. */
        PLAIN,
        /** REPLACE_EXISTING: replaces anything but a non-empty directory. */
        REPLACE,
        /** ATOMIC_MOVE: exactly rename(2). */
        ATOMIC;

        CopyOption[] options() {
            return switch (this) {
                case PLAIN -> new CopyOption[0];
                case REPLACE -> new CopyOption[] {StandardCopyOption.REPLACE_EXISTING};
                case ATOMIC -> new CopyOption[] {StandardCopyOption.ATOMIC_MOVE};
            };
        }
    }

    record Stat(String path, boolean follow) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Observe.stat(at(root, path), follow);
        }
    }

    record Read(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Observe.hash(Files.readAllBytes(at(root, path)));
        }
    }

    record ListDir(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Observe.listing(at(root, path));
        }
    }

    /** Exclusive create (O_CREAT|O_EXCL) and write. */
    record Create(String path, Content content) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            try (SeekableByteChannel channel = Files.newByteChannel(at(root, path),
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(channel, content.bytes());
            }
            return after(root, path);
        }
    }

    /** Files.write: create or truncate, following symlinks. */
    record Overwrite(String path, Content content) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.write(at(root, path), content.bytes());
            return after(root, path);
        }
    }

    /** Positional write into an existing file, possibly beyond its end (a hole). */
    record WriteAt(String path, long offset, Content content) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            try (SeekableByteChannel channel = Files.newByteChannel(at(root, path), StandardOpenOption.WRITE)) {
                channel.position(offset);
                writeFully(channel, content.bytes());
            }
            return after(root, path);
        }
    }

    record Append(String path, Content content) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.write(at(root, path), content.bytes(), StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            return after(root, path);
        }
    }

    record Truncate(String path, long size) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            try (SeekableByteChannel channel = Files.newByteChannel(at(root, path), StandardOpenOption.WRITE)) {
                channel.truncate(size);
            }
            return after(root, path);
        }
    }

    record Mkdir(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.createDirectory(at(root, path));
            return after(root, path);
        }
    }

    /** Files.delete: unlink or rmdir. */
    record Delete(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.delete(at(root, path));
            return after(root, path);
        }
    }

    /**
     * Deletes a whole subtree through the merged view, deepest first (names sorted), so lower
     * entries get whiteouts and lower directories can finally be removed.
     */
    record DeleteTree(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return "removed " + deleteTree(at(root, path)) + " " + after(root, path);
        }
    }

    /**
     * Removes a subtree and creates a directory of the same name: over a lower directory this
     * must come out opaque, showing nothing of the old content.
     */
    record RecreateDir(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            int removed = deleteTree(at(root, path));
            Files.createDirectory(at(root, path));
            return "removed " + removed + " " + after(root, path) + " | listing: " + Observe.listing(at(root, path));
        }
    }

    private static int deleteTree(Path path) throws IOException {
        int removed = 0;
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> children = new ArrayList<>();
            try (var stream = Files.newDirectoryStream(path)) {
                stream.forEach(children::add);
            }
            children.sort(null);
            for (Path child : children) {
                removed += deleteTree(child);
            }
        }
        Files.delete(path);
        return removed + 1;
    }

    record Move(String source, String target, MoveMode mode) implements Op {
        @Override
        public List<String[]> renames() {
            return List.<String[]>of(new String[] {source, target});
        }

        @Override
        public String apply(Path root) throws IOException {
            Files.move(at(root, source), at(root, target), mode.options());
            return after(root, source) + " | " + target + ": " + Observe.statOrError(at(root, target));
        }
    }

    record Symlink(String path, String target) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.createSymbolicLink(at(root, path), root.getFileSystem().getPath(target));
            return after(root, path);
        }
    }

    record ReadLink(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return "-> " + Files.readSymbolicLink(at(root, path));
        }
    }

    /** Hard link {@code path} to {@code existing} (link(2) does not follow a symlink). */
    record Link(String path, String existing) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.createLink(at(root, path), at(root, existing));
            return after(root, path) + " | " + existing + ": " + Observe.statOrError(at(root, existing));
        }
    }

    /** chmod, following symlinks. */
    record Chmod(String path, String permissions) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.setPosixFilePermissions(at(root, path), PosixFilePermissions.fromString(permissions));
            return after(root, path) + " | followed: " + Observe.stat(at(root, path), true);
        }
    }

    /** chmod with the set-id and sticky bits (unix:mode), following symlinks. */
    record SetMode(String path, int mode) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.setAttribute(at(root, path), "unix:mode", mode);
            return after(root, path) + " | followed: " + Observe.stat(at(root, path), true);
        }

        @Override
        public String toString() {
            return "SetMode[path=" + path + ", mode=" + String.format("%04o", mode) + "]";
        }
    }

    /**
     * chown (lchown when not following): the uid, then the gid, each skipped when -1, as two
     * calls, the way java.nio sets them; the second one runs even when the first failed.
     */
    record Chown(String path, int uid, int gid, boolean follow) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            String first = uid < 0 ? "-" : set("unix:uid", uid, root);
            String second = gid < 0 ? "-" : set("unix:gid", gid, root);
            return "uid: " + first + " gid: " + second + " | " + path + ": " + Observe.statOrError(at(root, path));
        }

        private String set(String attribute, int value, Path root) {
            try {
                Files.setAttribute(at(root, path), attribute, value, Observe.links(follow));
                return "ok";
            } catch (IOException | RuntimeException e) {
                return Observe.failure(e);
            }
        }
    }

    /** Sets mtime (following symlinks) to a time before {@link Observe#SET_TIMES_BEFORE}. */
    record SetMtime(String path, long millis) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Files.setLastModifiedTime(at(root, path), FileTime.fromMillis(millis));
            return after(root, path) + " | followed: " + Observe.stat(at(root, path), true);
        }
    }

    record XattrSet(String path, String name, String value) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Observe.xattrView(at(root, path)).write(name, ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)));
            return after(root, path) + " | xattrs: " + Observe.xattrs(at(root, path), true);
        }
    }

    record XattrGet(String path, String name) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Observe.readXattr(Observe.xattrView(at(root, path)), name);
        }
    }

    record XattrRemove(String path, String name) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Observe.xattrView(at(root, path)).delete(name);
            return after(root, path) + " | xattrs: " + Observe.xattrs(at(root, path), true);
        }
    }

    record XattrList(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            List<String> names = new ArrayList<>(Observe.xattrView(at(root, path)).list());
            names.sort(null);
            return names.toString();
        }
    }

    /** lsetxattr of any namespace (trusted.* too) on the entry itself, symlinks included. */
    record LXattrSet(String path, String name, String value) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Native.lsetxattr(at(root, path), name, value);
            return after(root, path) + " | xattrs: " + Observe.allXattrs(at(root, path), Observe.ALL_NAMESPACES);
        }
    }

    record LXattrGet(String path, String name) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Native.lgetxattr(at(root, path), name);
        }
    }

    record LXattrRemove(String path, String name) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            Native.lremovexattr(at(root, path), name);
            return after(root, path) + " | xattrs: " + Observe.allXattrs(at(root, path), Observe.ALL_NAMESPACES);
        }
    }

    /** llistxattr, in the namespaces the differential test compares (not security.*, system.*). */
    record LXattrList(String path) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return Observe.allXattrs(at(root, path), Observe.ALL_NAMESPACES);
        }
    }

    /** {@code inner} run by another user, on a thread that is that user (see {@link Callers}). */
    record AsUser(Identity who, Op inner, Callers callers) implements Op {
        @Override
        public Op innermost() {
            return inner.innermost();
        }

        @Override
        public List<String[]> renames() {
            return inner.renames();
        }

        @Override
        public String apply(Path root) throws IOException {
            return who + ": " + callers.of(who).call(() -> inner.outcome(root));
        }

        @Override
        public String toString() {
            return "AsUser[" + who + ", " + inner + "]";
        }
    }

    /**
     * {@code inner} on one name of a file with several (a hard link), then what every name
     * shows: metadata, content and xattrs, so a copy-up that keeps the names one file (or
     * breaks them apart) shows at once.
     */
    record OnHardLink(List<String> names, Op inner, Set<String> xattrNamespaces) implements Op {
        @Override
        public Op innermost() {
            return inner.innermost();
        }

        @Override
        public List<String[]> renames() {
            return inner.renames();
        }

        @Override
        public String apply(Path root) {
            StringBuilder text = new StringBuilder(inner.outcome(root));
            for (String name : names) {
                Path path = at(root, name);
                text.append(" || ").append(name).append(": ").append(Observe.statOrError(path));
                try {
                    text.append(' ').append(Observe.hash(Files.readAllBytes(path)))
                            .append(" xattrs=").append(Observe.allXattrs(path, xattrNamespaces));
                } catch (IOException | RuntimeException e) {
                    text.append(' ').append(Observe.failure(e));
                }
            }
            return text.toString();
        }

        @Override
        public String toString() {
            return "OnHardLink[" + inner + ", then " + names + "]";
        }
    }

    /** Files.isSameFile: whether two paths (links followed) name the same file. */
    record SameFile(String path, String other) implements Op {
        @Override
        public String apply(Path root) throws IOException {
            return String.valueOf(Files.isSameFile(at(root, path), at(root, other)));
        }
    }

    /**
     * Opens {@code path} for reading, applies {@code inner} (a mutation of the same file: write,
     * delete, rename, copy-up by chmod...) and then reads the whole file through the handle
     * opened before. The held part is the errno of whichever step failed (open or read), so it
     * does not matter whether an implementation refuses a directory at open or at read.
     */
    record HeldRead(String path, Op inner) implements Op {
        @Override
        public Op innermost() {
            return inner.innermost();
        }

        @Override
        public List<String[]> renames() {
            return inner.renames();
        }

        @Override
        public String apply(Path root) {
            SeekableByteChannel channel = null;
            String held = null;
            try {
                channel = Files.newByteChannel(at(root, path), StandardOpenOption.READ);
            } catch (Exception e) {
                held = Observe.failure(e);
            }
            String innerOutcome = inner.outcome(root);
            if (channel != null) {
                try (SeekableByteChannel open = channel) {
                    held = Observe.hash(readFully(open.position(0)));
                } catch (Exception e) {
                    held = Observe.failure(e);
                }
            }
            return "inner: " + innerOutcome + " || held: " + held;
        }
    }

    private static void writeFully(SeekableByteChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static byte[] readFully(SeekableByteChannel channel) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        while (channel.read(buffer) >= 0) {
            out.write(buffer.array(), 0, buffer.position());
            buffer.clear();
        }
        return out.toByteArray();
    }
}
