package dev.overlay4j.fuse.server;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.protocol.Reply;
import java.io.IOException;

/** The file system as a whole: STATFS and SYNCFS. */
final class FilesystemHandlers {

    private final Overlay overlay;

    FilesystemHandlers(Overlay overlay) {
        this.overlay = overlay;
    }

    int statfs(Reply rp) throws IOException {
        return rp.statfs(overlay.space());
    }

    int syncfs(Reply rp) throws IOException {
        overlay.sync();
        return rp.ok();
    }
}
