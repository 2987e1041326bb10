/**
 * Preloaded (`node --import`) into a measured child process (the local training job, the scale
 * bench's phases): when the process exits, however it exits short of a kill, it writes its own peak
 * resident set (getrusage's ru_maxrss, which counts every thread) as one JSON line to file
 * descriptor 3, a pipe the parent reads. A descriptor instead of a file leaves the job's directory
 * as the container's. Plain JavaScript: worker threads inherit the preload before any TypeScript
 * loader is ready in them.
 */
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** The descriptor the parent opens for this report. */
const PEAK_RSS_FD = 3;

// Worker threads inherit --import; only the process's main thread reports, once.
if (isMainThread)
  process.on('exit', () => {
    try {
      writeSync(PEAK_RSS_FD, `${JSON.stringify({ maxRssKib: process.resourceUsage().maxRSS })}\n`);
    } catch {
      // Started without the parent's pipe: there is nobody to report to.
    }
  });
