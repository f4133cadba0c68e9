package dev.overlay4j.api;

/** The flags of {@code setxattr(2)}. */
public enum XattrMode {
    /** No flag: create or replace. */
    CREATE_OR_REPLACE,
    /** {@code XATTR_CREATE}: fail with EEXIST when the attribute exists. */
    CREATE,
    /** {@code XATTR_REPLACE}: fail with ENODATA when the attribute does not exist. */
    REPLACE
}
