package dev.overlay4j.it.containers;

import static dev.overlay4j.it.containers.Digests.sha256;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * S3 layers through the real overlay4j command in containers, served by a real S3 server in the
 * test JVM that the containers reach over Docker's bridge as a remote endpoint: an S3 layer under
 * a jar layer with a local upper; two containers sharing the same S3 layers, each with its own
 * upper; and {@code overlay4j push} of an overlay upper dir from one container, mounted in another.
 */
class S3LayerContainersTest extends ContainerScenario {
    private static BridgeS3Server s3;

    private static final String BUCKET = "layers";

    /** The sorted entries below DIR: path, type, mode, and a file's size or a symlink's target. */
    private static final String LISTING = """
            listing() (
              cd "$1"
              find . -mindepth 1 \\( -type d -printf '%p d %m\\n' \\) -o \\( -type l -printf '%p l %m -> %l\\n' \\) \\
                  -o -printf '%p %y %m %s\\n' | LC_ALL=C sort
            )
            """;

    @BeforeAll
    static void startServer() throws Exception {
        s3 = BridgeS3Server.start();
        s3.createBucket(BUCKET);
        s3.putFile(BUCKET, "base/etc/motd", "motd from s3\n", 0644);
        s3.putFile(BUCKET, "base/etc/app.conf", "port=1\n", 0640);
        s3.putFile(BUCKET, "base/bin/tool", "#!/bin/sh\necho tool from s3\n", 0755);
        s3.putFile(BUCKET, "base/share/old.txt", "old\n", 0644);

        s3.putFile(BUCKET, "shared-top/etc/motd", "motd from the top layer\n", 0644);
        s3.putFile(BUCKET, "shared-top/data/top.txt", "top\n", 0644);
        s3.putFile(BUCKET, "shared-base/etc/motd", "motd from the base layer\n", 0644);
        s3.putFile(BUCKET, "shared-base/etc/base-only.conf", "base only\n", 0600);
        s3.putFile(BUCKET, "shared-base/data/base.txt", "base\n", 0644);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void aJarLayerOverAnS3LayerWithALocalUpperReadsAndWritesWithoutTouchingTheBucket() throws Exception {
        String lowers = "lowerdir+=jar:file:/scratch/app.jar!/,lowerdir+=" + s3.layerUri(BUCKET, "base/");
        String output;
        try (FuseContainer container = FuseContainer.start(install, s3.environment())) {
            output = container.run(LISTING + """
                    mkdir -p /scratch/jar/etc /scratch/jar/docs
                    echo 'motd from the jar' > /scratch/jar/etc/motd
                    echo 'guide' > /scratch/jar/docs/guide.txt
                    jar --create --no-manifest --file /scratch/app.jar -C /scratch/jar .
                    LOWERS='%s'
                    overlay4j_mount_layers "$LOWERS" /scratch/upper /scratch/work /mnt/m
                    echo '== merged'; listing /mnt/m
                    echo '== read'; cat /mnt/m/etc/motd /mnt/m/etc/app.conf; /mnt/m/bin/tool
                    echo 'port=2' > /mnt/m/etc/app.conf
                    echo 'more' >> /mnt/m/docs/guide.txt
                    rm /mnt/m/share/old.txt
                    chmod 700 /mnt/m/bin/tool
                    mkdir /mnt/m/logs
                    echo started > /mnt/m/logs/app.log
                    umount /mnt/m
                    echo '== upper'; manifest /scratch/upper
                    overlay4j_mount_layers "$LOWERS" /scratch/upper /scratch/work /mnt/m
                    echo '== remounted'; listing /mnt/m
                    cat /mnt/m/etc/app.conf /mnt/m/docs/guide.txt; /mnt/m/bin/tool
                    umount /mnt/m
                    """.formatted(lowers));
        }
        assertEquals("""
                == merged
                ./bin d 755
                ./bin/tool f 755 28
                ./docs d 755
                ./docs/guide.txt f 644 6
                ./etc d 755
                ./etc/app.conf f 640 7
                ./etc/motd f 644 18
                ./share d 755
                ./share/old.txt f 644 4
                == read
                motd from the jar
                port=1
                tool from s3
                == upper
                ./bin d 755
                ./bin/tool f 700 1 28
                ./docs d 755
                ./docs/guide.txt f 644 1 11
                ./etc d 755
                ./etc/app.conf f 640 1 7
                ./logs d 755
                ./logs/app.log f 644 1 8
                ./share d 755
                ./share/old.txt c 0 0:0
                %s  ./bin/tool
                %s  ./docs/guide.txt
                %s  ./etc/app.conf
                %s  ./logs/app.log
                == remounted
                ./bin d 755
                ./bin/tool f 700 28
                ./docs d 755
                ./docs/guide.txt f 644 11
                ./etc d 755
                ./etc/app.conf f 640 7
                ./etc/motd f 644 18
                ./logs d 755
                ./logs/app.log f 644 8
                ./share d 755
                port=2
                guide
                more
                tool from s3
                """.formatted(sha256("#!/bin/sh\necho tool from s3\n"), sha256("guide\nmore\n"), sha256("port=2\n"),
                        sha256("started\n")), output);
        assertEquals(List.of("base/bin/tool 28", "base/etc/app.conf 7", "base/etc/motd 13", "base/share/old.txt 4"),
                s3.objects(BUCKET, "base/"), "the S3 layer is read-only");
    }

    @Test
    void twoContainersMountTheSameS3LayersConcurrentlyAndSeeOnlyTheirOwnWrites() throws Exception {
        String mount = "overlay4j_mount_layers 'lowerdir+=%s,lowerdir+=%s' /scratch/upper /scratch/work /mnt/m\n"
                .formatted(s3.layerUri(BUCKET, "shared-top/"), s3.layerUri(BUCKET, "shared-base/"));
        String report = LISTING + """
                echo '== merged'; listing /mnt/m
                cat /mnt/m/etc/motd /mnt/m/data/top.txt /mnt/m/data/base.txt
                cat /mnt/m/etc/base-only.conf 2>&1 || true
                echo '== upper'; listing /scratch/upper
                umount /mnt/m
                """;
        String a;
        String b;
        try (FuseContainer first = FuseContainer.start(install, s3.environment());
             FuseContainer second = FuseContainer.start(install, s3.environment())) {
            first.run(mount);
            second.run(mount);
            // Both mounts are live from here to the reports.
            first.run("""
                    echo 'from a' > /mnt/m/a.txt
                    echo 'motd by a' > /mnt/m/etc/motd
                    rm /mnt/m/etc/base-only.conf
                    """);
            second.run("""
                    echo 'from b' > /mnt/m/data/b.txt
                    echo 'appended by b' >> /mnt/m/etc/motd
                    """);
            a = first.run(report);
            b = second.run(report);
        }
        assertEquals("""
                == merged
                ./a.txt f 644 7
                ./data d 755
                ./data/base.txt f 644 5
                ./data/top.txt f 644 4
                ./etc d 755
                ./etc/motd f 644 10
                motd by a
                top
                base
                cat: /mnt/m/etc/base-only.conf: No such file or directory
                == upper
                ./a.txt f 644 7
                ./etc d 755
                ./etc/base-only.conf c 0 0
                ./etc/motd f 644 10
                """, a);
        assertEquals("""
                == merged
                ./data d 755
                ./data/b.txt f 644 7
                ./data/base.txt f 644 5
                ./data/top.txt f 644 4
                ./etc d 755
                ./etc/base-only.conf f 600 10
                ./etc/motd f 644 38
                motd from the top layer
                appended by b
                top
                base
                base only
                == upper
                ./data d 755
                ./data/b.txt f 644 7
                ./etc d 755
                ./etc/motd f 644 38
                """, b);
    }

    @Test
    void anUpperDirPushedFromOneContainerMountsInAnotherWithItsWhiteoutOpaqueDirModesAndSymlink() throws Exception {
        String pushed = s3.layerUri(BUCKET, "pushed/");
        String push;
        String pushErrors;
        try (FuseContainer pusher = FuseContainer.start(install, s3.environment())) {
            push = pusher.run("""
                    overlay4j --help | grep -F 'overlay4j push '
                    T=/scratch/tree
                    mkdir -p $T/bin $T/etc $T/data $T/private
                    printf '#!/bin/sh\\necho pushed tool\\n' > $T/bin/run.sh
                    chmod 755 $T/bin/run.sh
                    echo 's3cret' > $T/etc/secret
                    chmod 600 $T/etc/secret
                    ln -s ../etc/secret $T/bin/secret-link
                    mknod $T/etc/old.conf c 0 0
                    setfattr -n trusted.overlay.opaque -v y $T/data
                    echo 'new data' > $T/data/new.txt
                    chmod 750 $T/private
                    echo 'mine' > $T/private/note.txt
                    status=0
                    overlay4j push $T '%s' > /scratch/push.out 2> /scratch/push.err || status=$?
                    echo "== push exited $status"
                    tail -n 1 /scratch/push.out
                    """.formatted(pushed));
            pushErrors = pusher.run("cat /scratch/push.err");
        }
        String merged;
        try (FuseContainer consumer = FuseContainer.start(install, s3.environment())) {
            merged = consumer.run(LISTING + """
                    L=/scratch/lower
                    mkdir -p $L/bin $L/etc $L/data
                    echo 'lower tool' > $L/bin/run.sh
                    echo 'old' > $L/etc/old.conf
                    echo 'keep' > $L/etc/keep.conf
                    echo 'hidden by the opaque dir' > $L/data/lower.txt
                    overlay4j_mount_layers 'lowerdir+=%s,lowerdir+=/scratch/lower' /scratch/upper /scratch/work /mnt/m
                    echo '== merged'; listing /mnt/m
                    /mnt/m/bin/run.sh
                    cat /mnt/m/bin/secret-link /mnt/m/etc/keep.conf /mnt/m/data/new.txt /mnt/m/private/note.txt
                    umount /mnt/m
                    """.formatted(pushed));
        }
        assertAll(
                () -> assertEquals("""
                          overlay4j push SOURCE s3://BUCKET/PREFIX/  upload a layer (a directory, an overlay upper dir, a zip, ...) as an S3 layer
                        == push exited 0
                        pushed 12 objects (61 B), 0 unchanged, 0 deleted, 0 failed, to s3://layers/pushed/
                        """, push),
                () -> assertEquals("", withoutBlankLines(pushErrors)),
                // The whiteout and the opaque dir as OCI .wh. keys, directories as "dir/" objects.
                () -> assertEquals(List.of("pushed/ 0", "pushed/bin/ 0", "pushed/bin/run.sh 27", "pushed/bin/secret-link 13",
                        "pushed/data/ 0", "pushed/data/.wh..wh..opq 0", "pushed/data/new.txt 9", "pushed/etc/ 0",
                        "pushed/etc/.wh.old.conf 0", "pushed/etc/secret 7", "pushed/private/ 0", "pushed/private/note.txt 5"),
                        s3.objects(BUCKET, "pushed/")),
                // The whiteout hides etc/old.conf of the lower and the opaque data/ its data/lower.txt.
                () -> assertEquals("""
                        == merged
                        ./bin d 755
                        ./bin/run.sh f 755 27
                        ./bin/secret-link l 777 -> ../etc/secret
                        ./data d 755
                        ./data/new.txt f 644 9
                        ./etc d 755
                        ./etc/keep.conf f 644 5
                        ./etc/secret f 600 7
                        ./private d 750
                        ./private/note.txt f 644 5
                        pushed tool
                        s3cret
                        keep
                        new data
                        mine
                        """, merged));
    }

    private static String withoutBlankLines(String stderr) {
        return stderr.lines().filter(line -> !line.isEmpty())
                .map(line -> line + "\n").collect(Collectors.joining());
    }
}
