package io.logferry.testes;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.plugins.Plugin;

/**
 * One OpenSearch node (2.x/3.x) for logferry's tests and `npm run es`, its modules loaded from the
 * classpath (arguments: LauncherArgs; the rest: NodeLifecycle). Shared by opensearch2/, opensearch3/ and
 * opensearch2-secure/; each has its own ClasspathNode (how Node takes plugins, and which modules, differ
 * between 2.x and 3.x).
 *
 * Single node on 127.0.0.1, HTTP on exactly HTTP_PORT, data under BASE_PATH (kept across starts).
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] argv) throws Exception {
        run(argv, List.of(), builder -> {});
    }

    /** The node with `more` plugins beside the modules; `customize` has the last word on the settings. */
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
                // deletes nothing.
                .put("action.destructive_requires_name", false);
        for (Map.Entry<String, String> extra : args.settings.entrySet()) builder.put(extra.getKey(), extra.getValue());
        customize.accept(builder);
        final Settings settings = builder.build();
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configureWithoutConfig(settings);
        NodeLifecycle.run("OpenSearch", args.httpPort, () -> ClasspathNode.create(settings, more, nodeName).start());
    }
}
