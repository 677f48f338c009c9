// Builds everything that runs: tsc only type-checks (noEmit).
//   dist/  the extension host side, the engine process and the command-line tools;
//   out/   the tests, one bundle per test file, at the path tsc would have used (test/x.ts → out/test/x.js).
// onnxruntime-node stays external: it is a native addon and ships as-is in node_modules.
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

async function main() {
  await esbuild.build({
    ...common,
    entryPoints: {
      extension: 'src/extension.ts',
      engine: 'src/engine/engine-process.ts',
      cli: 'src/cli.ts',
    },
    outdir: 'dist',
    external: ['vscode', 'onnxruntime-node'],
    minify: production,
  });
  if (production) return;
  await esbuild.build({
    ...common,
    entryPoints: ['test/unit/**/*.test.ts', 'test/suite/**/*.ts'],
    outdir: 'out',
    outbase: '.',
    external: ['vscode', 'onnxruntime-node', 'mocha'],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
