package dev.overlay4j.filesystem;

import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The options of one {@code newByteChannel}/{@code newFileChannel} call, validated and
 * combined the way the JDK's Unix provider does: APPEND implies WRITE, neither READ nor WRITE
 * means READ, and CREATE, CREATE_NEW and TRUNCATE_EXISTING only count when writing.
 */
record OpenOptions(boolean read, boolean write, boolean append, boolean truncate, boolean create,
                   boolean createNew, boolean noFollow, boolean sync, boolean deleteOnClose) {

    static OpenOptions of(Set<? extends OpenOption> options) {
        boolean read = false;
        boolean write = false;
        boolean append = false;
        boolean truncate = false;
        boolean create = false;
        boolean createNew = false;
        boolean noFollow = false;
        boolean sync = false;
        boolean deleteOnClose = false;
        for (OpenOption option : options) {
            switch (Objects.requireNonNull(option, "open option")) {
                case StandardOpenOption.READ -> read = true;
                case StandardOpenOption.WRITE -> write = true;
                case StandardOpenOption.APPEND -> append = true;
                case StandardOpenOption.TRUNCATE_EXISTING -> truncate = true;
                case StandardOpenOption.CREATE -> create = true;
                case StandardOpenOption.CREATE_NEW -> createNew = true;
                case StandardOpenOption.DELETE_ON_CLOSE -> deleteOnClose = true;
                case StandardOpenOption.SPARSE -> {
                    // a hint; files are sparse where the upper layer's file system makes them so
                }
                case StandardOpenOption.SYNC, StandardOpenOption.DSYNC -> sync = true;
                case LinkOption.NOFOLLOW_LINKS -> noFollow = true;
                default -> throw new UnsupportedOperationException(option + " not supported");
            }
        }
        if (read && append) {
            throw new IllegalArgumentException("READ + APPEND not allowed");
        }
        if (append && truncate) {
            throw new IllegalArgumentException("APPEND + TRUNCATE_EXISTING not allowed");
        }
        if (append) {
            write = true;
        }
        if (!read && !write) {
            read = true;
        }
        return new OpenOptions(read, write, append, write && truncate, write && create && !createNew,
                write && createNew, noFollow, sync, deleteOnClose);
    }

    /** Whether opening may create the file, so its last name need not exist. */
    boolean creates() {
        return create || createNew;
    }

    /** The options in the form {@link dev.overlay4j.api.Overlay#open} takes them. */
    Set<OpenOption> forEngine() {
        Set<OpenOption> options = new HashSet<>();
        if (read) {
            options.add(StandardOpenOption.READ);
        }
        if (write) {
            options.add(StandardOpenOption.WRITE);
        }
        if (append) {
            options.add(StandardOpenOption.APPEND);
        }
        if (truncate) {
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        if (create) {
            options.add(StandardOpenOption.CREATE);
        }
        if (createNew) {
            options.add(StandardOpenOption.CREATE_NEW);
        }
        return options;
    }
}
