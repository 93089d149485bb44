// `require("mde-live-response/provider")`: the Pulumi resources, compiled to lib/provider (CommonJS).
module.exports = require("./lib/provider/index.js");
