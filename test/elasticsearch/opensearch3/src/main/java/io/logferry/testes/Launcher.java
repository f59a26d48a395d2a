package io.logferry.testes;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.opensearch.Version;
import org.opensearch.analysis.common.CommonAnalysisModulePlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasModulePlugin;
import org.opensearch.index.reindex.ReindexModulePlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessModulePlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.PluginInfo;
import org.opensearch.transport.Netty4ModulePlugin;

/**
 * One OpenSearch 3.x node for logferry's tests and `npm run es`, its modules loaded from the classpath
 * (Node's protected constructor takes plugin descriptions; the module classes are named *ModulePlugin).
 *
 * Usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME
 *
 * Single node on 127.0.0.1, HTTP on exactly HTTP_PORT, data under BASE_PATH (kept across starts), and the
 * JVM exits when its standard input closes (the parent went away, even by SIGKILL).
 */
public final class Launcher {
    private Launcher() {}

    static final class ClasspathNode extends Node {
        ClasspathNode(Settings settings, Collection<Class<? extends Plugin>> plugins, String nodeName) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName), describe(plugins), true);
        }

        private static List<PluginInfo> describe(Collection<Class<? extends Plugin>> plugins) {
            final List<PluginInfo> infos = new ArrayList<>();
            for (Class<? extends Plugin> plugin : plugins) {
                infos.add(new PluginInfo(plugin.getName(), "classpath plugin", "NA", Version.CURRENT, "21", plugin.getName(), List.of(), false));
            }
            return infos;
        }
    }

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
        LogConfigurator.configureWithoutConfig(settings);

        final Node node;
        try {
            node = new ClasspathNode(
                    settings,
                    List.of(Netty4ModulePlugin.class, CommonAnalysisModulePlugin.class, PainlessModulePlugin.class,
                            MapperExtrasModulePlugin.class, ReindexModulePlugin.class),
                    nodeName);
            node.start();
        } catch (Throwable e) {
            System.err.println("OpenSearch did not start: " + e);
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
