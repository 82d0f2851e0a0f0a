import type { Cancellation } from '../protocol/index.js';
import type { ChildWindow } from './child-window.js';
import type { DeadlineHandle } from './deadlines.js';
import { LinkedList, type ListNode } from './linked-list.js';
import type { QueueDelay } from './queue-delay.js';
import { PRIORITIES, PRIORITY_RANK, type Priority } from './types.js';

/** The work a request does once admitted; it is told when the request is cancelled. */
export type Task = (cancellation: Cancellation) => Promise<unknown>;

/** Where a request is: waiting for its turn, running, past its deadline while running, or finished. */
export type EntryState = 'queued' | 'running' | 'expired' | 'done';

/** One request inside the limiter. */
export interface Entry {
  priority: Priority;
  rank: number;
  readonly child: ChildWindow;
  /** The queueing-delay judge of the request's child. */
  readonly delay: QueueDelay;
  /** The child's clock (`QueueDelay.activeAt`) when the request started waiting. */
  readonly waitedFrom: number;
  /** The caller's, or created when the task starts: requests shed or timed out while queued never need one. */
  cancellation: Cancellation | undefined;
  readonly timeoutMs: number;
  readonly deadline: number;
  state: EntryState;
  /** Order of arrival in the queue: FIFO within a priority across children. */
  seq: number;
  readonly task: Task;
  queueNode: ListNode<Entry> | undefined;
  deadlineHandle: DeadlineHandle<Entry> | undefined;
  /** Settle the promise `run` returned. */
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** What the queue asks of the limiter before a queued request may start. */
export interface AdmissionGate {
  /** Whether a rate token is available now; may arm a timer that dispatches again once one is. */
  hasToken(): boolean;
  /** The request leaves the queue and starts: take its token and count it. */
  onStart(entry: Entry): void;
}

/**
 * The waiting requests: per child, one FIFO list per priority. The next to start is the oldest request of the
 * highest priority whose child has room in its window, so a busy child never blocks another child's requests; the
 * next to shed is the newest request of the lowest priority. Lists per child keep both O(children), however many
 * requests wait for a full child.
 */
export class AdmissionQueue {
  readonly #byChild = new Map<ChildWindow, LinkedList<Entry>[]>();
  readonly #rankSizes = PRIORITIES.map(() => 0);
  readonly #gate: AdmissionGate;
  #size = 0;
  #peak = 0;
  #nextSeq = 0;

  constructor(gate: AdmissionGate) {
    this.#gate = gate;
  }

  /** Number of waiting requests. */
  get size(): number {
    return this.#size;
  }

  /** Most requests that were waiting at once. */
  get peak(): number {
    return this.#peak;
  }

  /** Number of waiting requests of one priority. */
  sizeOf(priority: Priority): number {
    return this.#rankSizes[PRIORITY_RANK[priority]]!;
  }

  /** Number of waiting requests at this rank or above: those that start before a new one of this rank. */
  sizeAtOrAbove(rank: number): number {
    let size = 0;
    for (let r = rank; r < this.#rankSizes.length; r++) size += this.#rankSizes[r]!;
    return size;
  }

  /** Adds a request to wait for its turn. */
  attach(entry: Entry): void {
    entry.state = 'queued';
    entry.seq = this.#nextSeq++;
    entry.queueNode = this.#listsOf(entry.child)[entry.rank]!.push(entry);
    entry.child.queued += 1;
    this.#rankSizes[entry.rank]! += 1;
    this.#size += 1;
    if (this.#size > this.#peak) this.#peak = this.#size;
  }

  /** Takes a request out of the queue without starting it (shed, timed out or closed). */
  detach(entry: Entry): void {
    if (entry.queueNode === undefined) return;
    this.#listsOf(entry.child)[entry.rank]!.remove(entry.queueNode);
    entry.queueNode = undefined;
    entry.child.queued -= 1;
    this.#rankSizes[entry.rank]! -= 1;
    this.#size -= 1;
  }

  /** The request to shed first: the newest of the lowest priority. */
  lowest(): Entry | undefined {
    for (let rank = 0; rank < this.#rankSizes.length; rank++) {
      let newest: Entry | undefined;
      for (const lists of this.#byChild.values()) {
        const tail = lists[rank]!.tail?.value;
        if (tail && (newest === undefined || tail.seq > newest.seq)) newest = tail;
      }
      if (newest) return newest;
    }
    return undefined;
  }

  /** The request of `child` and `rank` that has waited longest. */
  oldest(child: ChildWindow, rank: number): Entry | undefined {
    return this.#byChild.get(child)?.[rank]?.head?.value;
  }

  /** Every waiting request, most urgent first. */
  *entries(): IterableIterator<Entry> {
    for (let rank = this.#rankSizes.length - 1; rank >= 0; rank--) {
      for (const lists of this.#byChild.values()) {
        for (let node = lists[rank]!.head; node; node = node.next) yield node.value;
      }
    }
  }

  /**
   * Takes the next request that may start now out of the queue, its rate token taken and its start counted; undefined
   * when none may (every child in the queue is full, or no rate token is left).
   */
  take(): Entry | undefined {
    if (this.#size === 0) return undefined;
    const entry = this.#pick();
    if (entry === undefined || !this.#gate.hasToken()) return undefined;
    this.detach(entry);
    this.#gate.onStart(entry);
    return entry;
  }

  #listsOf(child: ChildWindow): LinkedList<Entry>[] {
    let lists = this.#byChild.get(child);
    if (lists === undefined) {
      lists = PRIORITIES.map(() => new LinkedList<Entry>());
      this.#byChild.set(child, lists);
    }
    return lists;
  }

  #pick(): Entry | undefined {
    for (let rank = this.#rankSizes.length - 1; rank >= 0; rank--) {
      let oldest: Entry | undefined;
      for (const [child, lists] of this.#byChild) {
        const head = lists[rank]!.head?.value;
        if (head === undefined) continue;
        if (!child.hasRoom()) {
          child.noteBlocked();
          continue;
        }
        if (oldest === undefined || head.seq < oldest.seq) oldest = head;
      }
      if (oldest) return oldest;
    }
    return undefined;
  }
}
