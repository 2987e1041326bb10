/**
 * Preloaded (`node --import`) into the local training job's process by sagemaker-runner.ts: when the
 * process exits, however it exits short of a kill, it writes its own peak resident set (getrusage's
 * ru_maxrss, which counts every thread) as one JSON line to file descriptor 3, a pipe the runner
 * reads. Writing to a descriptor instead of a file leaves the job's directory as the container's.
 */
import { writeSync } from 'node:fs';

/** The descriptor the runner opens for this report. */
export const PEAK_RSS_FD = 3;

process.on('exit', () => {
  try {
    writeSync(PEAK_RSS_FD, `${JSON.stringify({ maxRssKib: process.resourceUsage().maxRSS })}\n`);
  } catch {
    // Started without the runner's pipe: there is nobody to report to.
  }
});
