#!/usr/bin/env node

require("../lib/shared/cli/main.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
