package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Real programs on a mount of the real overlay4j command in a container: tar unpacks a source
 * tarball from a lower layer, javac and jar build it, git commits it, the workload changes lower
 * files (copy-up, whiteout, rename, hard link, an opaque directory) and cp -a copies the merged
 * tree out. A second container runs the same steps on the kernel's overlayfs; the copies, the
 * upper dirs and the git commit ids must be identical.
 */
class RealProgramsTest extends ContainerScenario {

    /** Two lower layers (app over base) with a whiteout, an opaque dir and a reproducible source tarball. */
    private static final String LAYERS = """
            L=/scratch/layers
            mkdir -p $L/base/etc $L/base/project/doc $L/base/share $L/base/opaque $L/app/etc $L/app/project/doc $L/app/dist $L/app/opaque
            echo base > $L/base/etc/motd
            echo old > $L/base/project/doc/old.txt
            echo keep > $L/base/project/doc/keep.txt
            ln -s doc/keep.txt $L/base/project/latest
            head -c 65536 /dev/zero | tr '\\0' z > $L/base/share/data.bin
            echo hidden > $L/base/opaque/hidden.txt
            echo app > $L/app/etc/motd
            mknod $L/app/project/doc/old.txt c 0 0
            echo new > $L/app/project/doc/new.txt
            setfattr -n trusted.overlay.opaque -v y $L/app/opaque
            echo visible > $L/app/opaque/visible.txt
            src=/scratch/src/hello
            mkdir -p $src/src/hello
            cat > $src/src/hello/Main.java <<'JAVA'
            package hello;

            public class Main {
                public static void main(String[] args) {
                    System.out.println(new Greeting("overlay").text());
                }
            }
            JAVA
            cat > $src/src/hello/Greeting.java <<'JAVA'
            package hello;

            record Greeting(String name) {
                String text() {
                    return "Hello, " + name + "!";
                }
            }
            JAVA
            echo '# hello' > $src/README.md
            tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C /scratch/src -c hello | gzip -n > $L/app/dist/hello-src.tar.gz
            """;

    /** The steps, run in the merged directory $1; they leave the copy in /scratch/copy. */
    private static final String WORKLOAD = """
            workload() {
              cd "$1"
              mkdir build
              tar -xzf dist/hello-src.tar.gz -C build
              cd build/hello
              javac -d classes $(find src -name '*.java' | LC_ALL=C sort)
              java -cp classes hello.Main > output.txt
              jar --create --date=2024-01-01T00:00:00Z --file hello.jar -C classes .
              ln hello.jar hello-latest.jar
              export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid
              export GIT_AUTHOR_DATE='1704067200 +0000' GIT_COMMITTER_DATE='1704067200 +0000'
              git init -q -b main
              git add -A
              git commit -q -m 'first build'
              echo 'second line' >> README.md
              git commit -q -a -m 'second build'
              git rev-parse HEAD > ../head.txt
              git status --porcelain > ../status.txt
              git fsck --no-progress --strict
              cd "$1"
              echo 'app 2' >> etc/motd
              rm project/doc/keep.txt
              mv project/doc/new.txt project/doc/renamed.txt
              chmod 600 share/data.bin
              rm -r opaque
              mkdir opaque
              echo again > opaque/again.txt
              cp -a "$1" /scratch/copy
            }
            """;

    private static final String REPORT = """
            echo "== head"; cat /scratch/copy/build/head.txt
            echo "== output"; cat /scratch/copy/build/hello/output.txt
            echo "== status"; cat /scratch/copy/build/status.txt
            echo "== copy"; manifest /scratch/copy
            echo "== upper"; manifest /scratch/upper
            """;

    @Test
    void unpackBuildCommitAndCopyGiveTheKernelOverlaysResult() throws Exception {
        String overlay4j;
        try (FuseContainer container = FuseContainer.start(install)) {
            overlay4j = container.run(LAYERS + WORKLOAD + """
                    overlay4j_mount /scratch/layers/app:/scratch/layers/base /scratch/upper /scratch/work /mnt/merged
                    workload /mnt/merged
                    cd /
                    umount /mnt/merged
                    """ + REPORT);
        }
        String kernel;
        try (FuseContainer container = FuseContainer.start(install)) {
            kernel = container.run(LAYERS + WORKLOAD + """
                    kernel_mount /scratch/layers/app:/scratch/layers/base /scratch/upper /scratch/work /mnt/merged
                    workload /mnt/merged
                    cd /
                    umount /mnt/merged
                    """ + REPORT);
        }
        // The workload really ran: a build output, a commit, the copied-up and renamed lower files.
        assertTrue(overlay4j.contains("== output\nHello, overlay!\n== status\n== copy\n"), overlay4j);
        assertTrue(overlay4j.matches("(?s)== head\n[0-9a-f]{40}\n.*"), overlay4j);
        assertTrue(overlay4j.contains("./build/hello/hello-latest.jar f 644 2 "), overlay4j);
        assertTrue(overlay4j.contains("./share/data.bin f 600 1 65536\n"), overlay4j);
        assertTrue(overlay4j.contains("== upper\n"), overlay4j);
        assertTrue(overlay4j.contains("./project/doc/keep.txt c 0 0:0\n"), overlay4j); // the whiteout, in upper
        assertEquals(kernel, overlay4j);
    }
}
