import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type IExportTraceServiceResponse,
  type ISerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Distinct encoded attributes and span names kept: the gateway's are bounded labels, far fewer than this. */
const MAX_MEMO = 4096;
/** Bytes to start a batch with per span (a request span is about 320): one allocation for most batches. */
const BYTES_PER_SPAN = 400;

/** The value of each lowercase hex digit, by character code. */
const NIBBLES = new Uint8Array(128);
for (let i = 0; i < 16; i++) NIBBLES[i.toString(16).charCodeAt(0)] = i;

/** A growing buffer with protobuf's wire encodings. */
class ProtobufOut {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  #reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A varint; negative numbers as 64-bit two's complement (ten bytes), as protobuf's int64. */
  varint(value: number): void {
    this.#reserve(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = (~low + 1) >>> 0;
      high = (~high + (low === 0 ? 1 : 0)) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Copies encoded bytes (a loop for short ones: cheaper than a native copy). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#reserve(n);
    if (n > 64) {
      this.buf.set(bytes, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = bytes[i] as number;
    this.pos = pos;
  }

  /** A trace or span id, given as lowercase hex, as its bytes. */
  id(hex: string): void {
    const n = hex.length >>> 1;
    this.#reserve(n + 1);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = n;
    for (let i = 0; i < hex.length; i += 2) {
      buf[pos++] = ((NIBBLES[hex.charCodeAt(i)] as number) << 4) | (NIBBLES[hex.charCodeAt(i + 1)] as number);
    }
    this.pos = pos;
  }

  string(value: string): void {
    const n = Buffer.byteLength(value);
    this.varint(n);
    this.#reserve(n);
    this.pos += this.buf.write(value, this.pos, n, 'utf8');
  }

  fixed32(value: number): void {
    this.#reserve(4);
    this.pos = this.buf.writeUInt32LE(value >>> 0, this.pos);
  }

  double(value: number): void {
    this.#reserve(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** [seconds, nanoseconds] as fixed64 nanoseconds since the epoch, exact beyond 2^53. */
  time([seconds, nanos]: HrTime): void {
    const low16 = (seconds & 0xffff) * 1e9;
    const high = ((seconds / 0x10000) >>> 0) * 1e9;
    const lowWithCarry = (low16 >>> 0) + (((high & 0xffff) * 0x10000) >>> 0) + nanos;
    this.#reserve(8);
    this.buf.writeUInt32LE(lowWithCarry >>> 0, this.pos);
    const highWord =
      Math.floor(low16 / 0x100000000) + ((high / 0x10000) >>> 0) + Math.floor(lowWithCarry / 0x100000000);
    this.buf.writeUInt32LE(highWord >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** Starts a length-delimited field; `close` with what this returns writes its length. */
  open(): number {
    this.#reserve(1);
    return this.pos++;
  }

  close(at: number): void {
    const length = this.pos - at - 1;
    if (length > 0x7f) {
      let size = 1;
      for (let v = length; v > 0x7f; v >>>= 7) size++;
      this.#reserve(size - 1);
      this.buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
      let v = length;
      for (let i = 0; i < size - 1; i++, v >>>= 7) this.buf[at + i] = (v & 0x7f) | 0x80;
      this.buf[at + size - 1] = v;
    } else this.buf[at] = length;
  }
}

/** Writes a KeyValue's AnyValue content (string, number, boolean; request spans carry nothing else). */
function writeValue(out: ProtobufOut, value: AttributeValue): void {
  if (typeof value === 'string') {
    out.tag(1, 2);
    out.string(value);
  } else if (typeof value === 'boolean') {
    out.tag(2, 0);
    out.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
      out.tag(3, 0);
      out.varint(value);
    } else {
      out.tag(4, 1);
      out.double(value);
    }
  }
}

/** Writes one attribute as the repeated KeyValue field `field`. */
function writeAttribute(out: ProtobufOut, field: number, key: string, value: AttributeValue): void {
  out.tag(field, 2);
  const pair = out.open();
  out.tag(1, 2);
  out.string(key);
  out.tag(2, 2);
  const any = out.open();
  writeValue(out, value);
  out.close(any);
  out.close(pair);
}

/** The bytes of a field, encoded once and kept while there is room. */
class Memo {
  readonly #bytes = new Map<string, Uint8Array>();

  get(key: string): Uint8Array | undefined {
    return this.#bytes.get(key);
  }

  /** Encodes with `write` and keeps the bytes under `key` while there is room. */
  set(key: string, write: (out: ProtobufOut) => void): Uint8Array {
    const out = new ProtobufOut(64);
    write(out);
    const bytes = out.buf.subarray(0, out.pos);
    if (this.#bytes.size < MAX_MEMO) this.#bytes.set(key, bytes);
    return bytes;
  }
}

const names = new Memo();
/** String attributes by key, then value. */
const stringAttributes = new Map<string, Memo>();
/** Attribute keys, encoded as a KeyValue's field 1. */
const keys = new Memo();

function writeAttributes(out: ProtobufOut, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    if (field !== 9) writeAttribute(out, field, key, value);
    else if (typeof value === 'string') {
      let byValue = stringAttributes.get(key);
      if (byValue === undefined) {
        byValue = new Memo();
        if (stringAttributes.size < MAX_MEMO) stringAttributes.set(key, byValue);
      }
      out.raw(byValue.get(value) ?? byValue.set(value, (o) => writeAttribute(o, 9, key, value)));
    } else {
      out.tag(9, 2);
      const pair = out.open();
      out.raw(
        keys.get(key) ??
          keys.set(key, (o) => {
            o.tag(1, 2);
            o.string(key);
          }),
      );
      out.tag(2, 2);
      const any = out.open();
      writeValue(out, value);
      out.close(any);
      out.close(pair);
    }
  }
}

/**
 * What every request of one kind (endpoint, child, method, tool, priority) shares: its span name and the attributes
 * its span starts with, encoded once.
 */
export class SpanTemplate {
  readonly name: string;
  readonly attributes: Readonly<Attributes>;
  readonly nameBytes: Uint8Array;
  readonly attributeBytes: Uint8Array;

  constructor(name: string, attributes: Attributes) {
    this.name = name;
    this.attributes = Object.freeze(attributes);
    const out = new ProtobufOut(256);
    out.tag(5, 2);
    out.string(name);
    this.nameBytes = out.buf.subarray(0, out.pos);
    const start = out.pos;
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined) writeAttribute(out, 9, key, value);
    }
    this.attributeBytes = out.buf.subarray(start, out.pos);
  }
}

/** A span made from a template: its attributes are the template's followed by its own. */
export interface TemplatedSpan extends ReadableSpan {
  readonly template: SpanTemplate;
  readonly ownAttributes: Attributes;
}

/** One Span message (OTLP trace.proto), fields in the order of the SDK's own serializer. */
function writeSpan(out: ProtobufOut, span: ReadableSpan): void {
  const template = (span as Partial<TemplatedSpan>).template;
  out.tag(2, 2);
  const at = out.open();
  const context = span.spanContext();
  out.tag(1, 2);
  out.id(context.traceId);
  out.tag(2, 2);
  out.id(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    out.tag(3, 2);
    out.string(traceState);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    out.tag(4, 2);
    out.id(parent.spanId);
  }
  if (template !== undefined) out.raw(template.nameBytes);
  else
    out.raw(
      names.get(span.name) ??
        names.set(span.name, (o) => {
          o.tag(5, 2);
          o.string(span.name);
        }),
    );
  // OTLP's SpanKind counts from UNSPECIFIED: the API's kind plus one.
  out.tag(6, 0);
  out.varint(span.kind + 1);
  out.tag(7, 1);
  out.time(span.startTime);
  out.tag(8, 1);
  out.time(span.endTime);
  if (template !== undefined) {
    out.raw(template.attributeBytes);
    writeAttributes(out, 9, (span as TemplatedSpan).ownAttributes);
  } else writeAttributes(out, 9, span.attributes);
  out.tag(10, 0);
  out.varint(span.droppedAttributesCount);
  out.tag(12, 0);
  out.varint(span.droppedEventsCount);
  out.tag(14, 0);
  out.varint(span.droppedLinksCount);
  out.tag(15, 2);
  const status = out.open();
  if (span.status.message) {
    out.tag(2, 2);
    out.string(span.status.message);
  }
  out.tag(3, 0);
  out.varint(span.status.code);
  out.close(status);
  // Flags: the trace flags, with "whether the parent is remote" known (0x100) and its answer (0x200).
  out.tag(16, 5);
  out.fixed32((context.traceFlags & 0xff) | 0x100 | (parent?.isRemote ? 0x200 : 0));
  out.close(at);
}

/**
 * An ExportTraceServiceRequest of spans without events or links (request spans have none), byte for byte what the
 * SDK's ProtobufTraceSerializer writes, but with each span's bounded strings (name, label attributes) encoded once.
 */
export function encodeSpans(spans: ReadableSpan[]): Uint8Array {
  const groups = new Map<ReadableSpan['resource'], Map<ReadableSpan['instrumentationScope'], ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = groups.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      groups.set(span.resource, scopes);
    }
    const group = scopes.get(span.instrumentationScope);
    if (group === undefined) scopes.set(span.instrumentationScope, [span]);
    else group.push(span);
  }
  const out = new ProtobufOut(256 + spans.length * BYTES_PER_SPAN);
  for (const [resource, scopes] of groups) {
    out.tag(1, 2);
    const resourceSpans = out.open();
    out.tag(1, 2);
    const resourceAt = out.open();
    writeAttributes(out, 1, resource.attributes);
    out.tag(2, 0);
    out.varint(0);
    out.close(resourceAt);
    for (const [scope, group] of scopes) {
      out.tag(2, 2);
      const scopeSpans = out.open();
      out.tag(1, 2);
      const scopeAt = out.open();
      out.tag(1, 2);
      out.string(scope.name);
      if (scope.version) {
        out.tag(2, 2);
        out.string(scope.version);
      }
      out.close(scopeAt);
      for (const span of group) writeSpan(out, span);
      if (scope.schemaUrl) {
        out.tag(3, 2);
        out.string(scope.schemaUrl);
      }
      out.close(scopeSpans);
    }
    if (resource.schemaUrl) {
      out.tag(3, 2);
      out.string(resource.schemaUrl);
    }
    out.close(resourceSpans);
  }
  return out.buf.subarray(0, out.pos);
}

const serializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: encodeSpans,
  deserializeResponse: (bytes) => ProtobufTraceSerializer.deserializeResponse(bytes),
};

/** The SDK's OTLP/HTTP exporter (its transport, retries, timeouts, headers from OTEL_* variables), protobuf encoded. */
export function otlpHttpExporter(url: string, timeoutMillis: number): SpanExporter {
  const options = convertLegacyHttpOptions({ url, timeoutMillis }, 'TRACES', 'v1/traces', {
    'Content-Type': 'application/x-protobuf',
  });
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined),
  );
}
