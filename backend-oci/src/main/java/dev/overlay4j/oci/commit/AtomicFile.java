package dev.overlay4j.oci.commit;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file written under a temporary name in the directory of its final one and renamed to that
 * only when complete and on disk, so that no reader ever sees half of it: closed before
 * {@link #commit}, it is removed and the final name is left as it was.
 */
final class AtomicFile implements Closeable {

    private final Path temporary;
    private final FileChannel channel;
    private boolean done;

    /** Creates the temporary file beside {@code target} (mode 0666 less the umask, as any new file). */
    AtomicFile(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String name = "." + target.getFileName() + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()) + ".tmp";
        this.temporary = dir.resolve(name);
        this.channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Writes {@code bytes} as the whole file and renames it to {@code target}. */
    static void write(Path target, byte[] bytes) throws IOException {
        try (AtomicFile file = new AtomicFile(target)) {
            file.stream().write(bytes);
            file.commit(target);
        }
    }

    /** The file's bytes as a stream; closing the stream leaves the file open. */
    OutputStream stream() {
        return new java.io.FilterOutputStream(Channels.newOutputStream(channel)) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    /** Forces the bytes to disk and gives the file its name {@code target}, replacing what had it. */
    void commit(Path target) throws IOException {
        channel.force(true);
        channel.close();
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        done = true;
    }

    @Override
    public void close() throws IOException {
        if (!done) {
            channel.close();
            Files.deleteIfExists(temporary);
        }
    }
}
