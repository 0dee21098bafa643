/**
 * Views are served read-only (SPEC §9) unless declared writable. A view PostgreSQL updates
 * automatically (one table, no aggregate, join, DISTINCT or set operation: every view that has a key
 * once imported) writes that table's row; MikroORM marks view entities read-only, which orm-config.ts
 * undoes for these.
 */
const writableViews = new Set<object>();

/**
 * Declares a view entity (`view: true`, with a key) writable: it gets create, update and delete
 * mutations under the same rules as a table's. The rows are written by PostgreSQL through the view;
 * a view's `with check option` refuses a row the view would not show, an error like any constraint's.
 */
export const WritableView =
  () =>
  (cls: object): void => {
    writableViews.add(cls);
  };

/** True when `cls` is a view entity declared writable. */
export const isWritableView = (cls: object): boolean => writableViews.has(cls);
