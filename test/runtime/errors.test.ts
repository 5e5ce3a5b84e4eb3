// describeError: every message a user sees is one line (a ConfigError's list aside), without DuckDB's
// excerpt of the SQL or Azure's request trailer, and without secrets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, describeError } from "../../runtime/errors.ts";

describe("describeError", () => {
  it("keeps DuckDB's reason and candidates, drops the LINE excerpt and caret", () => {
    const duck = new Error('Binder Error: Referenced column "nmae" not found in FROM clause!\nCandidate bindings: "name"\n\nLINE 1: select nmae from model\n               ^');
    assert.equal(describeError(duck), 'Binder Error: Referenced column "nmae" not found in FROM clause! Candidate bindings: "name"');
  });

  it("drops Azure Storage's RequestId and Time lines and redacts keys", () => {
    const azure = new Error("Server failed to authenticate the request.\nRequestId:a3ac\nTime:2026-12-02T07:58:52.707Z\nRequestId:a3ac\nTime:2026-12-02T07:58:52.707Z");
    assert.equal(describeError(azure), "Server failed to authenticate the request.");
    assert.equal(describeError(new Error("bad\nAccountKey=c2VjcmV0;x")), "bad AccountKey=***;x");
  });

  it("keeps a ConfigError's problems one per line", () => {
    assert.equal(describeError(new ConfigError(["a", "b"])), "2 problems:\n  - a\n  - b");
  });
});
