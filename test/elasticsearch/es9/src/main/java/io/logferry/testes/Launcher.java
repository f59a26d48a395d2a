package io.logferry.testes;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.LogferryNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * One Elasticsearch node (8.x/9.x, the test framework's jars) for logferry's tests and `npm run es`.
 *
 * Usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME
 *
 * Single node on 127.0.0.1, HTTP on exactly HTTP_PORT, data under BASE_PATH (kept across starts), and the
 * JVM exits when its standard input closes (the parent went away, even by SIGKILL).
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final Path base = Path.of(args[0]).toAbsolutePath();
        final int httpPort = Integer.parseInt(args[1]);
        final String clusterName = args[2];
        final String nodeName = "logferry-test-node";
        final Settings settings = Settings.builder()
                .put("path.home", base.resolve("home").toString())
                .put("path.data", base.resolve("data").toString())
                .put("path.logs", base.resolve("logs").toString())
                .put("cluster.name", clusterName)
                .put("node.name", nodeName)
                .put("network.host", "127.0.0.1")
                .put("http.port", httpPort)
                // Any free port: only this node talks to itself over the transport.
                .put("transport.port", 0)
                .put("discovery.type", "single-node")
                // Test and CI disks can be fuller than the default watermarks allow; shards must still allocate.
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                // With the serial collector the heap fills up to each collection: count reserved memory, not
                // "real" usage, or the parent breaker answers 429 for garbage.
                .put("indices.breaker.total.use_real_memory", false)
                // The tests clean up with wildcard deletes (`DELETE /prefix-*`), as on 7.10; logferry itself
                // deletes nothing. (Elasticsearch 8+ defaults this to true.)
                .put("action.destructive_requires_name", false)
                .build();
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.setClusterName(clusterName);
        LogConfigurator.configureWithoutConfig(settings);
        LogConfigurator.configureESLogging();

        final Node node;
        try {
            node = new LogferryNode(settings, List.of(Netty4Plugin.class, RootPlugin.class, PatternTokenizerPlugin.class), nodeName);
            node.start();
        } catch (Throwable e) {
            System.err.println("Elasticsearch did not start: " + e);
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
