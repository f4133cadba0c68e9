package dev.overlay4j.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay to a server that can stop passing bytes while keeping every connection open:
 * a server that hangs instead of refusing, which only time bounds can get a reader out of. It
 * can also hold each connection to a rate, as a remote store's connections are held by latency
 * and distance.
 */
final class FreezableProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean frozen;
    private volatile long bytesPerSecond;

    FreezableProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    void freeze(boolean on) {
        frozen = on;
    }

    /** Holds each connection, in each direction, to {@code rate} bytes a second; 0 for no limit. */
    void limit(long rate) {
        bytesPerSecond = rate;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofVirtual().start(() -> pump(client, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        long readyAt = System.nanoTime(); // when the bytes passed so far are due, at the rate
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            while (true) {
                while (frozen) {
                    Thread.sleep(10);
                }
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                while (frozen) {
                    Thread.sleep(10);
                }
                out.write(buffer, 0, n);
                long rate = bytesPerSecond;
                if (rate > 0) {
                    // No credit for idle time: a kept-alive connection does not burst.
                    long now = System.nanoTime();
                    readyAt = Math.max(readyAt, now) + n * 1_000_000_000L / rate;
                    long waitNanos = readyAt - now;
                    Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
                }
            }
        } catch (IOException | InterruptedException e) {
            // The connection ended.
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
