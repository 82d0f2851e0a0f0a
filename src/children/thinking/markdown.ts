import type { SessionDetail, StoredThought } from './session-store.js';

/** The heading of one thought: its number, and what it revises or where it branches from. */
function describeThought(t: StoredThought): string {
  const base = `Thought ${t.thoughtNumber}/${t.totalThoughts}`;
  if (t.isRevision) return `${base} (revision of thought ${t.revisesThought ?? '?'})`;
  if (t.branchFromThought && t.branchId)
    return `${base} (branch \`${t.branchId}\` from thought ${t.branchFromThought})`;
  return base;
}

/** Renders a session as a markdown document: a header, then one section per thought in order. */
export function renderSessionMarkdown(session: SessionDetail): string {
  const branches = session.branches.length > 0 ? session.branches.map((b) => `\`${b}\``).join(', ') : 'none';
  const lines = [
    `# Thinking session ${session.sessionId}`,
    '',
    `- Started: ${session.createdAt}`,
    `- Last thought: ${session.updatedAt}`,
    `- Thoughts: ${session.thoughtCount}`,
    `- Branches: ${branches}`,
  ];
  for (const thought of session.thoughts) {
    lines.push('', `## ${describeThought(thought)}`, '', thought.thought);
    if (thought.needsMoreThoughts) lines.push('', '_More thoughts needed._');
  }
  const last = session.thoughts.at(-1);
  if (last && !last.nextThoughtNeeded) lines.push('', '_Thinking complete._');
  return `${lines.join('\n')}\n`;
}
