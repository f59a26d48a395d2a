/**
 * A parsed JSON or YAML object of no fixed shape: a stored document, an Elasticsearch answer, a user's
 * manifest. Code reads it field by field and checks what it needs where it uses it; the one loose type
 * lives here so the rest of the code base keeps `no-explicit-any`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately loose, see above
export type JsonObject = Record<string, any>;
