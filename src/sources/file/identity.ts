/**
 * File identity: what makes "the same file" across renames, restarts and inode reuse.
 *
 * The fingerprint is a hash of the file's first line (at most FINGERPRINT_BYTES): append-only logs never
 * change it, a truncated or recreated file almost always does. Combined with device and inode it tells a
 * rotated file (same inode, new name) from a new one that reused a freed inode.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export const FINGERPRINT_BYTES = 1024;

export interface FileFingerprint {
  dev: number;
  ino: number;
  fingerprint: string;
  /** bytes the fingerprint covers */
  fingerprintLength: number;
}

/** The identity of an open file, or undefined while its first line is still incomplete (too early to tell). */
export async function identify(handle: FileHandle, dev: number, ino: number, size: number): Promise<FileFingerprint | undefined> {
  if (size === 0) return undefined;
  const length = Math.min(size, FINGERPRINT_BYTES);
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buffer, 0, length, 0);
  const newline = buffer.subarray(0, bytesRead).indexOf(10);
  let covered: number;
  if (newline >= 0) covered = newline + 1;
  else if (bytesRead >= FINGERPRINT_BYTES) covered = bytesRead;
  else return undefined;
  const fingerprint = createHash('sha1').update(buffer.subarray(0, covered)).digest('hex').slice(0, 16);
  return { dev, ino, fingerprint, fingerprintLength: covered };
}

export function identityKey(identity: FileFingerprint): string {
  return `${identity.dev}:${identity.ino}:${identity.fingerprint}`;
}

/** Base of record ids: deterministic per (node, file identity, generation), short, URL-safe. */
export function idPrefixFor(nodeName: string, identity: FileFingerprint, generation = 0): string {
  const digest = createHash('sha1')
    .update(`${nodeName}\0${identity.dev}\0${identity.ino}\0${identity.fingerprint}\0${generation}`)
    .digest('base64url')
    .slice(0, 16);
  return digest + '-';
}
