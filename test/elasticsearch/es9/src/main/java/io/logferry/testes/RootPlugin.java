package io.logferry.testes;

import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.RestHandler;

/**
 * REST endpoints whose modules Maven Central does not serve: `GET /` (rest-root; the standard body, and
 * RestController adds `X-elastic-product: Elasticsearch` to every answer) and
 * `GET`/`DELETE /_data_stream` (data-streams), so clients and tests that use them get the usual answers.
 */
public final class RootPlugin extends Plugin implements ActionPlugin {
    private volatile ClusterService clusterService;

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService = services.clusterService();
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
            RestHandlersServices restHandlersServices,
            Supplier<DiscoveryNodes> nodesInCluster,
            Predicate<NodeFeature> clusterSupportsFeature) {
        return List.of(new RootHandler(() -> clusterService), new DataStreamHandler(() -> clusterService));
    }
}
