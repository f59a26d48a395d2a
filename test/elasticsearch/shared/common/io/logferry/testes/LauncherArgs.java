package io.logferry.testes;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The arguments every launcher takes (plain JDK: shared by all servers, 7.10 included):
 *
 * Usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME [SETTING=VALUE ...]
 *
 * Data under BASE_PATH (kept across starts), HTTP on exactly HTTP_PORT, and node settings after the three
 * (the secured variants get their TLS and security settings this way; a later one wins).
 */
public final class LauncherArgs {
    public final Path base;
    public final int httpPort;
    public final String clusterName;
    /** SETTING=VALUE arguments, in order. */
    public final Map<String, String> settings;

    private LauncherArgs(Path base, int httpPort, String clusterName, Map<String, String> settings) {
        this.base = base;
        this.httpPort = httpPort;
        this.clusterName = clusterName;
        this.settings = settings;
    }

    /** Parsed, or exit 2 with the usage line. */
    public static LauncherArgs parse(String[] args) {
        if (args.length < 3) usage("expected at least 3 arguments, got " + args.length);
        final Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            final int eq = args[i].indexOf('=');
            if (eq <= 0) usage("not SETTING=VALUE: " + args[i]);
            settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        try {
            return new LauncherArgs(Path.of(args[0]).toAbsolutePath(), Integer.parseInt(args[1]), args[2], settings);
        } catch (NumberFormatException e) {
            usage("HTTP_PORT is not a number: " + args[1]);
            return null;
        }
    }

    private static void usage(String why) {
        System.err.println("Launcher: " + why);
        System.err.println("usage: Launcher BASE_PATH HTTP_PORT CLUSTER_NAME [SETTING=VALUE ...]");
        System.exit(2);
    }
}
