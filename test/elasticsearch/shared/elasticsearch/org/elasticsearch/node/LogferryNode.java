package org.elasticsearch.node;

import java.util.Collection;
import java.util.Map;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/**
 * A node built the way the test framework's MockNode builds one, without MockNode: MockNode's class
 * initialisation goes through ESTestCase, which refuses to run as root. It lives in this package because
 * NodeConstruction and NodeServiceProvider are package-private. The plugins are classes on the classpath
 * (MockPluginsService), so modules that Maven Central serves as jars (netty4) load without a plugins dir.
 */
public final class LogferryNode extends Node {
    public LogferryNode(Settings settings, Collection<Class<? extends Plugin>> plugins, String nodeName) {
        super(NodeConstruction.prepareConstruction(
                InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName),
                null,
                new NodeServiceProvider() {
                    @Override
                    PluginsService newPluginService(Environment environment, PluginsLoader pluginsLoader) {
                        return new MockPluginsService(environment.settings(), environment, plugins);
                    }
                },
                true));
    }
}
