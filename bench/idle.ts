// The memory baseline: a Node process started the way the deployables are (with tsx), doing nothing.
setInterval(() => undefined, 60_000);
process.on('SIGTERM', () => process.exit(0));
