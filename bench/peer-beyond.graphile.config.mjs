// The PostGraphile preset of `npm run bench:beyond-compare`'s peer, copied into its own directory
// (/tmp/grantgate-peer-beyond) as graphile.config.mjs beside compare.sh's preset, which it extends
// unchanged (graphile.base.config.mjs there). It adds the PostGraphile 5 plugins that serve what core
// PostGraphile does not: aggregates and grouped aggregates (@graphile/pg-aggregates) and filters,
// relation filters among them (postgraphile-plugin-connection-filter). A plugin that is not installed
// is left out: the bench then measures its shapes on the gateway alone.
import base from './graphile.base.config.mjs';

const optional = async (name, preset) => {
  try {
    return (await import(name))[preset];
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return undefined;
  }
};
const aggregates = await optional('@graphile/pg-aggregates', 'PgAggregatesPreset');
const filters = await optional('postgraphile-plugin-connection-filter', 'PostGraphileConnectionFilterPreset');

// The Amber preset filters and sorts by indexed columns only. The shapes filter orders by freight and
// group them by ship_country (pg-aggregates groups by sortable columns only), indexed in neither
// database; these two columns, and no other, may be filtered and sorted by, as the gateway allows on
// every column.
const OPEN = { orders: ['freight', 'ship_country'] };
const BeyondColumnsPlugin = {
  name: 'BeyondColumnsPlugin',
  version: '0.0.0',
  schema: {
    entityBehavior: {
      pgCodecAttribute: {
        override: {
          after: ['postInferred'],
          callback(behavior, [codec, attributeName]) {
            return OPEN[codec.name]?.includes(attributeName) ? [behavior, 'filterBy', 'orderBy'] : behavior;
          },
        },
      },
    },
  },
};

/** @type {GraphileConfig.Preset} */
export default {
  extends: [base, ...(aggregates ? [aggregates] : []), ...(filters ? [filters] : [])],
  plugins: [BeyondColumnsPlugin],
  schema: { connectionFilterRelations: true },
};
