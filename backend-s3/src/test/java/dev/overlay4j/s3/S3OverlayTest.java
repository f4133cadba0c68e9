package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An S3 lower layer above a local lower layer, under a local upper, merged by the engine. */
class S3OverlayTest {

    private static S3Server server;

    @TempDir
    Path dir;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("stack");
        server.put("stack", "top/a", "from s3");
        server.put("stack", "top/.wh.hidden", "");
        server.put("stack", "top/opq/.wh..wh..opq", "");
        server.put("stack", "top/opq/new", "s3 only");
        server.put("stack", "top/merged/x", "s3 x");
        server.put("stack", "top/link", "a".getBytes(StandardCharsets.UTF_8), Map.of("mode", Integer.toString(0120777)));
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private Overlay open() throws IOException {
        Path lower = dir.resolve("lower");
        Files.createDirectories(lower.resolve("opq"));
        Files.createDirectories(lower.resolve("merged"));
        Files.writeString(lower.resolve("hidden"), "whited out by s3");
        Files.writeString(lower.resolve("opq/old"), "hidden by the opaque dir");
        Files.writeString(lower.resolve("merged/y"), "local y");
        Files.writeString(lower.resolve("only-local"), "local");
        Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(dir.resolve("work"));
        return Overlay.open(OverlayConfig.builder()
                .lower(server.uri("stack", "top/"))
                .lower(lower.toString())
                .upper(dir.resolve("upper").toString(), dir.resolve("work").toString())
                .build());
    }

    private static Set<String> names(Overlay overlay, String path) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        for (DirectoryEntry e : overlay.listDirectory(EntryPath.of(path))) {
            names.add(e.name());
        }
        return names;
    }

    private static String read(Overlay overlay, String path) throws IOException {
        try (OverlayFile file = overlay.open(EntryPath.of(path), Set.of(StandardOpenOption.READ), null)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
            while (buffer.hasRemaining() && file.read(buffer, buffer.position()) > 0) {
                // fill
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void whiteoutsAndOpaqueDirsOfTheS3LayerHideTheLocalLayerBelow() throws IOException {
        try (Overlay overlay = open()) {
            assertEquals(Set.of("a", "link", "merged", "only-local", "opq"), names(overlay, ""));
            assertEquals(Set.of("new"), names(overlay, "opq"));
            assertEquals(Set.of("x", "y"), names(overlay, "merged"));
            assertEquals("from s3", read(overlay, "a"));
            assertEquals("local y", read(overlay, "merged/y"));
            assertEquals("a", overlay.readLink(EntryPath.of("link")));
        }
    }

    @Test
    void writingAnS3FileCopiesItUpAndDeletingOneLeavesAWhiteoutInTheUpper() throws IOException {
        try (Overlay overlay = open()) {
            try (OverlayFile file = overlay.open(EntryPath.of("a"), Set.of(StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), new NewEntryAttributes(0644, 0, 0))) {
                file.write(ByteBuffer.wrap(" and upper".getBytes(StandardCharsets.UTF_8)), file.size());
            }
            assertEquals("from s3 and upper", read(overlay, "a"));
            assertEquals("from s3 and upper", Files.readString(dir.resolve("upper/a")));
            overlay.unlink(EntryPath.of("merged/x"));
            assertEquals(Set.of("y"), names(overlay, "merged"));
        }
        assertEquals("from s3", server.client().getObjectAsBytes(r -> r.bucket("stack").key("top/a")).asUtf8String());
        assertFalse(Files.isRegularFile(dir.resolve("upper/merged/x")));
        assertEquals(List.of("x"), Files.list(dir.resolve("upper/merged")).map(p -> p.getFileName().toString()).toList());
    }
}
