export { ErrorCode, type ErrorCodeValue, OmnimindError } from './errors.js';
export {
  createLineReader,
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  flushCoalesced,
  LineSplitter,
  type LineSplitterHandlers,
  writeCoalesced,
} from './framing.js';
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
  readIdText,
  rejectionFor,
  resultResponse,
} from './messages.js';
