/** The header of the table `shapeLine` prints a row of. */
export const SHAPE_HEADER = 'shape  user  objects  statements (+ framing)      req/s   p50 ms  question';

/** How many rows an answer holds, at every level. */
export function countRows(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + 1 + countNested(item), 0);
  return countNested(value);
}
const countNested = (value: unknown): number =>
  value && typeof value === 'object'
    ? Object.values(value).reduce((sum: number, v) => sum + countRows(v), 0)
    : 0;

/** One measured shape as a row of the benches' table. */
export function shapeLine(
  shape: { id: string; user: string; what: string },
  measured: {
    data: unknown;
    statements: number;
    framing: number;
    rps: number;
    p50: number;
    bad: number;
  },
): string {
  return `${shape.id.padEnd(5)}  ${shape.user.padEnd(4)}  ${String(countRows(measured.data)).padStart(7)}  ${`${measured.statements} (+ ${measured.framing})`.padEnd(24)}  ${measured.rps.toFixed(0).padStart(7)}  ${String(measured.p50).padStart(7)}  ${shape.what}${measured.bad ? `  (${measured.bad} failed or different answers)` : ''}`;
}

/**
 * The shapes `--shapes` names (`S3,X1`; all of them when it is not given), or the exit with the ones
 * there are when it names another.
 */
export function pickShapes<Shape extends { id: string }>(all: Shape[], option: string | undefined): Shape[] {
  if (!option) return all;
  const picked = option.split(',').map((id) => all.find((shape) => shape.id === id.trim().toUpperCase()));
  if (picked.some((shape) => !shape)) {
    console.error(
      `--shapes takes ${all.map((shape) => shape.id).join(', ')} separated by commas (got "${option}")`,
    );
    process.exit(1);
  }
  return picked as Shape[];
}

/** The whole number (1 or more) an option gives, or the exit saying what it takes. */
export function wholeNumberOption(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${option} takes a whole number (got "${text}")`);
    process.exit(1);
  }
  return value;
}
