package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.cli.Command;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code overlay4j commit}: its arguments, what it prints, and its exit statuses. */
class CommitCommandTest {

    @TempDir
    Path tmp;
    UpperDir upper;

    private record Run(int status, String out, String err) {
    }

    private static Run commit(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new CommitCommand().run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeEach
    void upperDir() throws Exception {
        upper = new UpperDir(tmp.resolve("upper")).file("etc/conf", "x=1\n").file(".wh.gone", "").symlink("bin", "usr/bin");
    }

    private List<String> files() throws Exception {
        try (Stream<Path> all = Files.list(tmp)) {
            return all.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theLayerIsWrittenAndItsDiffIdDigestAndSizePrinted() throws Exception {
        Path out = tmp.resolve("layer.tar.gz");
        Run run = commit("--mtime", "1700000000", upper.root.toString(), out.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals("", run.err());
        String diffId = ImageLayoutWriter.sha256(LayerCommitTest.uncompressed(out));
        String digest = "sha256:" + UpperDir.output("sha256sum", out.toString()).split(" ")[0];
        assertEquals(List.of(
                "wrote " + out + ": 4 members, application/vnd.oci.image.layer.v1.tar+gzip",
                "diffID " + diffId,
                "digest " + digest,
                "size " + Files.size(out)), run.out().lines().toList());
        assertEquals(List.of(
                "0 .wh.gone 0000 0:0 @1700000000000000000",
                "2 bin -> usr/bin 0777 0:0 @1700000000000000000",
                "5 etc/ 0755 0:0 @1700000000000000000",
                "0 etc/conf 0644 0:0 size=4 @1700000000000000000"), LayerCommitTest.describe(LayerCommitTest.members(out)));
    }

    @Test
    void whatATarCannotHoldIsLeftOutWithAWarning() throws Exception {
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(upper.path("etc/control.sock")));
        }
        Run run = commit(upper.root.toString(), tmp.resolve("layer.tar").toString());
        assertEquals(0, run.status());
        assertEquals("commit: warning: " + upper.root + "/etc/control.sock is a socket, which a tar cannot hold: left out\n",
                run.err());
    }

    @Test
    void theLowersAreGivenAsTheMountGivesThem() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for mknod and trusted.* xattrs");
        UpperDir top = new UpperDir(tmp.resolve("top")).file("app/bin/run", "top run").mtimes(LayerCommitTest.T);
        Path base = new TarWriter().add(TarWriter.dir("app/")).add(TarWriter.file("app/lib", "base lib"))
                .write(tmp.resolve("base.tar"));
        UpperDir renamed = new UpperDir(tmp.resolve("renamed")).whiteout("app").dir("application")
                .redirect("application", "app").file("application/added", "new").mtimes(LayerCommitTest.T);
        Path out = tmp.resolve("layer.tar");

        Run refused = commit(renamed.root.toString(), out.toString());
        assertEquals(1, refused.status());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().startsWith("commit: " + renamed.root + "/application is a renamed directory"), refused.err());
        assertEquals("", refused.out());

        Run run = commit("-o", "lowerdir=" + top.root + ",lowerdir+=" + base, renamed.root.toString(), out.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals(List.of(
                "0 .wh.app 0000 0:0",
                "5 application/ 0755 0:0",
                "0 application/.wh..wh..opq 0000 0:0",
                "0 application/added 0644 0:0 size=3",
                "5 application/bin/ 0755 0:0",
                "0 application/bin/run 0644 0:0 size=7",
                "0 application/lib 0644 0:0 size=8 @1500000000000000000"), LayerCommitTest.describe(LayerCommitTest.members(out)));
    }

    @Test
    void badUsageExitsWithTwoAndWritesNothing() throws Exception {
        String u = upper.root.toString();
        String tar = tmp.resolve("layer.tar").toString();
        for (String[] args : new String[][] {
                {},
                {u},
                {u, tmp.resolve("layer.zip").toString()},
                {"--bogus", u, tar},
                {"--tag", "x", u, tar},
                {"--mtime", "yesterday", u, tar},
                {"--clamp-mtime", u, tar},
                {"-o", "upperdir=/u,workdir=/w,lowerdir=/l", u, tar},
                {"-o", "userxattr", u, tar},
                {"--layout", tmp.toString(), "--tag", "not a tag", u},
                {"--layout", tmp.toString(), "--tag", "t", "--platform", "linux", u},
                {tmp.resolve("missing").toString(), tar}}) {
            Run run = commit(args);
            assertEquals(2, run.status(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.err().startsWith("commit: ") && run.err().contains("usage: overlay4j commit"), run.err());
        }
        assertEquals("commit: the layer's file name must end in .tar, .tar.gz, .tgz or .tar.zst (it says how to compress it): "
                + tmp.resolve("layer.zip"), commit(u, tmp.resolve("layer.zip").toString()).err().lines().findFirst().orElseThrow());
        assertEquals("commit: UPPERDIR " + tmp.resolve("missing") + " does not exist",
                commit(tmp.resolve("missing").toString(), tar).err().lines().findFirst().orElseThrow());
        assertEquals(List.of("upper"), files());
        assertEquals(0, commit("--help").status());
    }

    @Test
    void aLowerNoProviderOpensIsAUsageError() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for trusted.* xattrs");
        upper.dir("moved").redirect("moved", "/elsewhere");
        Run run = commit("-o", "lowerdir+=nosuch://bucket/x", upper.root.toString(), tmp.resolve("layer.tar").toString());
        assertEquals(2, run.status(), run.err());
        assertTrue(run.err().startsWith("commit: no layer provider for scheme \"nosuch\""), run.err());
        assertEquals(List.of("upper"), files());
    }

    @Test
    void otherFailuresExitWithOneOnOneLine() throws Exception {
        Run run = commit(upper.root.toString(), tmp.resolve("no/such/dir/layer.tar").toString());
        assertEquals(1, run.status());
        assertEquals(List.of("commit: " + tmp.resolve("no/such/dir") + ": the directory of the output file does not exist"),
                run.err().lines().toList());
        // A name the layer cannot give back as it is would be missing from the image.
        Path odd = upper.root.resolve("etc");
        UpperDir.run("sh", "-c", "touch \"$1\"/\"$(printf 'bad\\377name')\"", "sh", odd.toString());
        Run notUtf8 = commit(upper.root.toString(), tmp.resolve("layer.tar").toString());
        assertEquals(1, notUtf8.status());
        assertEquals(List.of("commit: " + odd + "/bad\uFFFDname is listed but cannot be looked up: its name is not valid UTF-8, "
                + "or it was removed while the layer was written"), notUtf8.err().lines().toList());
        UpperDir.run("sh", "-c", "rm \"$1\"/bad*", "sh", odd.toString());

        Run noLayout = commit("--layout", tmp.resolve("nothing").toString(), "--tag", "t", upper.root.toString());
        assertEquals(1, noLayout.status());
        assertEquals(1, noLayout.err().lines().count(), noLayout.err());
        assertEquals(List.of("upper"), files());
    }

    @Test
    void theNewImageAndThePlatformTakenFromAnIndexArePrinted() throws Exception {
        ImageLayoutWriter layout = new ImageLayoutWriter(tmp.resolve("layout"));
        List<String> manifests = new ArrayList<>();
        for (String[] platform : new String[][] {{"amd64", null}, {"arm64", "v8"}}) {
            TarWriter layer = new TarWriter().add(TarWriter.file("etc/arch", platform[0]));
            manifests.add(layout.manifest(List.of(layout.blob(ImageLayoutWriter.TAR, layer.bytes(), "")),
                    ImageLayoutWriter.config("linux", platform[0], List.of(ImageLayoutWriter.sha256(layer.bytes()))),
                    ImageLayoutWriter.platform("linux", platform[0], platform[1])));
        }
        layout.topIndex(List.of(layout.index(manifests, ImageLayoutWriter.ref("multi"))));
        Run run = commit("--layout", layout.dir.toString(), "--from", "multi", "--tag", "mine", "--platform", "linux/arm64",
                upper.root.toString());
        assertEquals(0, run.status(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(6, lines.size(), run.out());
        assertTrue(lines.get(0).startsWith("wrote " + layout.dir.resolve("blobs/sha256") + "/"), lines.get(0));
        assertEquals("from an image index: took linux/arm64/v8 among linux/amd64, linux/arm64/v8", lines.get(4));
        assertTrue(lines.get(5).matches("tagged mine: manifest sha256:[0-9a-f]{64}, config sha256:[0-9a-f]{64}"), lines.get(5));
    }

    @Test
    void theOverlay4jCommandFindsIt() {
        List<String> names = ServiceLoader.load(Command.class).stream().map(p -> p.get().name()).toList();
        assertTrue(names.contains("commit"), names.toString());
    }
}
