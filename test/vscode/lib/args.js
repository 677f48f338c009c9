'use strict';
/** `--name value` or `--name=value` from argv; `fallback` when absent. */
function arg(name, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return fallback;
}
const flag = (name) => process.argv.slice(2).includes(`--${name}`);
module.exports = { arg, flag };
