// Standalone debug adapter entry point (dist/debugAdapter.js).
process.stderr.write('vpdbg debug adapter: not built yet\n');
process.exitCode = 1;
