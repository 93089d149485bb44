export * from "./lib/provider/index.js";
