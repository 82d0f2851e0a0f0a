/** An OTLP span as a test reads it: the fields of trace.proto's Span that omnimind sets, named as in OTLP/JSON. */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  /** Empty when the span has no parent. */
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message: string };
  flags: number;
  /** The `service.name` of the span's resource. */
  serviceName: string;
}

type Field = { field: number; wire: number; value: bigint | Uint8Array };

/** The fields of one protobuf message, in order (wire types 0, 1, 2 and 5: all that OTLP uses). */
function fields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) {
      out.push({ field, wire, value: view.getBigUint64(pos, true) });
      pos += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ field, wire, value: bytes.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 5) {
      out.push({ field, wire, value: BigInt(view.getUint32(pos, true)) });
      pos += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  if (pos !== bytes.length) throw new Error('message overruns its bytes');
  return out;
}

const text = (value: Field['value']) => Buffer.from(value as Uint8Array).toString('utf8');
const hex = (value: Field['value']) => Buffer.from(value as Uint8Array).toString('hex');
const signed = (value: Field['value']) => Number(BigInt.asIntN(64, value as bigint));

function anyValue(bytes: Uint8Array): Record<string, unknown> {
  const [first] = fields(bytes);
  if (first === undefined) return {};
  if (first.field === 1) return { stringValue: text(first.value) };
  if (first.field === 2) return { boolValue: first.value === 1n };
  if (first.field === 3) return { intValue: signed(first.value) };
  if (first.field === 4) {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(first.value as bigint);
    return { doubleValue: buffer.readDoubleLE(0) };
  }
  return { unsupported: first.field };
}

function keyValue(bytes: Uint8Array): { key: string; value: Record<string, unknown> } {
  let key = '';
  let value: Record<string, unknown> = {};
  for (const f of fields(bytes)) {
    if (f.field === 1) key = text(f.value);
    if (f.field === 2) value = anyValue(f.value as Uint8Array);
  }
  return { key, value };
}

function span(bytes: Uint8Array, serviceName: string): DecodedSpan {
  const decoded: DecodedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    status: { code: 0, message: '' },
    flags: 0,
    serviceName,
  };
  for (const f of fields(bytes)) {
    if (f.field === 1) decoded.traceId = hex(f.value);
    else if (f.field === 2) decoded.spanId = hex(f.value);
    else if (f.field === 4) decoded.parentSpanId = hex(f.value);
    else if (f.field === 5) decoded.name = text(f.value);
    else if (f.field === 6) decoded.kind = Number(f.value);
    else if (f.field === 7) decoded.startTimeUnixNano = f.value as bigint;
    else if (f.field === 8) decoded.endTimeUnixNano = f.value as bigint;
    else if (f.field === 9) decoded.attributes.push(keyValue(f.value as Uint8Array));
    else if (f.field === 15) {
      for (const s of fields(f.value as Uint8Array)) {
        if (s.field === 2) decoded.status.message = text(s.value);
        if (s.field === 3) decoded.status.code = Number(s.value);
      }
    } else if (f.field === 16) decoded.flags = Number(f.value);
  }
  return decoded;
}

/** The spans of an OTLP/HTTP protobuf ExportTraceServiceRequest body, with each resource's `service.name`. */
export function decodeTraceRequest(body: Uint8Array): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const resourceSpans of fields(body)) {
    if (resourceSpans.field !== 1) continue;
    let serviceName = '';
    const inner = fields(resourceSpans.value as Uint8Array);
    for (const f of inner) {
      if (f.field !== 1) continue;
      for (const attribute of fields(f.value as Uint8Array)) {
        if (attribute.field !== 1) continue;
        const { key, value } = keyValue(attribute.value as Uint8Array);
        if (key === 'service.name') serviceName = String(value.stringValue);
      }
    }
    for (const scopeSpans of inner) {
      if (scopeSpans.field !== 2) continue;
      for (const f of fields(scopeSpans.value as Uint8Array)) {
        if (f.field === 2) spans.push(span(f.value as Uint8Array, serviceName));
      }
    }
  }
  return spans;
}

/** How many spans an ExportTraceServiceRequest body holds, without decoding them (a receiver that only counts). */
export function countTraceRequestSpans(body: Uint8Array): number {
  let count = 0;
  for (const resourceSpans of fields(body)) {
    if (resourceSpans.field !== 1) continue;
    for (const scopeSpans of fields(resourceSpans.value as Uint8Array)) {
      if (scopeSpans.field !== 2) continue;
      for (const f of fields(scopeSpans.value as Uint8Array)) if (f.field === 2) count++;
    }
  }
  return count;
}
