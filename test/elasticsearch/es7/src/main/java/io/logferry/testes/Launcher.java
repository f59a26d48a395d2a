package io.logferry.testes;

import java.util.Map;
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

/**
 * One Elasticsearch 7.10 node for logferry's tests and `npm run es` (arguments: LauncherArgs; the rest:
 * NodeLifecycle).
 *
 * Why not the runner's own main: it moves to another HTTP port when the asked one is taken (a test
 * would then talk to whatever listens there), it lets nodes on one machine discover each other, and a
 * JVM whose parent died would run on. Here the port is exact and the node is single-node on 127.0.0.1.
 * Data under BASE_PATH is kept: the runner only creates missing directories, so a second start on the
 * same BASE_PATH sees the documents of the first.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] argv) throws Exception {
        final LauncherArgs args = LauncherArgs.parse(argv);
        final ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        // The runner probes for a "free" port below this limit even when http.port is given; lift it so any
        // port the caller picked is accepted.
        runner.setMaxHttpPort(65535);
        runner.onBuild((index, settings) -> {
            settings.put("http.port", String.valueOf(args.httpPort));
            settings.put("network.host", "127.0.0.1");
            settings.put("discovery.type", "single-node");
            // Test and CI disks can be fuller than the default watermarks allow; shards must still allocate.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            // The node runs the serial collector (es-runtime.mjs), whose heap fills up to each collection; the
            // parent breaker's real-memory check then answers 429 for garbage a collection would free (seen in
            // CI: 472.6 of 470.1 MB "real usage" on a _refresh). Count reserved memory instead.
            settings.put("indices.breaker.total.use_real_memory", false);
            for (Map.Entry<String, String> extra : args.settings.entrySet()) settings.put(extra.getKey(), extra.getValue());
        });
        NodeLifecycle.run("Elasticsearch", args.httpPort, () -> {
            runner.build(ElasticsearchClusterRunner.newConfigs()
                    .basePath(args.base.toString())
                    .numOfNode(1)
                    .baseHttpPort(args.httpPort - 1)
                    .clusterName(args.clusterName));
            return () -> {
                if (!runner.isClosed()) runner.close();
            };
        });
    }
}
