// A bundle that cannot be built for a reason the deployer can fix (a missing binding, a zip over budget,
// a SQL file outside the project): the program prints its message alone, without a stack.

export class BundleError extends Error {
  constructor(message: string) {
    super(`bundle: ${message}`);
    this.name = "BundleError";
  }
}
