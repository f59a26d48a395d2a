/**
 * Issue 15, secured clusters: the real sink, `logferry run` and `logferry search` against OpenSearch 2.19.4 with the opensearch-security plugin (TLS, internal users).
 * The suite is in test/helpers/secured-suite.ts (one file per server, so each stays short and they can run side by side).
 */
import { securedSuite } from '../helpers/secured-suite.js';

securedSuite('opensearch-2.19-secure');
