/**
 * Preloaded (`node --expose-gc -r bench/apps/memory-probe.js dist/src/main.js`) into the
 * production build, which then runs unchanged, for the memory benchmark: over the IPC channel,
 * `mem` is answered with process.memoryUsage(), and `gc` collects garbage first, so heap figures
 * count live objects rather than garbage not yet collected. Plain JavaScript so that no compiler
 * sits in the measured process's memory.
 */
'use strict';

process.on('message', (message) => {
  if (message === 'gc' && typeof global.gc === 'function') global.gc();
  if ((message === 'mem' || message === 'gc') && process.send) {
    process.send({ mem: process.memoryUsage() });
  }
});
// An open IPC channel would keep the process alive after the app closes; let shutdown proceed.
if (process.channel) process.channel.unref();
