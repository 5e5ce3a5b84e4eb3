// node-oracledb ships no type declarations: the subset the Oracle source uses is typed in driver.ts.
declare module "oracledb" {
  const oracledb: import("./driver.ts").OracleDriver;
  export default oracledb;
}
