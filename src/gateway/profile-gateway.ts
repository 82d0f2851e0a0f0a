import { type ChildState, isDown } from './child-state.js';
import type { Member } from './endpoint.js';
import { EndpointServer } from './endpoint-server.js';
import { ProfileEndpoint, type ProfileOptions } from './profile-endpoint.js';
import type { SessionServices } from './session.js';
import type { UnixSocketTransportOptions } from './transports/unix-socket.js';

/** What a profile's clients are told when a child comes or goes. */
const LIST_CHANGED = ['tools', 'prompts', 'resources'].map((kind) => ({
  jsonrpc: '2.0',
  method: `notifications/${kind}/list_changed`,
}));

/**
 * A profile's endpoint: several children behind one socket. Its clients hear `list_changed` whenever a child comes up
 * (perhaps with other tools) or goes down for good; a child's own `list_changed` reaches them through its router.
 */
export class ProfileGateway extends EndpointServer {
  declare readonly endpoint: ProfileEndpoint;
  #members: readonly Member[];
  /** A child that comes up may bring other tools; one that goes down leaves the lists (an IDLE one stays in them). */
  readonly #onState = (state: ChildState, previous: ChildState) => {
    if (state === 'RUNNING' || (isDown(state) && !isDown(previous))) this.#announce();
  };

  constructor(options: ProfileOptions, services: SessionServices, transport: UnixSocketTransportOptions) {
    super(new ProfileEndpoint(options), services, transport);
    this.#members = options.members;
    for (const member of this.#members) member.router.link.on('state', this.#onState);
  }

  /** Serves another set of children (a reload) without dropping a client; clients hear that the lists changed. */
  setMembers(members: readonly Member[]): void {
    for (const member of this.#members) {
      if (!members.includes(member)) (member.router.link as unknown as NodeJS.EventEmitter).off('state', this.#onState);
    }
    for (const member of members) if (!this.#members.includes(member)) member.router.link.on('state', this.#onState);
    this.#members = members;
    this.endpoint.setMembers(members);
    for (const session of this.sessions) session.syncMembers();
    this.#announce();
  }

  override async close(): Promise<void> {
    for (const member of this.#members) {
      (member.router.link as unknown as NodeJS.EventEmitter).off('state', this.#onState);
    }
    await super.close();
  }

  #announce(): void {
    for (const session of this.sessions) {
      if (session.initialized) for (const message of LIST_CHANGED) session.sendMessage(message);
    }
  }
}
