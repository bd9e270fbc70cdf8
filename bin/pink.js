#!/usr/bin/env -S node --max-semi-space-size=2
// The executable: everything lives in the compiled entry point, which imports only what the
// chosen command needs (see src/cli.ts). The flag keeps V8's young generation small: see
// ENGINE_NODE_FLAGS in src/commands/run.ts.
import { main } from '../dist/src/cli.js';

// Everything PINK creates (its files, the embedded ClickHouse's, the simulator's, the detached
// engine's: children inherit it) is for this user only: folders 0700, files 0600 (SECURITY.md).
process.umask(0o077);

process.exitCode = await main(process.argv.slice(2), process.env);
