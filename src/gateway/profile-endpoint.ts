import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../config/index.js';
import { ErrorCode, type JsonRpcErrorObject } from '../protocol/index.js';
import { waitForRunning } from './child-endpoint.js';
import type { RouteOutcome } from './child-router.js';
import { isDown } from './child-state.js';
import type { Endpoint, InitializeOutcome, Member, MemberCall, Route } from './endpoint.js';
import { namePattern, profileNames } from './profile-names.js';

/** How long a list waits for a member that is starting before leaving it out (it announces itself once running). */
const LIST_WAIT_MS = 10_000;
/** At most this many pages of one member's list are read (a runaway cursor must not stall the profile). */
const MAX_LIST_PAGES = 20;

/** The lists a profile merges, with the member field holding the items and the field that names them. */
const LISTS = {
  tools: { method: 'tools/list', field: 'tools' },
  prompts: { method: 'prompts/list', field: 'prompts' },
  resources: { method: 'resources/list', field: 'resources' },
  templates: { method: 'resources/templates/list', field: 'resourceTemplates' },
} as const;
type ListKind = keyof typeof LISTS;
/**
 * Lists remembered for a member that is restarting. Only tool and prompt names are (the same for every client, and
 * what calls are routed by); resources may be one client's own (its roots), so another client never sees them.
 */
const REMEMBERED: ReadonlySet<ListKind> = new Set(['tools', 'prompts']);
type Item = Record<string, unknown>;

/** Options of a ProfileEndpoint. */
export interface ProfileOptions {
  name: string;
  /** The children it serves, in config order (which decides a URI two children claim). */
  members: readonly Member[];
  tools?: { allow?: readonly string[]; deny?: readonly string[] };
  /** Receives one line for each resource URI two children claim. */
  logger?: { warn(message: string): void };
}

/** A name a profile shows, and where it leads. */
interface Target {
  member: Member;
  name: string;
}

/** A resource template of one member, as a test on URIs. */
interface TemplateTarget {
  member: Member;
  matches(uri: string): boolean;
}

function errorOutcome(code: number, message: string, data?: unknown): RouteOutcome {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { kind: 'error', error };
}

/** An RFC 6570 URI template as a test: each expression matches one path segment, `{+x}` and `{#x}` anything. */
function templateMatcher(template: string): (uri: string) => boolean {
  const pattern = template
    .split(/(\{[^}]*\})/)
    .map((part) => {
      if (!part.startsWith('{')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return /^\{[+#]/.test(part) ? '.*' : '[^/?#]*';
    })
    .join('');
  const regex = new RegExp(`^${pattern}$`);
  return (uri) => regex.test(uri);
}

/**
 * Several children behind one MCP server: tools and prompts named `<child>__<name>`, resources routed by URI and
 * template, lists merged, capabilities united. Every request it sends a member goes through the same limiter, cache
 * and router as on that child's own endpoint.
 */
export class ProfileEndpoint implements Endpoint {
  readonly name: string;
  members: readonly Member[];
  readonly single = undefined;
  readonly #allowed: (name: string) => boolean;
  readonly #denied: (name: string) => boolean;
  readonly #logger: ProfileOptions['logger'];
  /** Each member's last lists: a member that is restarting keeps its names, so calls to it wait instead of failing. */
  readonly #lists = new Map<Member, Partial<Record<ListKind, Item[]>>>();
  #tools = new Map<string, Target>();
  #prompts = new Map<string, Target>();
  #resources = new Map<string, Member>();
  #templates: TemplateTarget[] = [];
  /** URIs two members list, reported once each. */
  readonly conflicts = new Set<string>();

  constructor(options: ProfileOptions) {
    this.name = options.name;
    this.members = options.members;
    const allow = options.tools?.allow;
    this.#allowed = allow === undefined ? () => true : namePattern(allow);
    this.#denied = namePattern(options.tools?.deny ?? []);
    this.#logger = options.logger;
  }

  /** Serves another set of children (a reload); what it remembers of children that left is forgotten. */
  setMembers(members: readonly Member[]): void {
    this.members = members;
    for (const member of this.#lists.keys()) if (!members.includes(member)) this.#lists.delete(member);
  }

  async initialize(signal: AbortSignal): Promise<InitializeOutcome> {
    await Promise.all(
      this.members.filter((m) => m.router.link.state === 'STARTING').map((m) => waitForRunning(m.router.link, signal)),
    );
    const down = this.members.filter((m) => isDown(m.router.link.state));
    if (this.members.length === 0 || down.length === this.members.length) {
      const states = down.map((m) => `${m.router.link.name} (${m.router.link.state})`).join(', ');
      return errorOutcome(
        ErrorCode.ChildUnavailable,
        this.members.length === 0
          ? `Profile "${this.name}" has no children`
          : `Every child of profile "${this.name}" is down: ${states}; run \`omnimind start\` for them`,
        { profile: this.name, children: down.map((m) => ({ child: m.router.link.name, state: m.router.link.state })) },
      ) as InitializeOutcome;
    }
    const capabilities: Record<string, Record<string, unknown>> = {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
    };
    const instructions: string[] = [];
    let protocolVersion: unknown;
    for (const member of this.members) {
      const result = member.router.link.initializeResult;
      if (result === undefined) continue;
      protocolVersion ??= result.protocolVersion;
      for (const [key, value] of Object.entries((result.capabilities as Record<string, unknown> | undefined) ?? {})) {
        if (typeof value === 'object' && value !== null) capabilities[key] = { ...value, ...capabilities[key] };
      }
      if (typeof result.instructions === 'string' && result.instructions.trim() !== '') {
        instructions.push(`${member.router.link.name}: ${result.instructions.trim()}`);
      }
    }
    const names = this.members.map((m) => m.router.link.name).join(', ');
    return {
      kind: 'result',
      result: {
        protocolVersion: protocolVersion ?? LATEST_PROTOCOL_VERSION,
        capabilities,
        serverInfo: { name: this.name, version: VERSION },
        instructions: [
          `omnimind profile "${this.name}" serves these MCP servers as one: ${names}. Their tools and prompts are named <server>__<name>.`,
          ...instructions,
        ].join('\n\n'),
      },
    };
  }

  route(method: string, params: Record<string, unknown> | undefined): Route {
    switch (method) {
      case 'tools/list':
        return this.#answer(async (call, signal) =>
          this.#listResult('tools', await this.#refresh('tools', call, signal)),
        );
      case 'prompts/list':
        return this.#answer(async (call, signal) =>
          this.#listResult('prompts', await this.#refresh('prompts', call, signal)),
        );
      case 'resources/list':
        return this.#answer(async (call, signal) =>
          this.#listResult('resources', await this.#refresh('resources', call, signal)),
        );
      case 'resources/templates/list':
        return this.#answer(async (call, signal) =>
          this.#listResult('templates', await this.#refresh('templates', call, signal)),
        );
      case 'tools/call':
        return this.#byName('tools', method, params, params?.name);
      case 'prompts/get':
        return this.#byName('prompts', method, params, params?.name);
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#byUri(method, params, params?.uri);
      case 'completion/complete': {
        const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
        if (ref?.type === 'ref/prompt') return this.#byName('prompts', method, params, ref.name, 'ref');
        if (ref?.type === 'ref/resource') return this.#byUri(method, params, ref.uri);
        return this.#fail(
          ErrorCode.InvalidParams,
          'completion/complete needs a ref of type ref/prompt or ref/resource',
        );
      }
      default:
        return this.#fail(ErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }

  #answer(answer: (call: MemberCall, signal: AbortSignal) => Promise<RouteOutcome>): Route {
    return { kind: 'answer', answer };
  }

  #fail(code: number, message: string, data?: unknown): Route {
    const outcome = errorOutcome(code, message, data);
    return { kind: 'answer', answer: async () => outcome };
  }

  /** Whether the profile's `tools` rules let a tool through (`deny` wins). */
  #toolAllowed(child: string, exposed: string, original: string): boolean {
    const full = `${child}__${original}`;
    if (this.#denied(full) || this.#denied(exposed)) return false;
    return this.#allowed(full) || this.#allowed(exposed);
  }

  /** A tool call or prompt to the member whose item the name shows, with the member's own name put back. */
  #byName(kind: 'tools' | 'prompts', method: string, params: Item | undefined, name: unknown, refField?: 'ref'): Route {
    if (typeof name !== 'string') return this.#fail(ErrorCode.InvalidParams, `${method} needs a name`);
    const resolve = (): Route | undefined => {
      const target = (kind === 'tools' ? this.#tools : this.#prompts).get(name);
      if (target === undefined) return undefined;
      const rewritten =
        refField === undefined
          ? { ...params, name: target.name }
          : { ...params, ref: { ...(params?.ref as Item), name: target.name } };
      return { kind: 'member', member: target.member, params: rewritten };
    };
    const known = resolve();
    if (known !== undefined) return known;
    if (kind === 'tools' && this.#denied(name)) return this.#deniedTool(name);
    return this.#answer(async (call, signal) => {
      await this.#refresh(kind, call, signal);
      const route = resolve();
      if (route?.kind === 'member') return call(route.member, method, route.params, signal);
      if (kind === 'tools' && this.#deniedByRule(name)) return this.#deniedOutcome(name);
      return errorOutcome(
        ErrorCode.InvalidParams,
        `Unknown ${kind === 'tools' ? 'tool' : 'prompt'} "${name}" in profile "${this.name}"`,
      );
    });
  }

  /** Whether a name that is not listed is one the rules hide (as opposed to one nobody serves). */
  #deniedByRule(name: string): boolean {
    const separator = name.indexOf('__');
    if (separator <= 0) return this.#denied(name);
    return !this.#toolAllowed(name.slice(0, separator), name, name.slice(separator + 2));
  }

  #deniedOutcome(name: string): RouteOutcome {
    return errorOutcome(ErrorCode.MethodNotFound, `Tool "${name}" is not available through profile "${this.name}"`);
  }

  #deniedTool(name: string): Route {
    const outcome = this.#deniedOutcome(name);
    return { kind: 'answer', answer: async () => outcome };
  }

  /** A request about a resource, to the member that listed its URI or whose template matches it. */
  #byUri(method: string, params: Item | undefined, uri: unknown): Route {
    if (typeof uri !== 'string') return this.#fail(ErrorCode.InvalidParams, `${method} needs a uri`);
    const known = this.#ownerOf(uri);
    if (known !== undefined) return { kind: 'member', member: known, params };
    return this.#answer(async (call, signal) => {
      await Promise.all([this.#refresh('resources', call, signal), this.#refresh('templates', call, signal)]);
      const owner = this.#ownerOf(uri);
      if (owner !== undefined) return call(owner, method, params, signal);
      return errorOutcome(ErrorCode.InvalidParams, `Unknown resource ${uri} in profile "${this.name}"`, { uri });
    });
  }

  #ownerOf(uri: string): Member | undefined {
    return this.#resources.get(uri) ?? this.#templates.find((t) => t.matches(uri))?.member;
  }

  /** Reads one kind of list from every member that can answer, remembers names, and rebuilds the routing tables. */
  async #refresh(kind: ListKind, call: MemberCall, signal: AbortSignal): Promise<Array<[Member, Item[]]>> {
    const lists = await Promise.all(
      this.members.map(async (member): Promise<[Member, Item[]] | undefined> => {
        const remembered = REMEMBERED.has(kind) ? this.#lists.get(member)?.[kind] : undefined;
        const link = member.router.link;
        if (isDown(link.state)) return undefined;
        if (link.state !== 'RUNNING') {
          if (remembered !== undefined) return [member, remembered];
          if (!(await waitForRunning(link, AbortSignal.any([signal, AbortSignal.timeout(LIST_WAIT_MS)])))) {
            return undefined;
          }
        }
        if (!this.#offers(member, kind)) return [member, []];
        const items = await this.#readList(member, kind, call, signal);
        if (items === undefined) return remembered === undefined ? undefined : [member, remembered];
        if (REMEMBERED.has(kind)) this.#lists.set(member, { ...this.#lists.get(member), [kind]: items });
        return [member, items];
      }),
    );
    const present = lists.filter((entry): entry is [Member, Item[]] => entry !== undefined);
    this.#index(kind, present);
    return present;
  }

  /** Whether a running member declared the capability a list needs (an undeclared list is empty, not an error). */
  #offers(member: Member, kind: ListKind): boolean {
    const capabilities = member.router.link.initializeResult?.capabilities as Record<string, unknown> | undefined;
    if (capabilities === undefined) return true;
    return capabilities[kind === 'templates' ? 'resources' : kind] !== undefined;
  }

  /** All pages of one member's list, or undefined when the member could not answer. */
  async #readList(member: Member, kind: ListKind, call: MemberCall, signal: AbortSignal): Promise<Item[] | undefined> {
    const { method, field } = LISTS[kind];
    const items: Item[] = [];
    let cursor: unknown;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const outcome = await call(member, method, cursor === undefined ? undefined : { cursor }, signal);
      if (outcome.kind === 'error') return undefined;
      const result = JSON.parse(outcome.json) as Record<string, unknown>;
      const pageItems = result[field];
      if (Array.isArray(pageItems))
        items.push(...pageItems.filter((i): i is Item => typeof i === 'object' && i !== null));
      cursor = result.nextCursor;
      if (typeof cursor !== 'string' || cursor === '') break;
    }
    return items;
  }

  /** Rebuilds the routing table of one kind from the lists just read. */
  #index(kind: ListKind, lists: Array<[Member, Item[]]>): void {
    if (kind === 'tools' || kind === 'prompts') {
      const entries = lists.flatMap(([member, items]) =>
        items.flatMap((item) => (typeof item.name === 'string' ? [{ member, name: item.name }] : [])),
      );
      const exposed = profileNames(entries.map((e) => ({ child: e.member.router.link.name, name: e.name })));
      const table = new Map<string, Target>();
      entries.forEach((entry, i) => {
        const name = exposed[i] as string;
        if (kind === 'tools' && !this.#toolAllowed(entry.member.router.link.name, name, entry.name)) return;
        table.set(name, entry);
      });
      if (kind === 'tools') this.#tools = table;
      else this.#prompts = table;
      return;
    }
    if (kind === 'resources') {
      const table = new Map<string, Member>();
      for (const [member, items] of lists) {
        for (const item of items) {
          if (typeof item.uri !== 'string') continue;
          const owner = table.get(item.uri);
          if (owner === undefined) table.set(item.uri, member);
          else if (owner !== member && !this.conflicts.has(item.uri)) {
            this.conflicts.add(item.uri);
            this.#logger?.warn(
              `profile "${this.name}": ${owner.router.link.name} and ${member.router.link.name} both list ${item.uri}; it goes to ${owner.router.link.name} (first in config order)`,
            );
          }
        }
      }
      this.#resources = table;
      return;
    }
    this.#templates = lists.flatMap(([member, items]) =>
      items.flatMap((item) =>
        typeof item.uriTemplate === 'string' ? [{ member, matches: templateMatcher(item.uriTemplate) }] : [],
      ),
    );
  }

  /** The merged list as the client sees it: every item once, tools and prompts under their profile names. */
  #listResult(kind: ListKind, lists: Array<[Member, Item[]]>): RouteOutcome {
    const field = LISTS[kind].field;
    let items: Item[];
    if (kind === 'tools' || kind === 'prompts') {
      const table = kind === 'tools' ? this.#tools : this.#prompts;
      const byTarget = new Map<Member, Map<string, string>>();
      for (const [exposed, target] of table) {
        const names = byTarget.get(target.member) ?? new Map<string, string>();
        names.set(target.name, exposed);
        byTarget.set(target.member, names);
      }
      items = lists.flatMap(([member, memberItems]) =>
        memberItems.flatMap((item) => {
          const exposed = byTarget.get(member)?.get(item.name as string);
          return exposed === undefined ? [] : [{ ...item, name: exposed }];
        }),
      );
    } else if (kind === 'resources') {
      items = lists.flatMap(([member, memberItems]) =>
        memberItems.filter((item) => this.#resources.get(item.uri as string) === member),
      );
    } else {
      items = lists.flatMap(([, memberItems]) => memberItems);
    }
    return { kind: 'result', json: JSON.stringify({ [field]: items }) };
  }
}
