package dev.overlay4j.it.containers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay in front of a server that can be made to hang: while {@link #hang} holds, bytes
 * that reach it in either direction wait, as with a server that accepted a request and never
 * answers. {@link #release} lets everything through again.
 */
final class HangingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger heldRequests = new AtomicInteger();
    private final Object gate = new Object();
    private volatile boolean hung;

    HangingProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("hanging-proxy").start(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    void hang() {
        hung = true;
    }

    void release() {
        synchronized (gate) {
            hung = false;
            gate.notifyAll();
        }
    }

    /** How many times a client sent bytes that are being held. */
    int heldRequests() {
        return heldRequests.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(target.getAddress(), target.getPort());
                sockets.add(client);
                sockets.add(server);
                Thread.ofPlatform().daemon().start(() -> pump(client, server, true));
                Thread.ofPlatform().daemon().start(() -> pump(server, client, false));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean request) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (hung && request) {
                    heldRequests.incrementAndGet();
                }
                synchronized (gate) {
                    while (hung) {
                        gate.wait();
                    }
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        release();
        listener.close();
        sockets.forEach(HangingProxy::closeQuietly);
    }
}
