import { childLabel, methodLabel, type RequestLabels, toolLabel } from './labels.js';

/** A child (as the gateway names it, `name#slot` for a per-client instance) under one endpoint: its label, its methods. */
interface ChildNode<T> {
  readonly label: string;
  /** By method name: an MCP method under its own name, every other name under `other` (a client may send any). */
  readonly methods: Map<string, MethodNode<T>>;
}

/** One method of a child: the kind of its requests that name no tool, and of those that do, by the child's tools list. */
interface MethodNode<T> {
  readonly label: string;
  none: T | undefined;
  /** A listed tool under its own name, any other under `other`; a new tools list is a new array, so a fresh fold. */
  readonly tools: WeakMap<readonly { name: string }[], Map<string, T>>;
}

/**
 * What is kept for each kind of request (one per label set), found from the names the gateway holds: a few map
 * lookups, no string built and no label folded once the path is known. A tool's kind is looked up under the child's
 * current tools list, so a tool the child stops listing folds into `other` as soon as the new list is in place.
 */
export class RequestKinds<T> {
  readonly #make: (labels: RequestLabels) => T;
  readonly #endpoints = new Map<string, Map<string, ChildNode<T>>>();
  /** Every kind by its labels: paths that fold into the same labels (instances of a child, tools lists) share it. */
  readonly #byLabels = new Map<string, T>();

  constructor(make: (labels: RequestLabels) => T) {
    this.#make = make;
  }

  /** The kind of a request; `tools` is the child's own tools list, the only names a `tool` label may take. */
  get(
    endpoint: string,
    child: string,
    method: string,
    tool: string | undefined,
    tools: readonly { name: string }[],
  ): T {
    let children = this.#endpoints.get(endpoint);
    if (children === undefined) {
      children = new Map();
      this.#endpoints.set(endpoint, children);
    }
    let childNode = children.get(child);
    if (childNode === undefined) {
      childNode = { label: childLabel(child), methods: new Map() };
      children.set(child, childNode);
    }
    let methodNode = childNode.methods.get(method);
    if (methodNode === undefined) {
      const label = methodLabel(method);
      methodNode = childNode.methods.get(label);
      if (methodNode === undefined) {
        methodNode = { label, none: undefined, tools: new WeakMap() };
        childNode.methods.set(label, methodNode);
      }
    }
    if (tool === undefined) {
      methodNode.none ??= this.#kind(endpoint, childNode.label, methodNode.label, '');
      return methodNode.none;
    }
    let byName = methodNode.tools.get(tools);
    if (byName === undefined) {
      byName = new Map();
      methodNode.tools.set(tools, byName);
    }
    let kind = byName.get(tool);
    if (kind === undefined) {
      const label = toolLabel(tool, tools);
      kind = byName.get(label);
      if (kind === undefined) {
        kind = this.#kind(endpoint, childNode.label, methodNode.label, label);
        byName.set(label, kind);
      }
    }
    return kind;
  }

  #kind(endpoint: string, child: string, method: string, tool: string): T {
    const key = `${endpoint}\n${child}\n${method}\n${tool}`;
    let kind = this.#byLabels.get(key);
    if (kind === undefined) {
      kind = this.#make({ endpoint, child, method, tool });
      this.#byLabels.set(key, kind);
    }
    return kind;
  }
}
