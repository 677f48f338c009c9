import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { commentLine, generateCut } from '../../../src/completion/generate-rules';

const kept = (before: string, text: string, lang: string) => {
  const cut = generateCut(before, text, lang);
  return cut ? `${text.slice(0, cut.end)}|${cut.reason}` : undefined;
};

describe('Generate Code rules', () => {
  it('writes the instruction as a comment of the language', () => {
    assert.equal(commentLine('python', 'reverse  a\nstring'), '# reverse a string');
    assert.equal(commentLine('typescript', 'reverse a string'), '// reverse a string');
    assert.equal(commentLine('sql', 'x'), '-- x');
  });

  it('ends a Python function at the first code line back at the signature’s indentation', () => {
    const before = '# reverse a string\ndef rev(s):\n';
    const text = '    out = s[::-1]\n    return out\n\n\ndef other():\n    pass\n';
    assert.equal(kept(before, text, 'python'), '    out = s[::-1]\n    return out\n\n\n|block-complete');
  });

  it('ends a Python block the generation opened itself, and not inside a nested block', () => {
    const text = 'def rev(s):\n    if s:\n        return s[::-1]\n    return s\nprint(rev("ab"))\n';
    assert.equal(
      kept('# reverse\n', text, 'python'),
      'def rev(s):\n    if s:\n        return s[::-1]\n    return s\n|block-complete',
    );
  });

  it('reads nothing into the lines of a Python docstring', () => {
    const before = 'def rev(s):\n';
    const text = '    """\nReversed.\n    """\n    return s[::-1]\nx = 1\n';
    assert.equal(kept(before, text, 'python'), '    """\nReversed.\n    """\n    return s[::-1]\n|block-complete');
  });

  it('ends a brace function when the signature’s brace closes, keeping the closing line', () => {
    const before = '// reverse a string\nfunction rev(s: string): string {\n';
    const text = '  if (!s) { return s; }\n  return s.split("").reverse().join("");\n}\n\nfunction next() {\n';
    assert.equal(
      kept(before, text, 'typescript'),
      '  if (!s) { return s; }\n  return s.split("").reverse().join("");\n}\n|block-complete',
    );
  });

  it('ignores braces in strings and line comments', () => {
    const before = 'function f() {\n';
    const text = '  const a = "}";\n  // }\n  return a;\n}\n';
    assert.equal(kept(before, text, 'javascript'), text + '|block-complete');
  });

  it('stops before a closing brace of the block around the cursor', () => {
    const before = 'function f() {\n  const a = 1;\n  return a;\n';
    assert.equal(kept(before, '  return 2;\n}\nfunction g() {}\n', 'typescript'), '  return 2;\n|block-complete');
  });

  it('stops before a run of comment-only lines at the outer indentation', () => {
    const text = 'x = 1\n# a\n# b\n# c\n# d\n';
    assert.equal(kept('', text, 'python'), 'x = 1\n|comment-run');
    assert.equal(kept('', '// a\n// b\n// c\n', 'typescript'), '|comment-run');
    assert.equal(kept('', 'x = 1\n# a\n# b\ny = 2\n', 'python'), undefined);
  });

  it('judges whole lines only, so a cut found on a stream never moves as text arrives', () => {
    const lang = fc.constantFrom('python', 'typescript');
    const line = fc.constantFrom(
      'x = 1',
      '    return x',
      '}',
      'def f():',
      'function f() {',
      '# c',
      '// c',
      '',
      '  if (a) {',
    );
    fc.assert(
      fc.property(lang, fc.array(line, { maxLength: 12 }), fc.nat(200), (language, lines, at) => {
        const text = lines.join('\n') + '\n';
        const full = generateCut('', text, language);
        const partial = generateCut('', text.slice(0, Math.min(at, text.length)), language);
        if (partial) assert.deepEqual(full, partial);
      }),
    );
  });
});
