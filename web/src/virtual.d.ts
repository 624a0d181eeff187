// Modules that web/build.mjs makes at build time from registry packages.

declare module "virtual:places" {
  /** Towns: [name, lat, lon, population, capital (1 or 0), "State, Country" or "Country"]. */
  const rows: [string, number, number, number, number, string][];
  export default rows;
}

declare module "virtual:provinces" {
  import type { Topology, MultiLineString } from "topojson-specification";
  /** First-level regions of every country but the US (web/provinces.mjs). */
  const provinces: {
    /** The lines between two regions of one country: of large regions, of small ones. */
    borders: Topology<{ coarse: MultiLineString; fine: MultiLineString }>;
    /** [name, country, lon, lat, west, south, east, north, km²], biggest first. */
    regions: [string, string, number, number, number, number, number, number, number][];
  };
  export default provinces;
}
