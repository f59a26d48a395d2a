package io.logferry.testes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.opensearch.plugins.Plugin;

/**
 * OpenSearch 2.19 with the opensearch-security plugin (the shared Launcher plus the plugin's class; its jars
 * are unpacked into lib/ from the zip, so the class is named here, not compiled against). The TLS and security settings and the other security config files come from
 * scripts/es-secure.mjs; `logferry.internal_users` (`name:password,...`, not an OpenSearch setting) is taken
 * out of the settings and written here as the plugin's internal_users.yml with bcrypt hashes (Bouncy Castle,
 * which the plugin ships), each user with a backend role of its own name. The plugin reads the files into
 * its index on the node's first start only.
 */
public final class SecureLauncher {
    private SecureLauncher() {}

    public static void main(String[] argv) throws Exception {
        final LauncherArgs args = LauncherArgs.parse(argv);
        final Class<? extends Plugin> security = Class.forName("org.opensearch.security.OpenSearchSecurityPlugin").asSubclass(Plugin.class);
        Launcher.run(argv, List.of(security), builder -> {
            final String users = builder.remove("logferry.internal_users");
            if (users != null) writeInternalUsers(args.base.resolve("home").resolve("config").resolve("opensearch-security"), users);
        });
    }

    private static void writeInternalUsers(Path dir, String users) {
        final SecureRandom random = new SecureRandom();
        final StringBuilder yml = new StringBuilder("_meta:\n  type: \"internalusers\"\n  config_version: 2\n");
        for (String entry : users.split(",")) {
            final int colon = entry.indexOf(':');
            final String name = entry.substring(0, colon);
            final byte[] salt = new byte[16];
            random.nextBytes(salt);
            final String hash = OpenBSDBCrypt.generate("2y", entry.substring(colon + 1).toCharArray(), salt, 10);
            yml.append(name).append(":\n  hash: \"").append(hash).append("\"\n  reserved: false\n  backend_roles: [\"").append(name).append("\"]\n");
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("internal_users.yml"), yml.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
