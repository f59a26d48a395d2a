package io.logferry.testes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.opensearch.Version;
import org.opensearch.analysis.common.CommonAnalysisModulePlugin;
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
 * An OpenSearch 3.x node whose modules are classes on the classpath (Node's protected constructor takes
 * plugin descriptions; the module classes are named *ModulePlugin; ingest-common 3.9.0 is not on Central).
 */
final class ClasspathNode extends Node {
    /** The modules a distribution bundles that logferry's requests touch. */
    static final List<Class<? extends Plugin>> MODULES = List.of(Netty4ModulePlugin.class, CommonAnalysisModulePlugin.class,
            PainlessModulePlugin.class, MapperExtrasModulePlugin.class, ReindexModulePlugin.class);

    private ClasspathNode(Settings settings, List<PluginInfo> plugins, String nodeName) {
        super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName), plugins, true);
    }

    static Node create(Settings settings, List<Class<? extends Plugin>> more, String nodeName) {
        final List<PluginInfo> infos = new ArrayList<>();
        final List<Class<? extends Plugin>> plugins = new ArrayList<>(MODULES);
        plugins.addAll(more);
        for (Class<? extends Plugin> plugin : plugins) {
            infos.add(new PluginInfo(plugin.getName(), "classpath plugin", "NA", Version.CURRENT, "21", plugin.getName(), List.of(), false));
        }
        return new ClasspathNode(settings, infos, nodeName);
    }
}
