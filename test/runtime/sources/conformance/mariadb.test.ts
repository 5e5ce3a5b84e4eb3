// The conformance scenarios against the real MariaDB server (127.0.0.1:3306).
import { conformance } from "./scenarios.ts";
import { mariadbSource } from "./mariadb.ts";

conformance("MariaDB", mariadbSource);
