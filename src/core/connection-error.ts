/**
 * One line a person can act on for a failed network request: which host, what happened in words, the
 * error code (so it can be searched for), and what to do — instead of an errno message or a raw OpenSSL
 * string ("SSL routines:ssl3_get_record:wrong version number:../deps/openssl/..."). Shared by the
 * Elasticsearch transport, the Kubernetes API watch and the CLI; callers say which setting holds the
 * address and which ones hold the CA, so the advice names what to change.
 */

export type ConnectionProblem =
  | 'refused'
  | 'dns'
  | 'unreachable'
  | 'connect-timeout'
  | 'response-timeout'
  | 'reset'
  /** the server's certificate does not verify (unknown CA, expired, wrong name) */
  | 'certificate'
  /** https to a port that speaks plain HTTP (OpenSSL's "wrong version number") */
  | 'not-tls'
  /** some other TLS handshake failure */
  | 'tls'
  /** the answer was larger than the reader accepts (see {@link ResponseTooLargeError}) */
  | 'too-large'
  | 'other';

export interface ConnectionErrorContext {
  /** the host as configured, without credentials: `https://es-1:9200`; leave out when the caller names it */
  host?: string;
  /** where the address is set: `ELASTICSEARCH_HOSTS`, `kubeconfig /root/.kube/config`... */
  setting?: string;
  /** where a CA can be given, for certificate problems: `ELASTICSEARCH_CA_FILE (output.elasticsearch.tls.caFile)` */
  caSetting?: string;
}

/** An answer cut off because it passed the reader's limit: a misbehaving server must not exhaust memory. */
export class ResponseTooLargeError extends Error {
  readonly code = 'ERESPONSE_TOO_LARGE';
  constructor(
    readonly limitBytes: number,
    what: string,
  ) {
    super(`${what} is larger than ${formatBytes(limitBytes)}, the most logferry reads`);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Every `code` on the error, its `cause` chain and an AggregateError's errors (Node's happy eyeballs). */
export function errorCodes(error: unknown, seen = new Set<unknown>()): string[] {
  if (error === null || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const err = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const out = typeof err.code === 'string' ? [err.code] : [];
  out.push(...errorCodes(err.cause, seen));
  if (Array.isArray(err.errors)) for (const inner of err.errors) out.push(...errorCodes(inner, seen));
  return out;
}

function messages(error: unknown, seen = new Set<unknown>()): string {
  if (error === null || typeof error !== 'object' || seen.has(error)) return error === undefined || error === null ? '' : String(error);
  seen.add(error);
  const err = error as { message?: unknown; cause?: unknown; errors?: unknown };
  const parts = [typeof err.message === 'string' ? err.message : ''];
  parts.push(messages(err.cause, seen));
  if (Array.isArray(err.errors)) for (const inner of err.errors) parts.push(messages(inner, seen));
  return parts.join(' ');
}

export function classifyConnectionError(error: unknown): { problem: ConnectionProblem; code: string | undefined } {
  const codes = errorCodes(error);
  const text = messages(error);
  const has = (...wanted: string[]) => wanted.find((c) => codes.includes(c));
  let code: string | undefined;
  if ((code = has('ERESPONSE_TOO_LARGE'))) return { problem: 'too-large', code };
  if ((code = codes.find((c) => CERTIFICATE_CODES.has(c)))) return { problem: 'certificate', code };
  // OpenSSL reads the first bytes of an HTTP answer ("HTTP/1.1 400") as a TLS record header.
  if (/wrong version number|packet length too long/i.test(text) || has('ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG')) {
    return { problem: 'not-tls', code: has('ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO') ?? 'EPROTO' };
  }
  if ((code = has('EPROTO') ?? codes.find((c) => c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_')))) return { problem: 'tls', code };
  if ((code = has('ECONNREFUSED'))) return { problem: 'refused', code };
  if ((code = has('ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'))) return { problem: 'dns', code };
  if ((code = has('EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN'))) return { problem: 'unreachable', code };
  if ((code = has('ECONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'))) return { problem: 'connect-timeout', code };
  if ((code = has('ERESPONSE_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'))) return { problem: 'response-timeout', code };
  if ((code = has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'))) return { problem: 'reset', code };
  return { problem: 'other', code: codes[0] };
}

/** The error in the chain that carries `code` (its message says the most about it), else `error` itself. */
function carrier(error: unknown, code: string | undefined, seen = new Set<unknown>()): unknown {
  if (code === undefined || error === null || typeof error !== 'object' || seen.has(error)) return undefined;
  seen.add(error);
  const err = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (err.code === code) return error;
  const inner = [err.cause, ...(Array.isArray(err.errors) ? err.errors : [])];
  for (const candidate of inner) {
    const found = carrier(candidate, code, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The first line of an error's message, without OpenSSL's `error:0A00010B:SSL routines:...` noise. */
function plainMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const line = raw.split('\n')[0].trim();
  return line.replace(/\s*[0-9A-F]{8,}:error:[0-9A-F]+:.*$/i, '').trim() || raw.trim();
}

/**
 * `<host>: <what happened> (<code>): <what to do>`. Never a stack, never more than one line.
 */
export function describeConnectionError(error: unknown, context: ConnectionErrorContext): string {
  const line = describeProblem(error, context);
  return context.host !== undefined ? `${context.host}: ${line}` : line;
}

function describeProblem(error: unknown, context: ConnectionErrorContext): string {
  const { problem, code } = classifyConnectionError(error);
  const c = code !== undefined ? ` (${code})` : '';
  const inSetting = context.setting !== undefined ? ` in ${context.setting}` : '';
  switch (problem) {
    case 'refused':
      return `connection refused${c}: nothing listens on that port; check that the server runs and the address${inSetting}`;
    case 'dns':
      return `host name not found${c}: check the name${inSetting} and the DNS`;
    case 'unreachable':
      return `no route to the host${c}: check the address${inSetting} and the network (firewall, network policy)`;
    case 'connect-timeout':
      return `connection timed out (${code}: ${plainMessage(carrier(error, code) ?? error)}): check the address and port${inSetting}, and that no firewall drops the traffic`;
    case 'response-timeout':
      return `no answer in time (${code}: ${plainMessage(carrier(error, code) ?? error)}): the server is overloaded or the connection hangs (a proxy?)`;
    case 'reset':
      return `the connection was closed by the other side${c}: the server or a proxy in between dropped it`;
    case 'not-tls':
      return `the server does not speak TLS on that port${c}, it answers plain HTTP: check the port, or use http://${inSetting} if it serves only HTTP`;
    case 'certificate': {
      const what =
        code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? "the server's certificate is not for this host name"
          : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
            ? "the server's certificate is not valid at this time"
            : "the server's certificate is not signed by a trusted CA";
      const advice =
        code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `use a host name the certificate names${inSetting}`
          : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
            ? "renew the certificate (or check this machine's clock)"
            : `give the CA that signed it${context.caSetting !== undefined ? ` in ${context.caSetting}` : ''}`;
      return `${what}${c}: ${advice}`;
    }
    case 'tls':
      return `the TLS handshake failed${c}: ${plainMessage(error)}`;
    case 'too-large':
      return `${plainMessage(error)}${c}: is this the right address (a proxy's page)?`;
    default:
      return `${code !== undefined && !plainMessage(error).includes(code) ? `${code}: ` : ''}${plainMessage(error)}`;
  }
}
