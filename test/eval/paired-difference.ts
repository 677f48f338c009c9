// Two evaluation runs over the same holes, compared hole by hole: the difference of their means and
// a 95% interval for it from a paired bootstrap that resamples whole problems, not holes. The holes
// of one HumanEval problem (or of one held-out file) share their prompt and their code, so they are
// not independent draws, and an interval over holes would be too narrow.
import { Rng } from '../../src/shared/sampler';

export interface HoleScore {
  taskId: string;
  value: number;
}

export interface PairedDifference {
  holes: number;
  problems: number;
  meanA: number;
  meanB: number;
  /** meanB − meanA. */
  difference: number;
  /** The 2.5th and 97.5th percentiles of the bootstrapped difference. */
  low: number;
  high: number;
}

/** The problem a hole belongs to: its task id without the last segment (".../L12"). */
export function problemOf(taskId: string): string {
  const cut = taskId.lastIndexOf('/');
  return cut < 0 ? taskId : taskId.slice(0, cut);
}

export function pairedDifference(a: HoleScore[], b: HoleScore[], draws = 2000, seed = 1): PairedDifference {
  const inB = new Map(b.map((s) => [s.taskId, s.value]));
  if (a.length !== b.length || inB.size !== b.length || a.some((s) => !inB.has(s.taskId)))
    throw new Error('the two runs must score the same holes, each once');
  const groups = new Map<string, { a: number; b: number; holes: number }>();
  for (const { taskId, value } of a) {
    const group = groups.get(problemOf(taskId)) ?? { a: 0, b: 0, holes: 0 };
    group.a += value;
    group.b += inB.get(taskId)!;
    group.holes++;
    groups.set(problemOf(taskId), group);
  }
  const problems = [...groups.values()];
  const sum = (picked: typeof problems, key: 'a' | 'b' | 'holes') => picked.reduce((t, g) => t + g[key], 0);
  const holes = sum(problems, 'holes');
  const meanA = sum(problems, 'a') / holes;
  const meanB = sum(problems, 'b') / holes;
  const rng = new Rng(seed);
  const differences: number[] = [];
  for (let d = 0; d < draws; d++) {
    let diff = 0;
    let count = 0;
    for (let i = 0; i < problems.length; i++) {
      const g = problems[Math.floor(rng.next() * problems.length)]!;
      diff += g.b - g.a;
      count += g.holes;
    }
    differences.push(diff / count);
  }
  differences.sort((x, y) => x - y);
  const at = (q: number) => differences[Math.min(draws - 1, Math.floor(q * draws))]!;
  return {
    holes,
    problems: problems.length,
    meanA,
    meanB,
    difference: meanB - meanA,
    low: at(0.025),
    high: at(0.975),
  };
}
