// `npm run eval:compare -- A.records.jsonl B.records.jsonl`: two `npm run eval -- --records` runs of
// the same holes (two models, or two settings), compared hole by hole: exact match and edit
// similarity of each, B − A, and a 95% interval from a bootstrap over problems (paired-difference.ts).
// Whether B beats A by more than the holes' own spread, which the two headline figures do not say.
import fs from 'node:fs';
import { HoleScore, pairedDifference } from './paired-difference';

interface HoleRecord {
  task_id: string;
  exact_match?: number;
  edit_similarity?: number;
}

function scores(file: string, field: 'exact_match' | 'edit_similarity'): HoleScore[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const record = JSON.parse(l) as HoleRecord;
      const value = record[field];
      if (typeof value !== 'number') throw new Error(`${file}:${i + 1}: no ${field} (a run from before session 14?)`);
      return { taskId: record.task_id, value };
    });
}

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: npm run eval:compare -- A.records.jsonl B.records.jsonl');
  process.exit(2);
}
console.log(`A: ${a}\nB: ${b}\n`);
console.log('| measure | A | B | B − A | 95% interval (bootstrap over problems) |');
console.log('|---|---|---|---|---|');
for (const [name, field, scale, digits] of [
  ['exact match', 'exact_match', 100, 1],
  ['edit similarity', 'edit_similarity', 1, 3],
] as const) {
  const d = pairedDifference(scores(a, field), scores(b, field));
  const f = (x: number) => (x * scale).toFixed(digits) + (scale === 100 ? '%' : '');
  console.log(
    `| ${name} (${d.holes} holes, ${d.problems} problems) | ${f(d.meanA)} | ${f(d.meanB)} | ${f(d.difference)} | ${f(d.low)} … ${f(d.high)} |`,
  );
}
