// Node's on-disk compile cache (the V8 code of every module loaded after this one): a second start
// loads the server's few thousand modules from it instead of compiling them again. instrument.ts,
// the first module `node --import` loads, imports this first. The cache lives under node_modules/
// (never a shared temporary directory); where that is not writable, as in the image, Node silently
// runs without it.
import { enableCompileCache } from 'node:module'
import { join } from 'node:path'
import { ROOT } from './paths.js'

enableCompileCache(join(ROOT, 'node_modules', '.cache', 'node-compile'))
