import { createRequire as __mdeCreateRequire } from 'node:module'; const require = __mdeCreateRequire(import.meta.url);
import{context,getOctokit}from"./chunk-D5AV22WU.js";import"./chunk-DUDIDJOV.js";import"./chunk-5YTTC3ZP.js";export{context,getOctokit};
