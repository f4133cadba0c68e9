package dev.overlay4j.nio;

import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.nio.WhiteoutFormats.MarkForm;
import dev.overlay4j.nio.WhiteoutFormats.UpperForm;
import dev.overlay4j.nio.WhiteoutFormats.WhiteoutForm;
import dev.overlay4j.testkit.WritableLayerContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;

/**
 * The upper layer's contract in the forms it writes where the kernel's cannot be made: the same
 * behaviour, whatever the whiteouts and marks look like on disk.
 */
class FallbackFormsContractTest {

    static WritableLayer open(Path storage, UpperForm form) throws IOException {
        Path upper = Files.createDirectories(storage.resolve("upper"));
        Path work = Files.createDirectories(storage.resolve("work"));
        return UpperDirectories.open(upper, work, LayerOptions.DEFAULTS, form);
    }

    /** Whiteouts as {@code .wh.NAME} files, marks as xattrs: an upper on overlayfs, which refuses 0/0 devices. */
    @Nested
    class WhiteoutFiles extends WritableLayerContract {
        @Override
        protected WritableLayer openWritable(Path storage) throws IOException {
            return open(storage, new UpperForm(WhiteoutForm.MARK_FILE, MarkForm.XATTR));
        }

        @Override
        protected boolean supportsDeviceNodes() {
            return LinuxCalls.geteuid() == 0;
        }

        @Override
        protected boolean supportsChown() {
            return LinuxCalls.geteuid() == 0;
        }
    }

    /** fuse-overlayfs's unprivileged forms: {@code .wh.} files, opaque as user.fuseoverlayfs.opaque plus .wh..wh..opq. */
    @Nested
    class FuseOverlayfsForms extends WritableLayerContract {
        @Override
        protected WritableLayer openWritable(Path storage) throws IOException {
            return open(storage, new UpperForm(WhiteoutForm.MARK_FILE, MarkForm.FUSE_OVERLAYFS));
        }

        @Override
        protected boolean keepsOverlayXattrs() {
            return false;
        }

        @Override
        protected boolean supportsIndex() {
            return false;
        }

        @Override
        protected boolean supportsDeviceNodes() {
            return LinuxCalls.geteuid() == 0;
        }

        @Override
        protected boolean supportsChown() {
            return LinuxCalls.geteuid() == 0;
        }
    }

    /** Opaque directories as {@code .wh..wh..opq} alone: a file system without xattrs. */
    @Nested
    class OpaqueFileOnly extends WritableLayerContract {
        @Override
        protected WritableLayer openWritable(Path storage) throws IOException {
            return open(storage, new UpperForm(WhiteoutForm.DEVICE, MarkForm.MARK_FILE));
        }

        @Override
        protected boolean keepsOverlayXattrs() {
            return false;
        }

        @Override
        protected boolean supportsIndex() {
            return false;
        }

        @Override
        protected boolean supportsDeviceNodes() {
            return LinuxCalls.geteuid() == 0;
        }

        @Override
        protected boolean supportsChown() {
            return LinuxCalls.geteuid() == 0;
        }
    }
}
