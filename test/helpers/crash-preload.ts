// Loaded into the real server (node --import) by the process-safety test: on SIGWINCH (which
// close-with-grace does not handle) it throws an uncaught exception or leaves a promise rejection
// unhandled, as CRASH_KIND says: the defects a process must survive long enough to stop cleanly.
process.on('SIGWINCH', () => {
  if (process.env.CRASH_KIND === 'rejection') void Promise.reject(new Error('boom: unhandled rejection'))
  else throw new Error('boom: uncaught exception')
})
