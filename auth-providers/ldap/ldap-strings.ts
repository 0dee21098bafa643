import { Filter } from 'ldapts';

/**
 * Puts `value` wherever `placeholder` stands in a filter or DN template. The value is inserted by a
 * replacer function: a replacement string would read `$'`, `$&`, `` $` `` in a user name as patterns
 * (the text after the match, the match itself …) and build a filter nobody wrote.
 */
export function fillTemplate(template: string, placeholder: string, value: string): string {
  return template.replaceAll(placeholder, () => value);
}

/** RFC 4515: a value in a search filter, with `*`, `(`, `)`, `\` and NUL as `\2a` … `\00`. */
export const escapeFilterValue = (value: string): string => Filter.escape(value);

/**
 * RFC 4514 §2.4: an attribute value in a DN. `"` `+` `,` `;` `<` `>` `\` and `=` are escaped
 * wherever they are, a space or `#` at the start and a space at the end too (they would be dropped or
 * read as a hex value), and NUL as `\00`. Anything else, non-ASCII included, stays as it is (UTF-8).
 */
export function escapeDnValue(value: string): string {
  const characters = [...value];
  let escaped = '';
  for (const [index, character] of characters.entries()) {
    const first = index === 0;
    const last = index === characters.length - 1;
    if (character === '\0') escaped += '\\00';
    else if (/["+,;<>\\=]/.test(character)) escaped += `\\${character}`;
    else if ((first && (character === ' ' || character === '#')) || (last && character === ' '))
      escaped += `\\${character}`;
    else escaped += character;
  }
  return escaped;
}

const WHITESPACE = /[\t\n\v\f\r\u0085\u2028\u2029\p{Zs}]/gu;
const MAPPED_TO_NOTHING = /[\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * The name as a directory's caseIgnoreMatch compares it (RFC 4518 string preparation, which `uid`,
 * `cn` and `sAMAccountName` use): whitespace characters become spaces, controls and invisible
 * characters vanish, case is folded, NFKC, and insignificant spaces — leading, trailing, repeated —
 * go. So `ALICE`, `alice  ` and ` alice` are all `alice`. Approximate where JavaScript differs from
 * RFC 3454's tables, but only ever by merging more names, which for a throttle key is the safe side.
 */
export function normalizeLdapName(name: string): string {
  return name
    .replace(WHITESPACE, ' ')
    .replace(MAPPED_TO_NOTHING, '')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .trim()
    .replace(/ {2,}/g, ' ');
}
