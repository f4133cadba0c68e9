package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One {@code stat} of an overlay entry as {@link PosixFileAttributes}. The file key is the
 * overlay's inode number, which stays the same across copy-up and is shared by hard links.
 */
record OverlayFileAttributes(EntryAttributes entry, Principals principals) implements PosixFileAttributes {

    static FileTime time(long nanos) {
        return FileTime.from(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public FileTime lastModifiedTime() {
        return time(entry.mtimeNanos());
    }

    @Override
    public FileTime lastAccessTime() {
        return time(entry.atimeNanos());
    }

    /** Layers keep no birth time; like the JDK without statx, report the modification time. */
    @Override
    public FileTime creationTime() {
        return lastModifiedTime();
    }

    public FileTime changeTime() {
        return time(entry.ctimeNanos());
    }

    @Override
    public boolean isRegularFile() {
        return entry.type() == EntryType.REGULAR_FILE;
    }

    @Override
    public boolean isDirectory() {
        return entry.type() == EntryType.DIRECTORY;
    }

    @Override
    public boolean isSymbolicLink() {
        return entry.type() == EntryType.SYMLINK;
    }

    @Override
    public boolean isOther() {
        return !isRegularFile() && !isDirectory() && !isSymbolicLink();
    }

    @Override
    public long size() {
        return entry.size();
    }

    @Override
    public Object fileKey() {
        return entry.inode();
    }

    @Override
    public UserPrincipal owner() {
        return principals.user(entry.uid());
    }

    @Override
    public GroupPrincipal group() {
        return principals.group(entry.gid());
    }

    @Override
    public Set<PosixFilePermission> permissions() {
        return PermissionBits.fromBits(entry.permissions());
    }
}
