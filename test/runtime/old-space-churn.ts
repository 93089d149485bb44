/**
 * JS source (for `node -e`) defining `churn()`: a live set of 100,000 objects and a ring of 50,000
 * replaced 4 million times. With a small new space the ring's objects are promoted and die in the old
 * space; `churn()` returns the old space's largest committed size in MiB (sampled).
 */
export const OLD_SPACE_CHURN = `
const v8 = require("node:v8");
function churn() {
  const keep = [];
  for (let i = 0; i < 100000; i++) keep.push({ i, s: "k" + i });
  const ring = new Array(50000);
  let peak = 0;
  for (let i = 0; i < 4000000; i++) {
    ring[i % ring.length] = { i, s: "x" + i, a: [i, i + 1] };
    if (i % 20000 === 0) {
      const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space");
      peak = Math.max(peak, old.space_size);
    }
  }
  return peak / 1048576;
}
`;
