/** One piece of a parsed glob segment. */
export type SegmentToken =
  /** One character (code point) for which `test` holds. */
  | { kind: 'char'; test: (char: string) => boolean }
  /** `@(a|b)`, `?(…)`, `*(…)`, `+(…)`: one, at most one, any number, at least one of the alternatives. */
  | { kind: 'group'; quantifier: '@' | '?' | '*' | '+'; alternatives: SegmentToken[][] }
  /** `!(a|b)rest`: anything then `rest`, where what follows this point does not match an alternative then `rest`. */
  | { kind: 'not'; alternatives: SegmentToken[][]; rest: SegmentToken[] };

/** Tests one path segment (a single file name) against a compiled segment pattern. */
export type SegmentMatcher = (segment: string) => boolean;

type State =
  | { kind: 'char'; test: (char: string) => boolean; next: number }
  | { kind: 'split'; next: number[] }
  /** Passes to `next` when the input from here on cannot be matched to its end starting at `sub`. */
  | { kind: 'assert'; sub: number; next: number }
  | { kind: 'accept' };

const ANY_CHAR = () => true;

/**
 * Compiles segment tokens into a matcher that runs in time linear in the segment's length times the pattern's
 * size, whatever the pattern: a Thompson automaton evaluated backwards over the input, one set of states per
 * position, with no backtracking. A run of `*a*a*a…*b` against a long name costs the same as any other pattern
 * of its size. The negative lookaheads of `!(…)` are decided at each position from the same sets: the automaton
 * is walked once from the end of the segment to its start.
 */
export function compileSegmentMatcher(tokens: readonly SegmentToken[]): SegmentMatcher {
  const states: State[] = [{ kind: 'accept' }];
  const ACCEPT = 0;
  const add = (state: State): number => states.push(state) - 1;

  const buildSequence = (sequence: readonly SegmentToken[], next: number): number => {
    let start = next;
    for (let i = sequence.length - 1; i >= 0; i--) start = buildToken(sequence[i]!, start);
    return start;
  };
  const buildAlternatives = (alternatives: readonly SegmentToken[][], next: number): number[] =>
    alternatives.map((alternative) => buildSequence(alternative, next));
  const buildToken = (token: SegmentToken, next: number): number => {
    switch (token.kind) {
      case 'char':
        return add({ kind: 'char', test: token.test, next });
      case 'group': {
        if (token.quantifier === '@') return add({ kind: 'split', next: buildAlternatives(token.alternatives, next) });
        if (token.quantifier === '?') {
          return add({ kind: 'split', next: [...buildAlternatives(token.alternatives, next), next] });
        }
        // `*` and `+` loop through one split state, so each alternative is built once however deep the nesting.
        const loop: State = { kind: 'split', next: [] };
        const loopIndex = add(loop);
        const starts = buildAlternatives(token.alternatives, loopIndex);
        loop.next = [...starts, next];
        return token.quantifier === '*' ? loopIndex : add({ kind: 'split', next: starts });
      }
      case 'not': {
        const rest = next === ACCEPT ? buildToEnd(token.rest) : buildSequence(token.rest, next);
        const loop: State = { kind: 'split', next: [] };
        const loopIndex = add(loop);
        loop.next = [add({ kind: 'char', test: ANY_CHAR, next: loopIndex }), rest];
        // The lookahead checks the alternatives then this segment's rest up to the end of the name, as minimatch's
        // `(?!(?:alts)rest$)` does; at the top level that is the very same rest.
        const restToEnd = next === ACCEPT ? rest : buildToEnd(token.rest);
        const sub = add({ kind: 'split', next: buildAlternatives(token.alternatives, restToEnd) });
        return add({ kind: 'assert', sub, next: loopIndex });
      }
    }
  };
  // Each rest is built to the end of the name at most once, so nested negations keep the automaton linear in size.
  const builtToEnd = new Map<readonly SegmentToken[], number>();
  const buildToEnd = (sequence: readonly SegmentToken[]): number => {
    let start = builtToEnd.get(sequence);
    if (start === undefined) {
      start = buildSequence(sequence, ACCEPT);
      builtToEnd.set(sequence, start);
    }
    return start;
  };
  const start = buildSequence(tokens, ACCEPT);
  return createRunner(states, start);
}

/**
 * The order in which assertions are decided at a position: each after those its own outcome depends on.
 * An assertion that depends on itself (only nonsense like `*(!())` does) never passes.
 */
function orderAssertions(states: readonly State[]): number[] {
  const dependsOn = new Map<number, number[]>();
  states.forEach((state, index) => {
    if (state.kind !== 'assert') return;
    const found: number[] = [];
    const seen = new Set<number>();
    const stack = [state.sub];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (seen.has(current)) continue;
      seen.add(current);
      const at = states[current]!;
      if (at.kind === 'split') stack.push(...at.next);
      else if (at.kind === 'assert') {
        found.push(current);
        stack.push(at.next);
      }
    }
    dependsOn.set(index, found);
  });
  const order: number[] = [];
  const mark = new Map<number, 'visiting' | 'done' | 'cyclic'>();
  const visit = (index: number): boolean => {
    const seen = mark.get(index);
    if (seen === 'done') return true;
    if (seen !== undefined) {
      mark.set(index, 'cyclic');
      return false;
    }
    mark.set(index, 'visiting');
    let acyclic = true;
    for (const dependency of dependsOn.get(index)!) acyclic = visit(dependency) && acyclic;
    if (acyclic && mark.get(index) === 'visiting') {
      mark.set(index, 'done');
      order.push(index);
      return true;
    }
    mark.set(index, 'cyclic');
    return false;
  };
  for (const index of dependsOn.keys()) visit(index);
  return order;
}

function createRunner(states: readonly State[], start: number): SegmentMatcher {
  // Dense arrays for the per-position loops: who reaches each state without consuming input (splits always,
  // assertions when they pass), the character states with their tests and targets, the assertions in order.
  const predecessors: number[][] = states.map(() => []);
  const isSplit = new Uint8Array(states.length);
  const charIndex: number[] = [];
  const charNext: number[] = [];
  const charTest: ((char: string) => boolean)[] = [];
  states.forEach((state, index) => {
    if (state.kind === 'split') {
      isSplit[index] = 1;
      for (const next of state.next) predecessors[next]!.push(index);
    } else if (state.kind === 'assert') {
      predecessors[state.next]!.push(index);
    } else if (state.kind === 'char') {
      charIndex.push(index);
      charNext.push(state.next);
      charTest.push(state.test);
    }
  });
  const order = orderAssertions(states);
  const assertIndex = Int32Array.from(order);
  const assertSub = Int32Array.from(order, (index) => (states[index] as Extract<State, { kind: 'assert' }>).sub);
  const assertNext = Int32Array.from(order, (index) => (states[index] as Extract<State, { kind: 'assert' }>).next);

  return (segment) => {
    const chars = Array.from(segment);
    // live[q]: from state q the rest of the input (from the current position on) can be matched to its end.
    let after = new Uint8Array(states.length);
    let live = new Uint8Array(states.length);
    const passing = new Uint8Array(states.length);
    const queue: number[] = [];
    const mark = (index: number) => {
      if (live[index] === 1) return;
      live[index] = 1;
      queue.push(index);
    };
    const propagate = () => {
      while (queue.length > 0) {
        for (const previous of predecessors[queue.pop()!]!) {
          if (isSplit[previous] === 1 || passing[previous] === 1) mark(previous);
        }
      }
    };
    for (let position = chars.length; position >= 0; position--) {
      live.fill(0);
      passing.fill(0);
      if (position === chars.length) mark(0);
      else {
        const char = chars[position]!;
        for (let k = 0; k < charIndex.length; k++) {
          if (after[charNext[k]!] === 1 && charTest[k]!(char)) mark(charIndex[k]!);
        }
      }
      propagate();
      for (let k = 0; k < assertIndex.length; k++) {
        if (live[assertSub[k]!] === 1) continue;
        passing[assertIndex[k]!] = 1;
        if (live[assertNext[k]!] === 1) {
          mark(assertIndex[k]!);
          propagate();
        }
      }
      [after, live] = [live, after];
    }
    return after[start] === 1;
  };
}
