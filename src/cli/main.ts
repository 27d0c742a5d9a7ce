#!/usr/bin/env node
// The `vpdbg` command.
process.stderr.write('vpdbg: not built yet\n');
process.exitCode = 2;
