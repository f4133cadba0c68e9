package dev.overlay4j.core;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Path walk that follows symlinks the way the kernel's path lookup does: absolute targets start
 * at the overlay root, {@code ..} goes to the parent of the directory reached so far (never
 * above the root), every name but the last must be a directory, and more than 40 links is ELOOP.
 */
final class SymlinkResolution {

    static final int MAX_LINKS = 40;

    private final Lookup lookup;
    private final LayerStack layers;

    SymlinkResolution(Lookup lookup, LayerStack layers) {
        this.lookup = lookup;
        this.layers = layers;
    }

    EntryPath resolve(EntryPath path, boolean followLast) throws IOException {
        Deque<String> pending = new ArrayDeque<>(path.names());
        List<MergedEntry> reached = new ArrayList<>();
        reached.add(lookup.directory(EntryPath.ROOT));
        int links = 0;
        while (!pending.isEmpty()) {
            String name = pending.pollFirst();
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                if (reached.size() > 1) {
                    reached.removeLast();
                }
                continue;
            }
            MergedEntry dir = reached.getLast();
            EntryPath candidate = dir.path().resolve(validName(dir.path(), name));
            boolean last = pending.isEmpty();
            Optional<MergedEntry> found = lookup.cachedChild(dir, name);
            if (found.isEmpty()) {
                if (last) {
                    return candidate;
                }
                throw Errno.ENOENT.exception(path, candidate + " does not exist");
            }
            MergedEntry entry = found.get();
            if (entry.top().attributes().isSymlink() && (!last || followLast)) {
                if (++links > MAX_LINKS) {
                    throw Errno.ELOOP.exception(path, "more than " + MAX_LINKS + " symbolic links");
                }
                LayerEntry top = entry.top();
                String target = layers.layer(top.layer()).readLink(top.path());
                if (target.isEmpty()) {
                    throw Errno.ENOENT.exception(path, candidate + " is a symlink to nothing");
                }
                if (target.startsWith("/")) {
                    reached.subList(1, reached.size()).clear();
                }
                String[] names = target.split("/");
                for (int i = names.length - 1; i >= 0; i--) {
                    pending.addFirst(names[i]);
                }
                continue;
            }
            if (!last && !entry.isDirectory()) {
                throw Errno.ENOTDIR.exception(path, candidate + " is not a directory");
            }
            reached.add(entry);
        }
        return reached.getLast().path();
    }

    private static String validName(EntryPath dir, String name) throws IOException {
        if (!EntryPath.isValidName(name)) {
            throw Errno.ENOENT.exception(dir, "invalid name \"" + name + "\" in a symlink target");
        }
        Lookup.checkName(dir, name);
        return name;
    }
}
