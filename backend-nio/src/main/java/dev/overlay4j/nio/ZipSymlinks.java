package dev.overlay4j.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The entries of a zip archive stored as symbolic links ({@code zip -y}, Info-ZIP and others on
 * Unix): the central directory gives them a Unix mode of type S_IFLNK in the high half of their
 * external attributes, and the link's target as their content. The JDK's zip filesystem drops
 * the file type and shows them as regular files, so the layer reads the central directory
 * itself (PKWARE APPNOTE 4.3.12 to 4.3.16, ZIP64 included) for their names.
 */
final class ZipSymlinks {

    private static final int END = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_END = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int HOST_UNIX = 3;

    private ZipSymlinks() {
    }

    /** The names (as stored, without a leading slash) of the archive's symlink entries; empty if none or unreadable. */
    static Set<String> of(Path archive) throws IOException {
        try (FileChannel channel = FileChannel.open(archive)) {
            long size = channel.size();
            int tailLength = (int) Math.min(size, 22 + 0xFFFF);
            ByteBuffer tail = read(channel, size - tailLength, tailLength);
            int end = -1;
            for (int i = tailLength - 22; i >= 0; i--) {
                if (tail.getInt(i) == END) {
                    end = i;
                    break;
                }
            }
            if (end < 0) {
                return Set.of();
            }
            long entries = tail.getShort(end + 10) & 0xFFFF;
            long directorySize = tail.getInt(end + 12) & 0xFFFFFFFFL;
            long directoryOffset = tail.getInt(end + 16) & 0xFFFFFFFFL;
            if (entries == 0xFFFF || directorySize == 0xFFFFFFFFL || directoryOffset == 0xFFFFFFFFL) {
                long locatorAt = size - tailLength + end - 20;
                if (locatorAt < 0) {
                    return Set.of();
                }
                ByteBuffer locator = read(channel, locatorAt, 20);
                if (locator.getInt(0) != ZIP64_LOCATOR) {
                    return Set.of();
                }
                ByteBuffer zip64 = read(channel, locator.getLong(8), 56);
                if (zip64.getInt(0) != ZIP64_END) {
                    return Set.of();
                }
                directorySize = zip64.getLong(40);
                directoryOffset = zip64.getLong(48);
            }
            if (directorySize > Integer.MAX_VALUE || directoryOffset + directorySize > size) {
                return Set.of();
            }
            ByteBuffer directory = read(channel, directoryOffset, (int) directorySize);
            Set<String> links = new HashSet<>();
            int at = 0;
            while (at + 46 <= directory.limit() && directory.getInt(at) == CENTRAL) {
                int host = (directory.getShort(at + 4) >> 8) & 0xFF;
                int nameLength = directory.getShort(at + 28) & 0xFFFF;
                int extraLength = directory.getShort(at + 30) & 0xFFFF;
                int commentLength = directory.getShort(at + 32) & 0xFFFF;
                long mode = (directory.getInt(at + 38) & 0xFFFFFFFFL) >>> 16;
                if (at + 46 + nameLength > directory.limit()) {
                    break;
                }
                if (host == HOST_UNIX && (mode & 0170000) == 0120000) {
                    byte[] name = new byte[nameLength];
                    directory.get(at + 46, name);
                    String text = new String(name, StandardCharsets.UTF_8);
                    links.add(text.startsWith("/") ? text.substring(1) : text);
                }
                at += 46 + nameLength + extraLength + commentLength;
            }
            return links;
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                break;
            }
        }
        return buffer.flip().order(ByteOrder.LITTLE_ENDIAN);
    }
}
