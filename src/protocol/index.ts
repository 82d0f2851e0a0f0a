export { type CancelListener, Cancellation, NEVER_CANCELLED } from './cancellation.js';
export { ErrorCode, type ErrorCodeValue, OmnimindError } from './errors.js';
export { type FrameShape, readIdText, scanFrame, scanResult } from './frame-scan.js';
export {
  createLineReader,
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  flushCoalesced,
  LineSplitter,
  type LineSplitterHandlers,
  writeCoalesced,
} from './framing.js';
export { isJsonText } from './json-check.js';
export {
  type ClassifiedMessage,
  classifyMessage,
  errorResponse,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  parseFrame,
  rejectionFor,
  resultResponse,
} from './messages.js';
