package dev.overlay4j.fuse.server;

import dev.overlay4j.api.OverlayFile;

/** A file a request works on: one the kernel opened through this server, or a node's own ({@link NodeFiles}). */
interface FileUse {
    OverlayFile file();
}
