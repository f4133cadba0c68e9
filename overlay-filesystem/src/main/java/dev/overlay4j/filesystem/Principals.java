package dev.overlay4j.filesystem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Users and groups of the host, by id and name. Layers store host ids, so names come from the
 * host's {@code /etc/passwd} and {@code /etc/group}; an id without a name is shown as its number.
 */
final class Principals extends UserPrincipalLookupService {

    /** A user by id; its name is the account name, or the id when there is none. */
    record User(int id, String name) implements UserPrincipal {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A group by id; its name is the group name, or the id when there is none. */
    record Group(int id, String name) implements GroupPrincipal {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The account databases, read once. */
    private record Table(Map<Integer, String> byId, Map<String, Integer> byName) {
        static Table read(Path file) {
            Map<Integer, String> byId = new HashMap<>();
            Map<String, Integer> byName = new HashMap<>();
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (NoSuchFileException e) {
                lines = List.of();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            for (String line : lines) {
                // name:password:id:... in both passwd(5) and group(5)
                String[] fields = line.split(":", 4);
                if (fields.length < 3 || line.startsWith("#")) {
                    continue;
                }
                try {
                    int id = Integer.parseInt(fields[2]);
                    byId.putIfAbsent(id, fields[0]);
                    byName.putIfAbsent(fields[0], id);
                } catch (NumberFormatException e) {
                    // not an account line
                }
            }
            return new Table(byId, byName);
        }
    }

    private final Path passwdFile;
    private final Path groupFile;
    private volatile Table users;
    private volatile Table groups;

    Principals(Path passwdFile, Path groupFile) {
        this.passwdFile = passwdFile;
        this.groupFile = groupFile;
    }

    static Principals ofHost() {
        return new Principals(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    private Table users() {
        Table table = users;
        if (table == null) {
            users = table = Table.read(passwdFile);
        }
        return table;
    }

    private Table groups() {
        Table table = groups;
        if (table == null) {
            groups = table = Table.read(groupFile);
        }
        return table;
    }

    User user(int uid) {
        return new User(uid, users().byId().getOrDefault(uid, Integer.toString(uid)));
    }

    Group group(int gid) {
        return new Group(gid, groups().byId().getOrDefault(gid, Integer.toString(gid)));
    }

    @Override
    public User lookupPrincipalByName(String name) throws UserPrincipalNotFoundException {
        Integer uid = users().byName().get(name);
        if (uid == null) {
            uid = numeric(name);
        }
        return user(uid);
    }

    @Override
    public Group lookupPrincipalByGroupName(String name) throws UserPrincipalNotFoundException {
        Integer gid = groups().byName().get(name);
        if (gid == null) {
            gid = numeric(name);
        }
        return group(gid);
    }

    /** The uid of any user principal: ours directly, another provider's by its name. */
    int uidOf(UserPrincipal principal) throws IOException {
        return principal instanceof User user ? user.id() : lookupPrincipalByName(principal.getName()).id();
    }

    /** The gid of any group principal: ours directly, another provider's by its name. */
    int gidOf(GroupPrincipal principal) throws IOException {
        return principal instanceof Group group ? group.id() : lookupPrincipalByGroupName(principal.getName()).id();
    }

    private static int numeric(String name) throws UserPrincipalNotFoundException {
        try {
            int id = Integer.parseInt(name);
            if (id >= 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // not a number either
        }
        throw new UserPrincipalNotFoundException(name);
    }
}
