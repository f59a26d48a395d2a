/**
 * Reading the API server's answers with a bound: a list as a whole, an error answer's first bytes. What
 * answers at the API server's address may be a proxy or something else entirely; it must not be able to
 * make the agent buffer without end.
 */
import { ResponseTooLargeError } from '../core/connection-error.js';
import type { KubeStatus } from './objects.js';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** of an error answer only the start is shown */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

type Body = AsyncIterable<unknown> & { destroy(): unknown };

/** The body as text, failing with {@link ResponseTooLargeError} past `limit` bytes. */
export async function readCapped(body: Body, limit: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      body.destroy();
      throw new ResponseTooLargeError(limit, what);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The start of an error answer (enough to show); the rest is dropped unread. */
export async function readStart(body: Body, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

export async function responseError(statusCode: number, headers: Record<string, string | string[] | undefined>, body: Body): Promise<ApiError> {
  const text = await readStart(body, MAX_ERROR_BODY_BYTES).catch(() => '');
  let detail = text.slice(0, 300);
  try {
    const status = JSON.parse(text) as KubeStatus;
    if (status.message) detail = `${status.reason ?? ''} ${status.message}`.trim();
  } catch {
    // not a Status object (a proxy's HTML page, say): keep the raw text
  }
  const retryAfter = Number(headers['retry-after']);
  return new ApiError(statusCode, `HTTP ${statusCode}: ${detail}`, Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 300) * 1000 : 0);
}
