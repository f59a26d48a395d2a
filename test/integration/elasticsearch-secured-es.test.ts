/**
 * Issue 15, secured clusters: the real sink, `logferry run` and `logferry search` against Elasticsearch 8.19.21 with x-pack security (TLS, native users, an API key).
 * The suite is in test/helpers/secured-suite.ts (one file per server, so each stays short and they can run side by side).
 */
import { securedSuite } from '../helpers/secured-suite.js';

securedSuite('es-8.19-secure');
