package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Layer locations that cannot work are refused when opened, with a message that says why and what to do. */
class FailFastTest {

    @TempDir
    Path scratch;
    final NioLayerProvider provider = new NioLayerProvider();

    private static void assertFails(Errno errno, String fragment, Executable open) {
        IOException thrown = assertThrows(IOException.class, open);
        assertEquals(errno, Errno.of(thrown), () -> "errno of " + thrown);
        assertTrue(thrown.getMessage().contains(fragment), () -> "\"" + fragment + "\" in: " + thrown.getMessage());
    }

    private WritableLayer openUpper(Path upper, Path work) throws IOException {
        return provider.openUpper(upper.toUri(), work.toUri(), LayerOptions.DEFAULTS);
    }

    @Test
    void aMissingLowerDirectoryIsNamed() {
        Path missing = scratch.resolve("nowhere");
        assertFails(Errno.ENOENT, missing + ": No such file or directory: " + missing
                + " does not exist; create the directory or fix the path",
                () -> provider.openLower(missing.toUri(), LayerOptions.DEFAULTS).close());
    }

    @Test
    void aLowerThatIsARegularFileIsNotADirectory() throws IOException {
        Path file = Files.writeString(scratch.resolve("file.txt"), "x");
        assertFails(Errno.ENOTDIR, "is not a directory; a layer must be a directory (or a .zip/.jar file as lower layer)",
                () -> provider.openLower(file.toUri(), LayerOptions.DEFAULTS).close());
    }

    @Test
    void aMissingUpperOrWorkdirIsNamed() throws IOException {
        Path dir = Files.createDirectory(scratch.resolve("dir"));
        assertFails(Errno.ENOENT, "upperdir does not exist", () -> openUpper(scratch.resolve("nope"), dir).close());
        assertFails(Errno.ENOENT, "workdir does not exist", () -> openUpper(dir, scratch.resolve("nope")).close());
    }

    @Test
    void theSameDirectoryForUpperAndWorkIsRefused() throws IOException {
        Path dir = Files.createDirectory(scratch.resolve("dir"));
        assertFails(Errno.EINVAL, "upperdir and workdir are the same directory", () -> openUpper(dir, dir).close());
    }

    @Test
    void aWorkdirInsideTheUpperOrTheReverseIsRefused() throws IOException {
        Path upper = Files.createDirectory(scratch.resolve("upper"));
        Path nestedWork = Files.createDirectory(upper.resolve("work"));
        assertFails(Errno.EINVAL, "workdir " + nestedWork + " lies inside upperdir " + upper
                + "; they must be separate directory trees", () -> openUpper(upper, nestedWork).close());
        Path work = Files.createDirectory(scratch.resolve("work"));
        Path nestedUpper = Files.createDirectory(work.resolve("upper"));
        assertFails(Errno.EINVAL, "upperdir " + nestedUpper + " lies inside workdir " + work,
                () -> openUpper(nestedUpper, work).close());
    }

    @Test
    void anUpperInsideALowerIsRefusedByTheSeparationRule() throws IOException {
        Path lower = Files.createDirectory(scratch.resolve("lower"));
        Path upper = Files.createDirectory(lower.resolve("upper"));
        assertFails(Errno.EINVAL, "upperdir " + upper + " lies inside lowerdir " + lower,
                () -> UpperDirectories.requireSeparate(upper, "upperdir", List.of(lower), "lowerdir"));
    }

    @Test
    void aWorkdirOnAnotherFilesystemIsRefused() throws IOException {
        Path upper = Files.createDirectory(scratch.resolve("upper"));
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(upper)),
                "SKIPPED: needs /dev/shm on another filesystem than " + scratch);
        Path work = Files.createTempDirectory(shm, "overlay4j-work");
        try {
            assertFails(Errno.EXDEV, "is on another filesystem than upperdir", () -> openUpper(upper, work).close());
        } finally {
            Files.delete(work);
        }
    }

    @Test
    void aWorkdirInUseByAnotherOverlayIsRefusedUntilItCloses() throws IOException {
        Path upper = Files.createDirectory(scratch.resolve("upper"));
        Path upper2 = Files.createDirectory(scratch.resolve("upper2"));
        Path work = Files.createDirectory(scratch.resolve("work"));
        try (WritableLayer first = openUpper(upper, work)) {
            assertFails(Errno.EBUSY, "is in use by another overlay4j overlay", () -> openUpper(upper2, work).close());
            assertTrue(first.stat(dev.overlay4j.api.EntryPath.ROOT).orElseThrow().isDirectory(), "the first overlay is undisturbed");
        }
        openUpper(upper2, work).close();
    }

    @Test
    void aMissingArchiveIsNamed() {
        Path jar = scratch.resolve("missing.jar");
        assertFails(Errno.ENOENT, jar + ": No such file or directory: the archive of layer",
                () -> provider.openLower(java.net.URI.create("jar:" + jar.toUri() + "!/"), LayerOptions.DEFAULTS).close());
    }
}
