package dev.overlay4j.fuse;

import static dev.overlay4j.fuse.MountedOverlay.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Paths of any length below the mount, as pjdfstest's {@code 03.t} cases drive them from a
 * directory of the mount: a 4095-byte relative path of 255-byte names (PATH_MAX - 1) is created, changed and removed with
 * every call, a directory there is entered and the tree goes on below it by {@code chdir} steps,
 * and only a name over 255 bytes or a path over PATH_MAX fails, with ENAMETOOLONG. The backing
 * paths in the layers are then longer than PATH_MAX.
 */
class FuseLongPathsTest {

    /** Fails unless the command fails with ENAMETOOLONG. */
    private static final String FUNCTIONS = """
            set -eu
            umask 022
            too_long() {
                if "$@" 2>err; then echo "succeeded, expected ENAMETOOLONG: $*" | cut -c1-120; exit 1; fi
                grep -q 'File name too long' err || { cat err; exit 1; }
                rm err
            }
            is() { [ "$1" = "$2" ] || { echo "expected $2, got $1" | cut -c1-300; exit 1; }; }
            """;

    @TempDir
    Path root;
    private MountedOverlay fs;

    @AfterEach
    void unmountAndRemoveTrees() throws IOException {
        if (fs != null) {
            fs.close();
        }
        run(root, "sh", "-c", "find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +"); // JUnit cannot, at this depth
    }

    /** 16 names of 255 bytes: the 4095 bytes of pjdfstest's {@code dirgen_max}. */
    private static String pathMaxMinusOne() {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= 16; i++) {
            names.add(String.format("%02d", i) + "n".repeat(253));
        }
        String path = String.join("/", names);
        assertEquals(4095, path.length());
        return path;
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {false, true})
    void everyCallWorksOnAPathOfPathMaxMinusOneAndDeeperBelowTheMount(boolean passthrough) throws IOException {
        MountedOverlay.createLayers(root);
        fs = MountedOverlay.mount(root, FuseOptions.defaults().withPassthrough(passthrough));
        run(fs.mnt, "bash", "-c", FUNCTIONS + """
                nx=$1
                mkdir t
                cd t
                mkdir -p "${nx%/*}"
                : > "$nx"
                is "$(stat -c %F "$nx")" "regular empty file"
                echo data > "$nx"
                is "$(cat "$nx")" data
                chmod 0642 "$nx"
                is "$(stat -c %a "$nx")" 642
                chown 65534:65533 "$nx"
                is "$(stat -c %u:%g "$nx")" 65534:65533
                truncate -s 123 "$nx"
                is "$(stat -c %s "$nx")" 123
                ln "$nx" n0
                is "$(stat -c %h n0)" 2
                rm "$nx"
                ln n0 "$nx"
                is "$(stat -c %h "$nx")" 2
                mv "$nx" n1
                mv n1 "$nx"
                rm "$nx"
                too_long ln n0 "${nx}x"
                rm n0
                mkdir "$nx"
                is "$(stat -c %F:%a "$nx")" directory:755
                rmdir "$nx"
                too_long mkdir "${nx}x"
                too_long touch "${nx}x"
                too_long stat "${nx}x"

                # Below it, past PATH_MAX, by chdir steps: 8 more levels make 6143 bytes.
                cd "${nx%/*}"
                for i in 1 2 3 4 5 6 7 8; do d=$(printf 'd%02d%0252d' $i 0); mkdir "$d"; cd "$d"; done
                printf deep > f
                chmod 600 f
                chown 1:2 f
                truncate -s 2 f
                is "$(stat -c %a:%u:%g:%s f)" 600:1:2:2
                is "$(cat f)" de
                ln f g
                is "$(stat -c %h f)" 2
                mv g h
                rm h f
                mkdir sub
                rmdir sub
                mkfifo p
                ln -s target s
                is "$(readlink s)" target
                rm p s
                too_long touch "$(printf 'n%.0s' $(seq 256))"
                is "$(ls -A)" ""
                cd "$2"/t
                rm -rf "${nx%%/*}"
                is "$(ls -A)" ""
                cd ..
                rmdir t
                """, "bash", pathMaxMinusOne(), fs.mnt.toString());
        assertEquals("", run(fs.upper, "ls", "-A"), "the tree is gone from the upper layer too");
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {false, true})
    void aLowerTreeOfPathMaxMinusOneIsCopiedUpAndRemovedThroughTheMount(boolean passthrough) throws IOException {
        MountedOverlay.createLayers(root);
        String nx = pathMaxMinusOne();
        run(root.resolve("lower1"), "bash", "-c", "set -e; mkdir t; cd t; mkdir -p \"${1%/*}\"; printf lower > \"$1\"; "
                + "printf other > \"${1%/*}/o\"", "bash", nx);
        fs = MountedOverlay.mount(root, FuseOptions.defaults().withPassthrough(passthrough));
        run(fs.mnt, "bash", "-c", FUNCTIONS + """
                nx=$1
                cd t
                is "$(cat "$nx")" lower
                echo " appended" >> "$nx"
                is "$(cat "$nx")" "lower appended"
                chmod 0600 "${nx%/*}/o"
                is "$(stat -c %a "${nx%/*}/o")" 600
                rm "$nx"
                too_long cat "${nx}x"
                is "$(ls -A "${nx%/*}")" o
                rm -rf "${nx%%/*}"
                is "$(ls -A)" ""
                """, "bash", nx);
        String top = nx.substring(0, nx.indexOf('/'));
        Path upperT = fs.upper.resolve("t");
        assertEquals("character special file 0:0\n", run(upperT, "stat", "-c", "%F %t:%T", top), "a whiteout hides the lower tree");
        run(fs.mnt.resolve("t"), "mkdir", top);
        assertEquals("", run(fs.mnt.resolve("t"), "ls", "-A", top));
        assertEquals("y", run(upperT, "getfattr", "--only-values", "-n", "trusted.overlay.opaque", top),
                "a directory made over the removed one is opaque");
    }
}
