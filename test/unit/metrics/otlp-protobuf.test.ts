import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSpans, SpanTemplate } from '../../../src/metrics/otlp-protobuf.js';
import { RequestTracer } from '../../../src/metrics/tracing.js';
import { decodeTraceRequest } from '../../helpers/otlp-protobuf.js';

// Nothing listens on port 9: spans handed to the batch processor fail quietly; only their encoding is looked at here.
const tracer = new RequestTracer({ otlpEndpoint: 'http://127.0.0.1:9' });
afterAll(() => tracer.shutdown());

function spans(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const template = new SpanTemplate(i % 2 === 0 ? 'tools/call echo' : 'tools/call résumé ✓', {
      'omnimind.endpoint': `endpoint${i % 5}`,
      'omnimind.tool': 'x'.repeat(i * 3),
      'omnimind.priority': 'NORMAL',
      flag: i % 2 === 0,
      ...(i % 11 === 0 ? { big: 2 ** 40 + i, negative: -i - 1, ratio: i / 3 } : {}),
    });
    const span = tracer.start(
      template,
      i % 3 === 0 ? undefined : `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0${i % 2}`,
    );
    if (i % 5 !== 0) span.admitted();
    if (i % 4 === 0) span.end(i * 1.7, 'error', 'miss', -32603);
    else span.end(i * 1.7, i % 3 === 0 ? 'cached' : 'ok', i % 3 === 0 ? 'hit' : 'miss', undefined);
    return span;
  });
}

describe('OTLP protobuf encoding of request spans', () => {
  it('writes exactly the bytes of the SDK serializer: templates, memoised labels, long and non-ASCII strings', () => {
    const batch = spans(200);
    for (const n of [1, 2, 50, 200]) {
      const ours = Buffer.from(encodeSpans(batch.slice(0, n)));
      const sdk = Buffer.from(ProtobufTraceSerializer.serializeRequest(batch.slice(0, n)) as Uint8Array);
      expect(ours.equals(sdk)).toBe(true);
    }
    // Encoding the same spans again (every label now memoised) gives the same bytes.
    expect(Buffer.from(encodeSpans(batch)).equals(Buffer.from(encodeSpans(batch)))).toBe(true);
  });

  it('carries ids, parent, times, attributes and status as a collector reads them', () => {
    const [root, child] = spans(2);
    const decoded = decodeTraceRequest(encodeSpans([root!, child!]));
    expect(decoded).toHaveLength(2);
    expect(decoded[0]).toMatchObject({
      traceId: root!.spanContext().traceId,
      spanId: root!.spanContext().spanId,
      parentSpanId: '',
      name: 'tools/call echo',
      kind: 2,
      serviceName: 'omnimind',
      status: { code: 2, message: 'error' },
    });
    expect(decoded[0]!.attributes).toContainEqual({ key: 'rpc.jsonrpc.error_code', value: { intValue: -32603 } });
    expect(decoded[1]).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      name: 'tools/call résumé ✓',
      status: { code: 0, message: '' },
    });
    // The parent said "sampled" (flag 01), is remote (0x300 set).
    expect(decoded[1]!.flags).toBe(0x301);
    const wait = decoded[1]!.attributes.find((a) => a.key === 'omnimind.limiter.wait_ms');
    expect(Object.values(wait?.value ?? {})[0]).toBeGreaterThanOrEqual(0);
    expect(decoded[1]!.attributes.slice(-2)).toEqual([
      { key: 'omnimind.cache', value: { stringValue: 'miss' } },
      { key: 'omnimind.outcome', value: { stringValue: 'ok' } },
    ]);
    // 1.7 ms after the start, to the nanosecond the clock gives.
    const duration = Number(decoded[1]!.endTimeUnixNano - decoded[1]!.startTimeUnixNano);
    expect(Math.abs(duration - 1_700_000)).toBeLessThan(1000);
  });

  it('names the span in the child: a traceparent of the span, and no span sent for an unsampled parent', () => {
    const ping = new SpanTemplate('ping', {});
    const sampled = tracer.start(ping, undefined);
    expect(sampled.traceparent).toBe(`00-${sampled.spanContext().traceId}-${sampled.spanContext().spanId}-01`);
    const unsampled = tracer.start(ping, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(unsampled.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(unsampled.spanContext().spanId).not.toBe('00f067aa0ba902b7');
  });
});
