import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { HealthSample, StressThresholds } from './types.js';

/** Event-loop delay histogram resolution: 10 ms is Node's default and costs one timer tick per 10 ms. */
const LOOP_DELAY_RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;
const US_PER_MS = 1e3;

/** Default stress levels; each is a level a healthy gateway stays well below even at full load. */
export const DEFAULT_STRESS: Readonly<StressThresholds> = {
  // A p99 loop stall of 100 ms is added to every request's latency; a busy but healthy loop stays in the tens.
  eventLoopDelayMs: 100,
  // JavaScript runs on one thread, so loop delay shows a busy process first; CPU counts only when nearly every
  // core is taken, when GC and the thread pool start to starve the loop.
  cpu: 0.9,
  // Past 90% of the heap limit V8 spends most of its time collecting, and the next step is an out-of-memory crash.
  memory: 0.9,
  // One failed answer in five (timeouts, crashes, JSON-RPC errors) is far above a healthy child's background rate.
  errorRate: 0.2,
  // The RTT tolerance of Netflix's gradient limiters: latency 1.5x its baseline means requests queue inside the child.
  latencyFactor: 1.5,
};

/** The default health probe plus a way to stop its event-loop monitor. */
export interface HostHealthProbe {
  sample(): HealthSample;
  close(): void;
}

/** Reads event-loop delay, CPU and heap of this process; each read covers the time since the previous one. */
export function createHostHealthProbe(): HostHealthProbe {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  histogram.enable();
  const cores = availableParallelism();
  const heapLimit = getHeapStatistics().heap_size_limit;
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  return {
    sample() {
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      const wallMs = Math.max(now - lastAt, 1);
      lastCpu = process.cpuUsage();
      lastAt = now;
      // The histogram's delay includes its own resolution; subtract it so an idle loop reads ~0.
      const delayMs = histogram.count > 0 ? histogram.percentile(99) / NS_PER_MS - LOOP_DELAY_RESOLUTION_MS : 0;
      histogram.reset();
      return {
        eventLoopDelayMs: Math.max(0, delayMs),
        cpu: (cpu.user + cpu.system) / US_PER_MS / wallMs / cores,
        memory: getHeapStatistics().used_heap_size / heapLimit,
        rssBytes: process.memoryUsage.rss(),
      };
    },
    close() {
      histogram.disable();
    },
  };
}

/** Names each threshold a health sample reaches, e.g. `event loop delay 140 ms >= 100 ms`; empty when healthy. */
export function judgeHealth(sample: HealthSample, stress: StressThresholds): string[] {
  const reasons: string[] = [];
  if (sample.eventLoopDelayMs >= stress.eventLoopDelayMs) {
    reasons.push(`event loop delay ${Math.round(sample.eventLoopDelayMs)} ms >= ${stress.eventLoopDelayMs} ms`);
  }
  if (sample.cpu >= stress.cpu) {
    reasons.push(`CPU ${formatPercent(sample.cpu)} of all cores >= ${formatPercent(stress.cpu)}`);
  }
  if (sample.memory >= stress.memory) {
    reasons.push(`heap ${formatPercent(sample.memory)} of its limit >= ${formatPercent(stress.memory)}`);
  }
  return reasons;
}

function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
