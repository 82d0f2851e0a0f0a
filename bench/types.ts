/** One benchmark's contribution to BENCHMARKS.md. */
export interface BenchSection {
  title: string;
  command: string;
  markdown: string;
}
