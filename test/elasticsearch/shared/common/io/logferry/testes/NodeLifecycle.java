package io.logferry.testes;

import java.io.InputStream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * What every launcher does around its node (plain JDK, shared by all servers): start it, or exit 1 with
 * the reason (its threads may already run, so exit explicitly rather than leave a half-started node);
 * close it on SIGTERM; and exit when standard input closes, i.e. when the parent went away, even by
 * SIGKILL (scripts/es-runtime.mjs keeps the pipe open and never writes to it).
 */
public final class NodeLifecycle {
    private NodeLifecycle() {}

    /** Starts the node `start` returns (already started), then blocks until the JVM is told to stop. */
    public static void run(String product, int httpPort, Callable<AutoCloseable> start) throws InterruptedException {
        final AutoCloseable node;
        try {
            node = start.call();
        } catch (Throwable e) {
            System.err.println(product + " did not start: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception ignored) {
                // Exiting anyway.
            }
            closed.countDown();
        }));
        final Thread watchdog = new Thread(() -> {
            try (InputStream in = System.in) {
                final byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // Nothing is expected on stdin; it only signals that the parent is alive.
                }
            } catch (Exception ignored) {
                // A broken pipe means the same as end of input.
            }
            System.exit(0);
        }, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        System.out.println("logferry-test-es listening on 127.0.0.1:" + httpPort);
        closed.await();
    }
}
