package dev.overlay4j.api;

/** How a rename treats an existing target, as {@code renameat2(2)} flags do. */
public enum RenameMode {
    /** Plain {@code rename(2)}: an existing target is replaced when the types allow it. */
    REPLACE,
    /** {@code RENAME_NOREPLACE}: fail with EEXIST when the target exists. */
    NOREPLACE,
    /** {@code RENAME_EXCHANGE}: swap source and target atomically; both must exist. */
    EXCHANGE
}
