#!/usr/bin/env node
// The executable: everything lives in the compiled entry point, which imports only what the
// chosen command needs (see src/cli.ts).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2), process.env);
