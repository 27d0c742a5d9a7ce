// Language server entry point (dist/languageServer.js).
process.stderr.write('vpdbg language server: not built yet\n');
process.exitCode = 1;
