// Builds everything that runs: tsc only type-checks (noEmit).
//   dist/  the extension host side, the engine process and the command-line tools;
//   out/   the tests, one bundle per test file, at the path tsc would have used (test/x.ts → out/test/x.js).
// onnxruntime-node stays external: it is a native addon and ships as-is in node_modules.
const fs = require('node:fs');
const esbuild = require('esbuild');

const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  logLevel: 'warning',
};

// The benchmark and the evaluation are developer tools: built into dist/ beside the CLI, left out
// of the packaged extension by .vscodeignore.
function devTools() {
  const tools = {
    bench: 'test/bench/bench.ts',
    eval: 'test/eval/eval.ts',
    'device-figures': 'test/bench/device-figures.ts',
    'generate-eval': 'test/eval/generate-eval.ts',
    'compare-runs': 'test/eval/compare-runs.ts',
  };
  return Object.fromEntries(Object.entries(tools).filter(([, file]) => !production && fs.existsSync(file)));
}

async function main() {
  await esbuild.build({
    ...common,
    entryPoints: {
      extension: 'src/extension.ts',
      engine: 'src/engine/process/engine-process.ts',
      cli: 'src/cli.ts',
      ...devTools(),
    },
    outdir: 'dist',
    // typescript: the Generate evaluation's parser, run from the repository's node_modules.
    external: ['vscode', 'onnxruntime-node', 'typescript'],
    minify: production,
  });
  if (production) return;
  await esbuild.build({
    ...common,
    entryPoints: ['test/unit/**/*.test.ts', 'test/server/**/*.test.ts', 'test/suite/**/*.ts'],
    outdir: 'out',
    outbase: '.',
    external: ['vscode', 'onnxruntime-node', 'mocha'],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
