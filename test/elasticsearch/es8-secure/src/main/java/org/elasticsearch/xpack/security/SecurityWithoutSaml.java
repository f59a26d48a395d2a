package org.elasticsearch.xpack.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.action.ActionRequest;
import org.elasticsearch.action.ActionResponse;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;

/**
 * Elasticsearch's security plugin without SAML: its OpenSAML/Shibboleth dependencies are not on Maven
 * Central (es8-secure/pom.xml excludes them), and the SAML transport actions would need them when the node
 * binds its actions. Everything else (TLS, native and file realms, API keys, roles) is the plugin's own.
 * It lives in the plugin's own package (org.elasticsearch.xpack.*), where the notes on this machine's test
 * servers say it must be for the node to accept it in place of the plugin.
 */
public class SecurityWithoutSaml extends Security {
    public SecurityWithoutSaml(Settings settings) {
        super(settings);
    }

    private static boolean saml(Object o) {
        return o.getClass().getName().toLowerCase(java.util.Locale.ROOT).contains("saml");
    }

    @Override
    public List<ActionHandler<? extends ActionRequest, ? extends ActionResponse>> getActions() {
        final List<ActionHandler<? extends ActionRequest, ? extends ActionResponse>> kept = new ArrayList<>();
        for (ActionHandler<? extends ActionRequest, ? extends ActionResponse> handler : super.getActions()) {
            if (!handler.getAction().name().contains("/saml/")) kept.add(handler);
        }
        return kept;
    }

    @Override
    public List<RestHandler> getRestHandlers(
            Settings settings,
            NamedWriteableRegistry namedWriteableRegistry,
            RestController restController,
            ClusterSettings clusterSettings,
            IndexScopedSettings indexScopedSettings,
            SettingsFilter settingsFilter,
            IndexNameExpressionResolver indexNameExpressionResolver,
            Supplier<DiscoveryNodes> nodesInCluster,
            Predicate<NodeFeature> clusterSupportsFeature) {
        final Collection<RestHandler> all = super.getRestHandlers(settings, namedWriteableRegistry, restController, clusterSettings,
                indexScopedSettings, settingsFilter, indexNameExpressionResolver, nodesInCluster, clusterSupportsFeature);
        final List<RestHandler> kept = new ArrayList<>();
        for (RestHandler handler : all) {
            if (!saml(handler)) kept.add(handler);
        }
        return kept;
    }
}
