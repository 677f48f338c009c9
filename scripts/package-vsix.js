// `npm run package [-- --target linux-x64]`: a platform-specific VSIX. onnxruntime-node ships the
// native binaries of every platform (288 MB); the VSIX for one target carries only that target's.
//
// vsce packages from a staging folder rather than the checkout: it lists the runtime dependencies
// with `npm list --production`, which fails on a node_modules shared between worktrees, and the
// extension needs only onnxruntime-node at run time (esbuild bundles the other dependencies into
// dist/). The staging folder holds the manifest with that one dependency, its production closure,
// and the files .vscodeignore lets in.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PLATFORMS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-x64': 'darwin/x64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
/** Dependencies esbuild leaves out of the bundles (esbuild.js): the only ones the VSIX carries. */
const RUNTIME_DEPENDENCIES = ['onnxruntime-node'];

const argIndex = process.argv.indexOf('--target');
const target = argIndex > 0 ? process.argv[argIndex + 1] : `${process.platform}-${process.arch}`;
if (!PLATFORMS[target]) {
  console.error(`unknown target '${target}' (one of ${Object.keys(PLATFORMS).join(', ')})`);
  process.exit(2);
}
const outIndex = process.argv.indexOf('--out');

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.resolve(root, outIndex > 0 ? process.argv[outIndex + 1] : `wisp-${manifest.version}-${target}.vsix`);
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-vsix-'));

/** A package and, transitively, its production dependencies from the checkout's (hoisted) node_modules. */
function copyWithDependencies(name, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const from = path.join(root, 'node_modules', name);
  fs.cpSync(fs.realpathSync(from), path.join(stage, 'node_modules', name), { recursive: true, dereference: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies || {})) copyWithDependencies(dep, seen);
}

try {
  for (const entry of ['README.md', 'dist', 'media', 'models/wisp-code-small']) {
    if (fs.existsSync(path.join(root, entry))) {
      fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true, dereference: true });
    }
  }
  const dependencies = Object.fromEntries(RUNTIME_DEPENDENCIES.map((d) => [d, manifest.dependencies[d]]));
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ ...manifest, dependencies }, null, 2));
  for (const dep of RUNTIME_DEPENDENCIES) copyWithDependencies(dep);

  const binRoot = 'node_modules/onnxruntime-node/bin/napi-v6';
  const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
  // In .vscodeignore a negated pattern wins over every other, so the target's binaries are let in
  // by name rather than the others shut out.
  ignore.push(`!${binRoot}/${PLATFORMS[target]}/**`);
  fs.writeFileSync(path.join(stage, '.vscodeignore'), ignore.join('\n'));

  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
      'package',
      '--target',
      target,
      '--out',
      out,
      '--allow-missing-repository',
      // README's images and links stay relative: they resolve inside the installed extension (media/
      // is packaged), and no repository URL has to be made up.
      '--no-rewrite-relative-links',
      '--skip-license',
    ],
    { cwd: stage, stdio: 'inherit' },
  );
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
console.log(`${path.relative(root, out)}: ${(fs.statSync(out).size / 1e6).toFixed(1)} MB`);
