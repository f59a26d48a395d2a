package io.logferry.testes;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.ingest.common.IngestCommonPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/** An OpenSearch 2.x node whose modules are classes on the classpath (Node's protected constructor takes plugin classes). */
final class ClasspathNode extends Node {
    /** The modules a distribution bundles that logferry's requests touch. */
    static final List<Class<? extends Plugin>> MODULES = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class,
            MapperExtrasPlugin.class, ReindexPlugin.class, IngestCommonPlugin.class);

    private ClasspathNode(Settings settings, Collection<Class<? extends Plugin>> plugins, String nodeName) {
        super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName), plugins, true);
    }

    static Node create(Settings settings, List<Class<? extends Plugin>> more, String nodeName) {
        final List<Class<? extends Plugin>> plugins = new ArrayList<>(MODULES);
        plugins.addAll(more);
        return new ClasspathNode(settings, plugins, nodeName);
    }
}
