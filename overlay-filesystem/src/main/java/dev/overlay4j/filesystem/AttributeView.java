package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@code basic}, {@code owner} and {@code posix} views of one path (one class, named after
 * the view asked for). Like the JDK's views, it finds the entry again at every call, so a view
 * of a path that does not exist yet is fine until it is used.
 */
final class AttributeView implements PosixFileAttributeView {

    private final String name;
    private final OverlayPath path;
    private final boolean followLinks;

    AttributeView(String name, OverlayPath path, boolean followLinks) {
        this.name = name;
        this.path = path;
        this.followLinks = followLinks;
    }

    private FileOperations operations() {
        return path.getFileSystem().operations();
    }

    private EntryPath entry() throws IOException {
        return operations().entry(path, followLinks);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public OverlayFileAttributes readAttributes() throws IOException {
        return operations().attributes(path, followLinks);
    }

    @Override
    public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime) throws IOException {
        if (lastModifiedTime == null && lastAccessTime == null) {
            return; // there is no birth time to set
        }
        EntryPath entry = entry();
        operations().changing(() -> {
            path.getFileSystem().overlay().setTimes(entry, nanos(lastAccessTime), nanos(lastModifiedTime));
            return null;
        });
    }

    private static long nanos(FileTime time) {
        if (time == null) {
            return WritableLayer.TIME_OMIT;
        }
        long nanos = time.to(TimeUnit.NANOSECONDS);
        // TIME_OMIT and TIME_NOW are the two smallest longs; a time saturated to them means the distant past
        return nanos < WritableLayer.TIME_NOW + 1 ? WritableLayer.TIME_NOW + 1 : nanos;
    }

    @Override
    public UserPrincipal getOwner() throws IOException {
        return readAttributes().owner();
    }

    @Override
    public void setOwner(UserPrincipal owner) throws IOException {
        int uid = path.getFileSystem().principals().uidOf(owner);
        EntryPath entry = entry();
        operations().changing(() -> {
            path.getFileSystem().overlay().setOwner(entry, uid, -1);
            return null;
        });
    }

    @Override
    public void setGroup(GroupPrincipal group) throws IOException {
        int gid = path.getFileSystem().principals().gidOf(group);
        EntryPath entry = entry();
        operations().changing(() -> {
            path.getFileSystem().overlay().setOwner(entry, -1, gid);
            return null;
        });
    }

    @Override
    public void setPermissions(Set<PosixFilePermission> permissions) throws IOException {
        setMode(PermissionBits.toBits(PermissionBits.permissionSet(permissions, "permissions")));
    }

    /** {@code chmod}: all 07777 bits, as the {@code unix:mode} attribute sets them. */
    void setMode(int bits) throws IOException {
        EntryPath entry = entry();
        operations().changing(() -> {
            path.getFileSystem().overlay().setPermissions(entry, bits & 07777);
            return null;
        });
    }

    void setIds(int uid, int gid) throws IOException {
        EntryPath entry = entry();
        operations().changing(() -> {
            path.getFileSystem().overlay().setOwner(entry, uid, gid);
            return null;
        });
    }
}
