package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * New entries in a set-group-ID directory take its group, and new directories the bit too
 * (the kernel's inode_init_owner on the merged parent), whether the entry is built in the upper
 * tree or in the work area (a directory made opaque in a merged parent), and whatever the
 * frontend asked for.
 */
class SetGroupIdDirectoryTest {
    private static final int GROUP = 3001;

    @TempDir
    Path tmp;

    /** A lower directory {@code s}, mode 2775, of group 3001, and an upper-only one {@code u} like it. */
    private LayerTree tree() throws IOException {
        assumeTrue(((Integer) Files.getAttribute(tmp, "unix:uid")) == 0 && "root".equals(System.getProperty("user.name")),
                "SKIPPED: giving a directory group " + GROUP + " needs root");
        LayerTree t = new LayerTree(tmp, 1).dir(1, "s").dir(0, "u");
        for (Path dir : new Path[] {t.layer(1).resolve("s"), t.upper().resolve("u")}) {
            Files.setAttribute(dir, "unix:gid", GROUP);
            Files.setAttribute(dir, "unix:mode", 02775);
        }
        return t;
    }

    private static String ownerAndMode(EntryAttributes a) {
        return a.uid() + ":" + a.gid() + " " + Integer.toOctalString(a.permissions());
    }

    @Test
    void aNewDirectoryInAMergedSetGroupIdDirectoryGetsItsGroupAndTheBit() throws Exception {
        try (Overlay o = tree().open()) {
            o.createDirectory(p("s/n"), new NewEntryAttributes(0755, 0, 0));
            assertEquals("0:3001 2755", ownerAndMode(o.stat(p("s/n"))));
            o.createDirectory(p("s/n/deeper"), new NewEntryAttributes(0700, 0, 0));
            assertEquals("0:3001 2700", ownerAndMode(o.stat(p("s/n/deeper"))));
        }
    }

    @Test
    void filesAndSymlinksTakeTheGroupButNotTheBit() throws Exception {
        LayerTree t = tree();
        try (Overlay o = t.open()) {
            o.open(p("s/f"), java.util.Set.of(java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE), new NewEntryAttributes(0644, 0, 0)).close();
            o.createSymlink(p("u/l"), "f", new NewEntryAttributes(0777, 0, 0));
            o.createDirectory(p("u/d"), new NewEntryAttributes(0750, 0, 0));
            assertEquals("0:3001 644", ownerAndMode(o.stat(p("s/f"))));
            assertEquals(GROUP, o.stat(p("u/l")).gid());
            assertEquals("0:3001 2750", ownerAndMode(o.stat(p("u/d"))));
        }
        assertEquals(GROUP, Files.getAttribute(t.upper().resolve("u/l"), "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aDirectoryWithoutTheBitLeavesTheRequestedGroup() throws Exception {
        LayerTree t = tree();
        Files.setAttribute(t.layer(1).resolve("s"), "unix:mode", 0775);
        try (Overlay o = t.open()) {
            o.createDirectory(p("s/n"), new NewEntryAttributes(0755, 0, 0));
            assertEquals("0:0 755", ownerAndMode(o.stat(p("s/n"))));
        }
    }
}
