package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.it.containers.FuseContainer.Bind;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency: a container writes through an overlay4j mount whose layers live on a host
 * directory, fsyncs some files, and is killed (SIGKILL to every process, the FUSE daemon
 * included) while a writer copies lower files up and fsyncs a journal. A new container remounts
 * the same upper dir: every fsync'ed file is whole, every journal line whose fsync returned is
 * there, each touched lower file is either the lower original or the original plus its appends
 * (never a partial copy), the work area is empty, and the kernel's overlayfs reads the upper dir
 * the same way.
 */
class KilledContainerTest extends ContainerScenario {

    @TempDir
    Path data;

    private static final int LOWER_FILES = 16;
    private static final int LOWER_FILE_BYTES = 4 << 20;
    private static final String MOUNT = "overlay4j_mount /data/lower /data/upper /data/work /mnt/m\n";

    /** Lower files, a mount, fsync'ed writes whose sums go to /data/expected.sha256. */
    private static final String WRITE_AND_FSYNC = """
            mkdir -p /data/lower/big
            for i in $(seq -w 1 %d); do head -c %d /dev/urandom > /data/lower/big/f$i; done
            echo 'lower text' > /data/lower/notes.txt
            (cd /data/lower && sha256sum big/*) > /data/lower.sha256
            %s
            cd /mnt/m
            mkdir synced
            for i in 1 2 3 4 5; do head -c 1048576 /dev/urandom | dd of=synced/new$i bs=64k iflag=fullblock conv=fsync status=none; done
            dd if=/dev/urandom of=notes.txt bs=4k count=2 seek=1 conv=notrunc,fsync status=none
            head -c 65536 /dev/urandom | dd of=config.tmp bs=64k iflag=fullblock conv=fsync status=none
            mv config.tmp config.json
            sync .
            sha256sum synced/* notes.txt config.json > /data/expected.sha256
            """.formatted(LOWER_FILES, LOWER_FILE_BYTES, MOUNT);

    /**
     * Forever: copy every lower file up with an append, and after each a journal line that is
     * fsync'ed before /data/progress (off the mount) records it.
     */
    private static final String BACKGROUND_WRITER = """
            cd /mnt/m
            setsid bash -c '
              while :; do
                for f in big/*; do
                  printf x >> "$f"
                  echo "$f" >> journal
                  sync journal
                  echo "$f" >> /data/progress
                done
              done' </dev/null >/dev/null 2>&1 &
            until [ -s /data/progress ] && [ "$(wc -l < /data/progress)" -ge 3 ]; do sleep 0.05; done
            """;

    /** Run on a mount of the recovered upper dir (overlay4j's, then the kernel's); prints only problems and counts. */
    private static final String CHECK_MERGED_VIEW = """
            cd /mnt/m
            sha256sum --check --quiet /data/expected.sha256 || echo 'fsynced files differ'
            while read -r sum name; do
              size=$(stat -c %%s "$name")
              [ "$size" -ge %1$d ] || echo "$name is shorter than the lower file: $size bytes"
              [ "$(head -c %1$d "$name" | sha256sum | cut -d' ' -f1)" = "$sum" ] || echo "$name does not start with the lower file"
              [ -z "$(tail -c +%2$d "$name" | tr -d x)" ] || echo "$name has more than appended x after the lower file"
            done < /data/lower.sha256
            grep -vxF -f journal /data/progress | sed 's/^/lost journal line: /' || true
            echo "journal lines recorded as fsynced are present; root: $(ls -A | tr '\\n' ' ')"
            """.formatted(LOWER_FILE_BYTES, LOWER_FILE_BYTES + 1);

    @Test
    void afterAKillARemountShowsEveryFsyncedFileWholeAndNoPartialCopyUp() throws Exception {
        try (FuseContainer writer = FuseContainer.start(install, new Bind(data, "/data"))) {
            writer.run(WRITE_AND_FSYNC);
            writer.run(BACKGROUND_WRITER);
            writer.kill();
        }
        String report;
        try (FuseContainer reader = FuseContainer.start(install, new Bind(data, "/data"))) {
            report = reader.run(MOUNT + """
                    echo "== work area: $(ls -A /data/work/work | wc -l) entries"
                    echo '== overlay4j'
                    """ + CHECK_MERGED_VIEW + """
                    cd /
                    umount /mnt/m
                    echo '== kernel'
                    kernel_mount /data/lower /data/upper /data/kernel-work /mnt/m
                    """ + CHECK_MERGED_VIEW + """
                    cd /
                    umount /mnt/m
                    rm -rf /data/*
                    """);
        }
        String mergedView = "journal lines recorded as fsynced are present; root: big config.json journal notes.txt synced \n";
        assertEquals("== work area: 0 entries\n== overlay4j\n" + mergedView + "== kernel\n" + mergedView, report);
    }
}
