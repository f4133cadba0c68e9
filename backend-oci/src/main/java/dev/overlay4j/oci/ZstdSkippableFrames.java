package dev.overlay4j.oci;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A zstd stream without its skippable frames (RFC 8878, 3.1.2), which aircompressor's decoder
 * takes for corrupt data although every decoder is to skip them, and which zstd:chunked layers
 * end with (their manifest, tar-split and footer). Zstandard frames pass through unchanged; to
 * find where one ends, its header and block headers are read (RFC 8878, 3.1.1). Anything that is
 * neither kind of frame passes through as it is, for the decoder to judge.
 */
final class ZstdSkippableFrames extends InputStream {

    private static final int ZSTD_MAGIC = 0xFD2FB528;

    private enum State { FRAME_START, BLOCK_HEADER, CHECKSUM, REST }

    private final InputStream in;
    private State state = State.FRAME_START;
    private boolean checksum;
    /** Header bytes read to learn a frame's layout, still to be handed on. */
    private byte[] pending = new byte[0];
    private int pendingPos;
    /** Bytes of block content to copy through as they are. */
    private long pass;

    ZstdSkippableFrames(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (true) {
            if (pendingPos < pending.length) {
                int n = Math.min(len, pending.length - pendingPos);
                System.arraycopy(pending, pendingPos, b, off, n);
                pendingPos += n;
                return n;
            }
            if (state == State.REST) {
                return in.read(b, off, len);
            }
            if (pass > 0) {
                int n = in.read(b, off, (int) Math.min(len, pass));
                if (n < 0) {
                    throw new EOFException("the zstd stream ends inside a block");
                }
                pass -= n;
                return n;
            }
            if (!advance()) {
                return -1;
            }
        }
    }

    /** Reads the next frame header, block header or checksum; false at the end of the stream. */
    private boolean advance() throws IOException {
        switch (state) {
            case FRAME_START -> {
                byte[] magic = in.readNBytes(4);
                if (magic.length == 0) {
                    return false;
                }
                int value = magic.length < 4 ? 0 : littleEndian(magic, 0, 4);
                if (magic.length == 4 && (value & 0xFFFFFFF0) == 0x184D2A50) {
                    long size = Integer.toUnsignedLong(littleEndian(in.readNBytes(4), 0, 4));
                    in.skipNBytes(size);
                    return true;
                }
                if (magic.length < 4 || value != ZSTD_MAGIC) {
                    pend(magic);
                    state = State.REST;
                    return true;
                }
                int descriptor = in.read();
                if (descriptor < 0) {
                    throw new EOFException("the zstd stream ends inside a frame header");
                }
                int contentSizeFlag = descriptor >>> 6;
                boolean singleSegment = (descriptor & 0x20) != 0;
                checksum = (descriptor & 0x04) != 0;
                int dictionaryIdFlag = descriptor & 0x03;
                int rest = (singleSegment ? 0 : 1) + new int[] {0, 1, 2, 4}[dictionaryIdFlag]
                        + (contentSizeFlag == 0 ? (singleSegment ? 1 : 0) : 1 << contentSizeFlag);
                byte[] header = new byte[5 + rest];
                System.arraycopy(magic, 0, header, 0, 4);
                header[4] = (byte) descriptor;
                readFully(header, 5, rest);
                pend(header);
                state = State.BLOCK_HEADER;
                return true;
            }
            case BLOCK_HEADER -> {
                byte[] header = new byte[3];
                readFully(header, 0, 3);
                int value = littleEndian(header, 0, 3);
                int type = (value >>> 1) & 3;
                if (type == 3) {
                    throw new IOException("a zstd block of the reserved type: corrupt data");
                }
                pass = type == 1 ? 1 : value >>> 3; // an RLE block stores one byte
                if ((value & 1) != 0) {
                    state = checksum ? State.CHECKSUM : State.FRAME_START;
                }
                pend(header);
                return true;
            }
            case CHECKSUM -> {
                pass = 4;
                state = State.FRAME_START;
                return true;
            }
            default -> throw new IllegalStateException(state.toString());
        }
    }

    private void pend(byte[] bytes) {
        pending = bytes;
        pendingPos = 0;
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        if (in.readNBytes(b, off, len) < len) {
            throw new EOFException("the zstd stream ends inside a frame header");
        }
    }

    private static int littleEndian(byte[] b, int off, int len) throws EOFException {
        if (b.length < off + len) {
            throw new EOFException("the zstd stream ends inside a skippable frame's header");
        }
        int value = 0;
        for (int i = len - 1; i >= 0; i--) {
            value = value << 8 | (b[off + i] & 0xff);
        }
        return value;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
