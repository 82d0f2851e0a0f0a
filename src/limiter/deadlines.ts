import { LinkedList, type ListNode } from './linked-list.js';
import type { LimiterClock } from './types.js';

/** Something with an absolute deadline on the limiter's clock. */
export interface HasDeadline {
  readonly deadline: number;
}

/** Where a value sits in the sweep, to remove it in O(1). */
export interface DeadlineHandle<T> {
  readonly list: LinkedList<T>;
  readonly node: ListNode<T>;
  readonly durationMs: number;
}

/**
 * Expires values at their deadlines with one timer for all of them.
 *
 * Values are kept in one FIFO list per timeout duration: deadlines within a list only grow (now + the same
 * duration), so adding and removing are O(1), the earliest deadline is one of the few list heads, and the timer
 * only has to be re-armed when a value is due before the one it waits for. Requests that finish in time cost a
 * list push and a list removal, never a timer.
 */
export class DeadlineSweep<T extends HasDeadline> {
  readonly #lists = new Map<number, LinkedList<T>>();
  readonly #clock: LimiterClock;
  readonly #onExpire: (value: T) => void;
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(clock: LimiterClock, onExpire: (value: T) => void) {
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /** Tracks a value whose deadline is `now + durationMs`. */
  add(value: T, durationMs: number): DeadlineHandle<T> {
    let list = this.#lists.get(durationMs);
    if (!list) {
      list = new LinkedList<T>();
      this.#lists.set(durationMs, list);
    }
    const node = list.push(value);
    if (value.deadline < this.#timerAt) this.#arm(value.deadline);
    return { list, node, durationMs };
  }

  /** Stops tracking a value (it finished before its deadline). */
  remove(handle: DeadlineHandle<T>): void {
    handle.list.remove(handle.node);
    if (handle.list.size === 0) this.#lists.delete(handle.durationMs);
  }

  /** Cancels the timer; values still tracked are kept and swept again if a value is added later. */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(at - this.#clock.now())));
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (const [durationMs, list] of this.#lists) {
      for (let head = list.head; head !== undefined && head.value.deadline <= now; head = list.head) {
        list.remove(head);
        if (list.size === 0) this.#lists.delete(durationMs);
        this.#onExpire(head.value);
      }
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const list of this.#lists.values()) {
      if (list.head && list.head.value.deadline < earliest) earliest = list.head.value.deadline;
    }
    if (earliest < this.#timerAt) this.#arm(earliest);
  }
}
