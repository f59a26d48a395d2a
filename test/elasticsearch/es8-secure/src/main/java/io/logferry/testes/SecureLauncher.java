package io.logferry.testes;

import java.util.List;
import org.elasticsearch.common.settings.MockSecureSettings;
import org.elasticsearch.xpack.core.XPackPlugin;
import org.elasticsearch.xpack.security.SecurityWithoutSaml;

/**
 * Elasticsearch 8.19 with x-pack security (the shared Launcher plus x-pack-core, security without SAML and
 * the `.security` index's analyzers). The TLS and security settings come as SETTING=VALUE arguments from
 * scripts/es-secure.mjs; `bootstrap.password` among them is moved into the node's secure settings (a keystore
 * setting in a distribution), where the reserved `elastic` user's first password is read from.
 */
public final class SecureLauncher {
    private SecureLauncher() {}

    public static void main(String[] argv) throws Exception {
        Launcher.run(argv, List.of(XPackPlugin.class, SecurityWithoutSaml.class, SecurityAnalysisPlugin.class), builder -> {
            final String bootstrap = builder.remove("bootstrap.password");
            if (bootstrap != null) {
                final MockSecureSettings secure = new MockSecureSettings();
                secure.setString("bootstrap.password", bootstrap);
                builder.setSecureSettings(secure);
            }
        });
    }
}
