#!/usr/bin/env node
// The `apigov` executable: runs the compiled CLI.
import { main } from '../dist/index.js';
main(process.argv).then((code) => { process.exitCode = code; });
