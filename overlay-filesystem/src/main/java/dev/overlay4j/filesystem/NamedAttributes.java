package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryAttributes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attributes by name, for {@code Files.readAttributes(path, "view:a,b")} and
 * {@code Files.setAttribute}: the views {@code basic}, {@code owner}, {@code posix},
 * {@code unix} (posix plus the raw stat fields) and {@code user} (extended attributes).
 */
final class NamedAttributes {

    private static final List<String> BASIC = List.of("size", "creationTime", "lastAccessTime", "lastModifiedTime",
            "fileKey", "isDirectory", "isRegularFile", "isSymbolicLink", "isOther");
    private static final List<String> OWNER = List.of("owner");
    private static final List<String> POSIX = concat(BASIC, List.of("permissions", "owner", "group"));
    private static final List<String> UNIX = concat(POSIX, List.of("mode", "ino", "rdev", "nlink", "uid", "gid", "ctime"));

    private NamedAttributes() {
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }

    private record Request(String view, List<String> names) {
        static Request parse(String attributes) {
            int colon = attributes.indexOf(':');
            String view = colon < 0 ? "basic" : attributes.substring(0, colon);
            String list = colon < 0 ? attributes : attributes.substring(colon + 1);
            if (!OverlayFileSystem.VIEWS.contains(view)) {
                throw new UnsupportedOperationException("View '" + view + "' not available");
            }
            return new Request(view, Arrays.asList(list.split(",")));
        }
    }

    static Map<String, Object> read(OverlayPath path, String attributes, boolean followLinks) throws IOException {
        Request request = Request.parse(attributes);
        if (request.view().equals("user")) {
            return readUser(new XattrView(path, followLinks), request.names());
        }
        List<String> known = switch (request.view()) {
            case "basic" -> BASIC;
            case "owner" -> OWNER;
            case "posix" -> POSIX;
            default -> UNIX;
        };
        OverlayFileAttributes stat = path.getFileSystem().operations().attributes(path, followLinks);
        Map<String, Object> values = new LinkedHashMap<>();
        for (String name : request.names()) {
            if (name.equals("*")) {
                for (String each : known) {
                    values.put(each, value(stat, each));
                }
            } else if (known.contains(name)) {
                values.put(name, value(stat, name));
            } else {
                throw new IllegalArgumentException("'" + name + "' not recognized");
            }
        }
        return values;
    }

    private static Map<String, Object> readUser(XattrView view, List<String> names) throws IOException {
        Map<String, Object> values = new LinkedHashMap<>();
        for (String name : names) {
            if (name.equals("*")) {
                for (String each : view.list()) {
                    values.put(each, view.value(each));
                }
            } else {
                values.put(name, view.value(name));
            }
        }
        return values;
    }

    private static Object value(OverlayFileAttributes stat, String name) {
        EntryAttributes entry = stat.entry();
        return switch (name) {
            case "size" -> stat.size();
            case "creationTime" -> stat.creationTime();
            case "lastAccessTime" -> stat.lastAccessTime();
            case "lastModifiedTime" -> stat.lastModifiedTime();
            case "fileKey" -> stat.fileKey();
            case "isDirectory" -> stat.isDirectory();
            case "isRegularFile" -> stat.isRegularFile();
            case "isSymbolicLink" -> stat.isSymbolicLink();
            case "isOther" -> stat.isOther();
            case "permissions" -> stat.permissions();
            case "owner" -> stat.owner();
            case "group" -> stat.group();
            case "mode" -> entry.mode();
            case "ino" -> entry.inode();
            case "rdev" -> entry.rdev();
            case "nlink" -> entry.nlink();
            case "uid" -> entry.uid();
            case "gid" -> entry.gid();
            case "ctime" -> stat.changeTime();
            default -> throw new IllegalArgumentException("'" + name + "' not recognized");
        };
    }

    static void set(OverlayPath path, String attribute, Object value, boolean followLinks) throws IOException {
        Request request = Request.parse(attribute);
        if (request.names().size() != 1 || request.names().getFirst().equals("*")) {
            throw new IllegalArgumentException("'" + attribute + "' does not name one attribute");
        }
        String name = request.names().getFirst();
        if (request.view().equals("user")) {
            ByteBuffer bytes = switch (value) {
                case byte[] array -> ByteBuffer.wrap(array);
                case ByteBuffer buffer -> buffer;
                default -> throw new ClassCastException("user:" + name + " must be a byte[] or ByteBuffer");
            };
            new XattrView(path, followLinks).write(name, bytes);
            return;
        }
        AttributeView view = new AttributeView(request.view(), path, followLinks);
        boolean posix = request.view().equals("posix") || request.view().equals("unix");
        switch (name) {
            case "lastModifiedTime" -> requireView(!request.view().equals("owner"), attribute,
                    () -> view.setTimes((FileTime) value, null, null));
            case "lastAccessTime" -> requireView(!request.view().equals("owner"), attribute,
                    () -> view.setTimes(null, (FileTime) value, null));
            case "creationTime" -> requireView(!request.view().equals("owner"), attribute,
                    () -> view.setTimes(null, null, (FileTime) value));
            case "owner" -> requireView(!request.view().equals("basic"), attribute,
                    () -> view.setOwner((UserPrincipal) value));
            case "group" -> requireView(posix, attribute, () -> view.setGroup((GroupPrincipal) value));
            case "permissions" -> requireView(posix, attribute,
                    () -> view.setPermissions(PermissionBits.permissionSet(value, attribute)));
            case "mode" -> requireView(request.view().equals("unix"), attribute, () -> view.setMode((Integer) value));
            case "uid" -> requireView(request.view().equals("unix"), attribute, () -> view.setIds((Integer) value, -1));
            case "gid" -> requireView(request.view().equals("unix"), attribute, () -> view.setIds(-1, (Integer) value));
            default -> throw new IllegalArgumentException("'" + attribute + "' not recognized or not settable");
        }
    }

    private interface Setter {
        void run() throws IOException;
    }

    private static void requireView(boolean viewHasIt, String attribute, Setter setter) throws IOException {
        if (!viewHasIt) {
            throw new IllegalArgumentException("'" + attribute + "' not recognized");
        }
        setter.run();
    }
}
