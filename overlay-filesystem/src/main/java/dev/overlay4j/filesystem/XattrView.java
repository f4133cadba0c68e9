package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Objects;

/**
 * User-defined attributes of one path: the extended attributes in the {@code user.} namespace,
 * named without that prefix, as the JDK's Linux provider maps them.
 */
final class XattrView implements UserDefinedFileAttributeView {

    static final String PREFIX = "user.";

    private final OverlayPath path;
    private final boolean followLinks;

    XattrView(OverlayPath path, boolean followLinks) {
        this.path = path;
        this.followLinks = followLinks;
    }

    private EntryPath entry() throws IOException {
        return path.getFileSystem().operations().entry(path, followLinks);
    }

    private static String xattr(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty attribute name");
        }
        return PREFIX + name;
    }

    @Override
    public String name() {
        return "user";
    }

    @Override
    public List<String> list() throws IOException {
        return path.getFileSystem().overlay().listXattrs(entry()).stream()
                .filter(name -> name.startsWith(PREFIX))
                .map(name -> name.substring(PREFIX.length()))
                .toList();
    }

    byte[] value(String name) throws IOException {
        return path.getFileSystem().overlay().readXattr(entry(), xattr(name));
    }

    @Override
    public int size(String name) throws IOException {
        return value(name).length;
    }

    @Override
    public int read(String name, ByteBuffer dst) throws IOException {
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("read-only buffer");
        }
        byte[] value = value(name);
        if (value.length > dst.remaining()) {
            throw Errno.ERANGE.exception(path, "extended attribute '" + name + "' has " + value.length
                    + " bytes, the buffer room for " + dst.remaining());
        }
        dst.put(value);
        return value.length;
    }

    @Override
    public int write(String name, ByteBuffer src) throws IOException {
        String xattr = xattr(name);
        byte[] value = new byte[src.remaining()];
        src.get(src.position(), value);
        EntryPath entry = entry();
        path.getFileSystem().operations().changing(() -> {
            path.getFileSystem().overlay().setXattr(entry, xattr, value, XattrMode.CREATE_OR_REPLACE);
            return null;
        });
        src.position(src.position() + value.length);
        return value.length;
    }

    @Override
    public void delete(String name) throws IOException {
        String xattr = xattr(name);
        EntryPath entry = entry();
        path.getFileSystem().operations().changing(() -> {
            path.getFileSystem().overlay().removeXattr(entry, xattr);
            return null;
        });
    }
}
