package io.logferry.testes;

import java.io.InputStream;
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * One Elasticsearch node for logferry's tests and `npm run es`.
 *
 * Usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME
 *
 * Why not the runner's own main: it moves to another HTTP port when the asked one is taken (a test
 * would then talk to whatever listens there), it lets nodes on one machine discover each other, and a
 * JVM whose parent died would run on. Here the port is exact, the node is single-node on 127.0.0.1,
 * and the JVM exits when its standard input closes (the parent went away, even by SIGKILL).
 * Data under BASE_PATH is kept: the runner only creates missing directories, so a second start on the
 * same BASE_PATH sees the documents of the first.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String basePath = args[0];
        final int httpPort = Integer.parseInt(args[1]);
        final String clusterName = args[2];

        final ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        // The runner probes for a "free" port below this limit even when http.port is given; lift it so any
        // port the caller picked is accepted.
        runner.setMaxHttpPort(65535);
        runner.onBuild((index, settings) -> {
            settings.put("http.port", String.valueOf(httpPort));
            settings.put("network.host", "127.0.0.1");
            settings.put("discovery.type", "single-node");
            // Test and CI disks can be fuller than the default watermarks allow; shards must still allocate.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            // The node runs the serial collector (es-runtime.mjs), whose heap fills up to each collection; the
            // parent breaker's real-memory check then answers 429 for garbage a collection would free (seen in
            // CI: 472.6 of 470.1 MB "real usage" on a _refresh). Count reserved memory instead.
            settings.put("indices.breaker.total.use_real_memory", false);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(runner)));

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

        try {
            runner.build(ElasticsearchClusterRunner.newConfigs()
                    .basePath(basePath)
                    .numOfNode(1)
                    .baseHttpPort(httpPort - 1)
                    .clusterName(clusterName));
        } catch (Throwable e) {
            // Its threads may already run: exit explicitly, or a half-started node would linger.
            System.err.println("Elasticsearch did not start: " + e);
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("logferry-test-es listening on 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }

    private static void closeQuietly(ElasticsearchClusterRunner runner) {
        try {
            if (!runner.isClosed()) runner.close();
        } catch (Exception ignored) {
            // Exiting anyway.
        }
    }
}
