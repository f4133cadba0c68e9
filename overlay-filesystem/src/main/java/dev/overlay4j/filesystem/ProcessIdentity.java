package dev.overlay4j.filesystem;

import dev.overlay4j.api.Access;
import dev.overlay4j.api.NewEntryAttributes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who this process is to the file system, as the kernel would see it: the ids that own new
 * entries and decide access, the supplementary groups, and the umask applied to new entries.
 *
 * @param uid    file system user id
 * @param gid    file system group id
 * @param groups supplementary group ids
 * @param umask  the process umask
 */
record ProcessIdentity(int uid, int gid, Set<Integer> groups, int umask) implements Access.Caller {

    private static final Path STATUS = Path.of("/proc/self/status");

    ProcessIdentity {
        groups = Set.copyOf(groups);
    }

    /** Reads the identity from {@code /proc/self/status} (Linux only, as overlayfs is). */
    static ProcessIdentity current() throws IOException {
        return parseStatus(Files.readAllLines(STATUS));
    }

    static ProcessIdentity parseStatus(Iterable<String> lines) throws IOException {
        Integer uid = null;
        Integer gid = null;
        Integer umask = null;
        Set<Integer> groups = Set.of();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String[] fields = line.substring(colon + 1).trim().split("\\s+");
            switch (line.substring(0, colon)) {
                // real, effective, saved, file system id: files are created and checked with the last
                case "Uid" -> uid = Integer.parseInt(fields[fields.length - 1]);
                case "Gid" -> gid = Integer.parseInt(fields[fields.length - 1]);
                case "Umask" -> umask = Integer.parseInt(fields[0], 8);
                case "Groups" -> groups = Arrays.stream(fields).filter(f -> !f.isEmpty())
                        .map(Integer::valueOf).collect(Collectors.toSet());
                default -> {
                }
            }
        }
        if (uid == null || gid == null) {
            throw new IOException("no Uid/Gid lines in " + STATUS);
        }
        // kernels before 4.7 have no Umask line; 022 is the usual default
        return new ProcessIdentity(uid, gid, groups, umask == null ? 022 : umask);
    }

    /** The owner and permissions of an entry created with {@code requested} permissions. */
    NewEntryAttributes newEntry(int requested) {
        return new NewEntryAttributes(requested & ~umask, uid, gid);
    }

    /** Whether {@code groupId} is the primary or a supplementary group of this process. */
    @Override
    public boolean inGroup(int groupId) {
        return groupId == gid || groups.contains(groupId);
    }
}
