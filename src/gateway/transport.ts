/** What a transport knows of a frame beyond its text: an HTTP request's `traceparent` header, say. */
export interface FrameContext {
  /** A W3C `traceparent` the transport received with the frame; a request's own `_meta.traceparent` wins. */
  traceparent?: string;
}

/** What a session hears from its transport: each complete frame the client sent, and the end of the connection. */
export interface TransportHandlers {
  onFrame(frame: string, context?: FrameContext): void;
  onClose(): void;
}

/** The credential of a socket client: the local user (only the owner can connect to omnimind's sockets). */
export const LOCAL_CREDENTIAL = `uid:${process.getuid?.() ?? 0}`;

/**
 * One client's connection as a session sees it (the MCP SDK's `Transport`, for frames already split): the transport
 * owns framing, backpressure and its own limits; the session owns the protocol. A new transport is one file that
 * implements this.
 */
export interface ClientTransport {
  /** How the client reached the supervisor (`unix`, `http`), for status and metrics. */
  readonly kind: string;
  /** Who the client authenticated as (a token or OAuth subject); unset on the sockets, where it is the local user. */
  readonly credential?: string;
  /** Starts delivering frames; `onClose` is called once, whoever closes the connection. */
  start(handlers: TransportHandlers): void;
  /** Writes one whole frame (JSON text ending in a newline); a client that stops reading is disconnected by the transport. */
  send(frame: string): void;
  /** Closes the connection, after flushing what was sent when `flush`; idempotent. */
  close(flush?: boolean): void;
}
