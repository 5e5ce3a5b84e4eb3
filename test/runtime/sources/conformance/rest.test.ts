// The conformance scenarios against a REST API served on 127.0.0.1 by the test (deletes by key scan).
import { conformance } from "./scenarios.ts";
import { restSource } from "./rest.ts";

conformance("REST", restSource);
