import { createHmac, timingSafeEqual } from 'node:crypto';
import { badUserInput } from '../errors.js';

/*
 * The cursors of connections (SPEC §11): a row's position in its order — the values of its sort keys,
 * the key last, as PostgreSQL wrote them — and a MAC over them and what they are positions in (the
 * entity and its order). Opaque to the client and tamper-evident: an altered, truncated or foreign
 * cursor is refused before any SQL, so no value the database would refuse ever reaches it. A cursor
 * holds nothing but values the user read to get it, and nothing of the user: in another user's hands it
 * is a position like any other, and that user's rows after it are what it yields.
 */

/** Far above any real position (a few sort keys): a longer argument is refused unread. */
const MAX_CURSOR_LENGTH = 4096;
const MAC_BYTES = 16;

/** A position in one order: each sort key's value as text, or null. */
export type Position = readonly (string | null)[];

const macOf = (key: Buffer, order: string, payload: string) =>
  createHmac('sha256', key).update(order).update('\n').update(payload).digest().subarray(0, MAC_BYTES);

/** The cursor of `position` in `order` (what `orderOf` says of an entity and its sort keys). */
export function cursorOf(key: Buffer, order: string, position: Position): string {
  const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${payload}.${macOf(key, order, payload).toString('base64url')}`;
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
  if (cursor.length > MAX_CURSOR_LENGTH) throw refuse();
  const [payload, mac, ...rest] = cursor.split('.');
  if (payload === undefined || mac === undefined || rest.length > 0) throw refuse();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, macOf(key, order, payload))) throw refuse();
  const position: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
  // Signed by the gateway for this order, so well formed; checked anyway rather than trusted twice.
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
