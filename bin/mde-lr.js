#!/usr/bin/env node

// First, before anything else loads: see shared/runtime/small-heap.ts.
require("../lib/shared/runtime/small-heap.js");
require("../lib/shared/cli/main.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
