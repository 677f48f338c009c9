// `npm run package [-- --target linux-x64]`: a platform-specific VSIX. onnxruntime-node ships the
// native binaries of every platform (288 MB); the VSIX for one target carries only that target's.
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

const argIndex = process.argv.indexOf('--target');
const target = argIndex > 0 ? process.argv[argIndex + 1] : `${process.platform}-${process.arch}`;
if (!PLATFORMS[target]) {
  console.error(`unknown target '${target}' (one of ${Object.keys(PLATFORMS).join(', ')})`);
  process.exit(2);
}

const root = path.resolve(__dirname, '..');
const binRoot = 'node_modules/onnxruntime-node/bin/napi-v6';
const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
// In .vscodeignore a negated pattern wins over every other, so the target's binaries are let in
// by name rather than the others shut out.
ignore.push(`!${binRoot}/${PLATFORMS[target]}/**`);
const ignoreFile = path.join(os.tmpdir(), `wisp-vscodeignore-${target}`);
fs.writeFileSync(ignoreFile, ignore.join('\n'));

const out = `wisp-${require(path.join(root, 'package.json')).version}-${target}.vsix`;
execFileSync(
  path.join(root, 'node_modules', '.bin', 'vsce'),
  [
    'package',
    '--target',
    target,
    '--ignoreFile',
    ignoreFile,
    '--out',
    out,
    '--allow-missing-repository',
    '--skip-license',
  ],
  { cwd: root, stdio: 'inherit' },
);
console.log(`${out}: ${(fs.statSync(path.join(root, out)).size / 1e6).toFixed(1)} MB`);
