package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** A file blob that counts the bytes read from it: the proof that an open read nothing. */
final class CountingBlob implements Blob {

    private final FileBlob file;
    final AtomicLong bytesRead = new AtomicLong();
    final AtomicLong reads = new AtomicLong();

    CountingBlob(Path path) throws IOException {
        this.file = new FileBlob(path);
    }

    @Override
    public long size() {
        return file.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        reads.incrementAndGet();
        int n = file.read(dst, position);
        bytesRead.addAndGet(n);
        return n;
    }

    @Override
    public String describe() {
        return file.describe();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
