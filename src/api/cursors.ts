import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { badUserInput } from '../errors.js';

/*
 * The cursors of connections (SPEC §11): a row's position in its order — the values of its sort keys,
 * the key last, as PostgreSQL wrote them — encrypted and authenticated (AES-256-GCM) together with
 * what they are positions in (the entity and its order). Opaque: a cursor a manager took in an order
 * by salary tells no salary to whoever it is passed to. Tamper-evident: an altered, truncated or
 * foreign cursor is refused before any SQL, so no value the database would refuse ever reaches it.
 * It holds nothing of the user: in another user's hands it is a position like any other, and that
 * user's rows after it are what it yields.
 */

/** Far above any real position (a few sort keys): a longer argument is refused unread. */
const MAX_CURSOR_LENGTH = 4096;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A position in one order: each sort key's value as text, or null. */
export type Position = readonly (string | null)[];

/** The key that encrypts, and the one that derives each cursor's IV, from the gateway's cursor key. */
const derived = new WeakMap<Buffer, { cipher: Buffer; iv: Buffer }>();
function keysOf(key: Buffer) {
  let keys = derived.get(key);
  if (!keys) {
    keys = {
      cipher: createHmac('sha256', key).update('encrypt').digest(),
      iv: createHmac('sha256', key).update('iv').digest(),
    };
    derived.set(key, keys);
  }
  return keys;
}

/**
 * The cursor of `position` in `order` (what `orderOf` says of an entity and its sort keys). The IV is
 * a MAC of both (a synthetic IV): the same position in the same order gives the same cursor, and no
 * two different ones share an IV.
 */
export function cursorOf(key: Buffer, order: string, position: Position): string {
  const keys = keysOf(key);
  const plain = Buffer.from(JSON.stringify(position));
  const iv = createHmac('sha256', keys.iv)
    .update(order)
    .update('\n')
    .update(plain)
    .digest()
    .subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.cipher, iv).setAAD(Buffer.from(order));
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/**
 * The position a cursor argument holds; BAD_USER_INPUT for anything but a cursor this gateway gave
 * for `order` with `terms` sort keys.
 */
export function positionOf(
  key: Buffer,
  order: string,
  terms: number,
  argument: string,
  cursor: string,
): Position {
  const refuse = () =>
    badUserInput(
      `${argument} is not a cursor of this connection and order (take one from its edges or pageInfo)`,
    );
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  const bytes = Buffer.from(cursor, 'base64url');
  // Only the one spelling the gateway writes: a trailing character the decoder ignores is an alteration.
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== cursor) throw refuse();
  let position: unknown;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keysOf(key).cipher, bytes.subarray(0, IV_BYTES))
      .setAAD(Buffer.from(order))
      .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    position = JSON.parse(plain.toString());
  } catch {
    // The tag does not match: altered, cut, of another order, or of another gateway's key.
    throw refuse();
  }
  // Sealed by the gateway for this order, so well formed; checked anyway rather than trusted twice.
  if (
    !Array.isArray(position) ||
    position.length !== terms ||
    !position.every((value) => value === null || typeof value === 'string')
  )
    throw refuse();
  return position as Position;
}

/** What a cursor is a position in: the entity and its sort keys, as the request named them. */
export const orderOf = (entity: string, orderBy: unknown): string => JSON.stringify([entity, orderBy ?? []]);
