package dev.overlay4j.filesystem;

import dev.overlay4j.api.StoreSpace;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserDefinedFileAttributeView;

/** The one store of an overlay file system; its space is that of the upper layer (else the top lower), as statfs on an overlay mount reports. */
final class OverlayFileStore extends FileStore {

    private final OverlayFileSystem fs;

    OverlayFileStore(OverlayFileSystem fs) {
        this.fs = fs;
    }

    private StoreSpace space() throws IOException {
        return fs.overlay().space();
    }

    @Override
    public String name() {
        return "overlay";
    }

    @Override
    public String type() {
        return "overlay";
    }

    @Override
    public boolean isReadOnly() {
        return fs.isReadOnly();
    }

    @Override
    public long getTotalSpace() throws IOException {
        StoreSpace space = space();
        return space.totalBlocks() * space.blockSize();
    }

    @Override
    public long getUsableSpace() throws IOException {
        StoreSpace space = space();
        return space.availableBlocks() * space.blockSize();
    }

    @Override
    public long getUnallocatedSpace() throws IOException {
        StoreSpace space = space();
        return space.freeBlocks() * space.blockSize();
    }

    @Override
    public long getBlockSize() throws IOException {
        return space().blockSize();
    }

    @Override
    public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
        return type == BasicFileAttributeView.class || type == PosixFileAttributeView.class
                || type == FileOwnerAttributeView.class || type == UserDefinedFileAttributeView.class;
    }

    @Override
    public boolean supportsFileAttributeView(String name) {
        return OverlayFileSystem.VIEWS.contains(name);
    }

    @Override
    public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
        return null;
    }

    @Override
    public Object getAttribute(String attribute) throws IOException {
        return switch (attribute) {
            case "totalSpace" -> getTotalSpace();
            case "usableSpace" -> getUsableSpace();
            case "unallocatedSpace" -> getUnallocatedSpace();
            default -> throw new UnsupportedOperationException("'" + attribute + "' not recognized");
        };
    }

    @Override
    public String toString() {
        return "overlay (" + fs.name() + ")";
    }
}
