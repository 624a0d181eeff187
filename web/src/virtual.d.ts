// Modules that web/build.mjs makes at build time from registry packages.

declare module "virtual:places" {
  /** Towns: [name, lat, lon, population, capital (1 or 0), "State, Country" or "Country"]. */
  const rows: [string, number, number, number, number, string][];
  export default rows;
}
