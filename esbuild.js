// Bundles the extension host side, the engine process and the command-line tools into dist/.
// onnxruntime-node stays external: it is a native addon and ships as-is in node_modules.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const entryPoints = {
  extension: 'src/extension.ts',
  engine: 'src/engine/engine-process.ts',
  cli: 'src/cli.ts',
};

async function main() {
  const ctx = await esbuild.context({
    entryPoints,
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node'],
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  });
  if (watch) {
    await ctx.watch();
  } else {
    await ctx.rebuild();
    await ctx.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
