/** A node of `LinkedList`; keep it to remove the value in O(1). */
export interface ListNode<T> {
  readonly value: T;
  prev: ListNode<T> | undefined;
  next: ListNode<T> | undefined;
  /** The list holding the node; undefined once removed, so a second removal is a no-op, not a corruption. */
  owner: LinkedList<T> | undefined;
}

/** A doubly linked list: O(1) push, removal of any node, and access to both ends. */
export class LinkedList<T> {
  head: ListNode<T> | undefined;
  tail: ListNode<T> | undefined;
  size = 0;

  /** Appends a value and returns its node. */
  push(value: T): ListNode<T> {
    const node: ListNode<T> = { value, prev: this.tail, next: undefined, owner: this };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size += 1;
    return node;
  }

  /** Removes a node of this list; a node already removed (or of another list) is left alone. */
  remove(node: ListNode<T>): void {
    if (node.owner !== this) return;
    node.owner = undefined;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.size -= 1;
  }
}
