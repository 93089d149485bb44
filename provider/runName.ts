const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A runbook `name` (letters, digits, '.', '_', '-'; at most 100) from a Pulumi resource name, which allows more. */
export function runNameFrom(resourceName: string): string {
  const cleaned = resourceName
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 100);
  return RUN_NAME.test(cleaned) ? cleaned : "pulumi-collection";
}
