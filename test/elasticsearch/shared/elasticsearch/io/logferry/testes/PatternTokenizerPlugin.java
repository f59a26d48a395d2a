package io.logferry.testes;

import java.util.Map;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The `pattern` tokenizer of Elasticsearch's analysis-common module (not published on Maven Central),
 * on Lucene's PatternTokenizer: logferry's index template splits `message` with it. (`lowercase`, the
 * other piece of that analyzer, is built into the server.)
 */
public final class PatternTokenizerPlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("pattern", (indexSettings, environment, name, settings) -> {
            final Pattern pattern = Regex.compile(settings.get("pattern", "\\W+"), settings.get("flags", null));
            final int group = settings.getAsInt("group", -1);
            return TokenizerFactory.newFactory(name, () -> new PatternTokenizer(pattern, group));
        });
    }
}
