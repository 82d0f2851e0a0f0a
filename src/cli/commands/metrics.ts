import { callControl } from '../../supervisor/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind metrics`: the Prometheus text exposition, as `GET /metrics` serves it. */
export async function metricsCommand(options: GlobalOptions): Promise<number> {
  const { text } = await callControl(pathsFor(options).controlSocket, 'metrics', {});
  process.stdout.write(text);
  return 0;
}
