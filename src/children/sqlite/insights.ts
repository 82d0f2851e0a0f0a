/** The longest insight accepted (characters): a paragraph, not a document. */
export const MAX_INSIGHT_CHARS = 4_000;

/** The most insights one memo holds (about 4 MB of text at most, so the memo stays readable and bounded). */
export const MAX_INSIGHTS = 1_000;

/** The business insights memo behind `memo://insights`: kept in memory for the life of the process. */
export class InsightMemo {
  readonly #insights: string[] = [];

  /** Adds one insight; throws a message for the user when it is empty, too long or the memo is full. */
  append(insight: string): void {
    const text = insight.trim();
    if (text === '') throw new Error('Expected `insight` to be a non-empty text.');
    if (text.length > MAX_INSIGHT_CHARS) {
      throw new Error(`Expected \`insight\` to be at most ${MAX_INSIGHT_CHARS} characters, got ${text.length}.`);
    }
    if (this.#insights.length >= MAX_INSIGHTS) {
      throw new Error(`The memo already holds ${MAX_INSIGHTS} insights, the most it keeps; no insight was added.`);
    }
    this.#insights.push(text);
  }

  /** The memo as text, in the reference server's layout. */
  render(): string {
    if (this.#insights.length === 0) return 'No business insights have been discovered yet.';
    const lines = this.#insights.map((insight) => `- ${insight}`).join('\n');
    let memo = `📊 Business Intelligence Memo 📊\n\nKey Insights Discovered:\n\n${lines}`;
    if (this.#insights.length > 1) {
      memo += `\nSummary:\nAnalysis has revealed ${this.#insights.length} key business insights that suggest opportunities for strategic optimization and growth.`;
    }
    return memo;
  }
}
