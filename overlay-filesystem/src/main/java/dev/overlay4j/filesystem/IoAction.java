package dev.overlay4j.filesystem;

import java.io.IOException;

/** A file system call that may fail with an {@link IOException}. */
@FunctionalInterface
interface IoAction<T> {
    T run() throws IOException;
}
