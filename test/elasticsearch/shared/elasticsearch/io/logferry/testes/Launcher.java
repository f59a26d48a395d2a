package io.logferry.testes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.LogferryNode;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * One Elasticsearch node (8.x/9.x, the test framework's jars) for logferry's tests and `npm run es`
 * (arguments: LauncherArgs; the rest: NodeLifecycle). Shared by es8/, es9/ and es8-secure/ (which adds
 * plugins and settings through run).
 *
 * Single node on 127.0.0.1, HTTP on exactly HTTP_PORT, data under BASE_PATH (kept across starts).
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] argv) throws Exception {
        run(argv, List.of(), builder -> {});
    }

    /** The node with `more` plugins beside the usual ones; `customize` has the last word on the settings. */
    public static void run(String[] argv, List<Class<? extends Plugin>> more, Consumer<Settings.Builder> customize) throws Exception {
        final LauncherArgs args = LauncherArgs.parse(argv);
        final String nodeName = "logferry-test-node";
        final Settings.Builder builder = Settings.builder()
                .put("path.home", args.base.resolve("home").toString())
                .put("path.data", args.base.resolve("data").toString())
                .put("path.logs", args.base.resolve("logs").toString())
                .put("cluster.name", args.clusterName)
                .put("node.name", nodeName)
                .put("network.host", "127.0.0.1")
                .put("http.port", args.httpPort)
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
                .put("action.destructive_requires_name", false);
        for (Map.Entry<String, String> extra : args.settings.entrySet()) builder.put(extra.getKey(), extra.getValue());
        customize.accept(builder);
        final Settings settings = builder.build();
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.setClusterName(args.clusterName);
        LogConfigurator.configureWithoutConfig(settings);
        LogConfigurator.configureESLogging();

        final List<Class<? extends Plugin>> plugins = new ArrayList<>(List.of(Netty4Plugin.class, RootPlugin.class, PatternTokenizerPlugin.class));
        plugins.addAll(more);
        NodeLifecycle.run("Elasticsearch", args.httpPort, () -> new LogferryNode(settings, plugins, nodeName).start());
    }
}
