import { createRequire as __mdeCreateRequire } from 'node:module'; const require = __mdeCreateRequire(import.meta.url);

// action/main.ts
process.stdout.write("mde-live-response action: not implemented yet\n");
