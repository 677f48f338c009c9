import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FIM_TEMPLATE_SETTINGS,
  completionTemplateFor,
  fimPrompt,
  fimTemplateFor,
} from '../../../src/backends/fim-template';

describe('FIM prompts for servers that take no suffix', () => {
  it('StarCoder’s tokens in PSM order, and in SPM order with the prefix last', () => {
    assert.equal(fimPrompt('starcoder', 'def f(', '):\n'), '<fim_prefix>def f(<fim_suffix>):\n<fim_middle>');
    assert.equal(fimPrompt('starcoder-spm', 'def f(', '):\n'), '<fim_prefix><fim_suffix>):\n<fim_middle>def f(');
  });

  it('a keystroke changes only the end of an SPM prompt', () => {
    const before = fimPrompt('starcoder-spm', 'const x = fo', ';\n');
    const after = fimPrompt('starcoder-spm', 'const x = foo', ';\n');
    assert.ok(after.startsWith(before));
    assert.ok(
      !fimPrompt('starcoder', 'const x = foo', ';\n').startsWith(fimPrompt('starcoder', 'const x = fo', ';\n')),
    );
  });

  it('auto: Wisp’s own models in their SPM order, others by name, StarCoder’s spelling otherwise', () => {
    assert.equal(fimTemplateFor('auto', 'wisp-code-small-f16.gguf'), 'starcoder-spm');
    assert.equal(fimTemplateFor('auto', 'Qwen2.5-Coder-1.5B'), 'qwen');
    assert.equal(fimTemplateFor('auto', 'deepseek-coder-1.3b-base'), 'deepseek');
    assert.equal(fimTemplateFor('auto', 'CodeLlama-7b'), 'codellama');
    assert.equal(fimTemplateFor('auto', 'bigcode/starcoder2-3b'), 'starcoder');
    assert.equal(fimTemplateFor('starcoder', 'wisp-code-small'), 'starcoder');
    assert.equal(fimTemplateFor('auto', 'Qwen/Qwen2.5-Coder-7B'), 'qwen');
    assert.equal(fimTemplateFor('auto', '/home/me/.cache/wisp/qwen2.5-coder-1.5b-q8_0.gguf'), 'qwen');
    assert.equal(fimTemplateFor('auto', 'C:\\wisp\\models\\starcoder2-3b.gguf'), 'starcoder');
  });

  it('every setting but auto names a template', () => {
    for (const setting of FIM_TEMPLATE_SETTINGS.filter((s) => s !== 'auto')) {
      assert.equal(fimTemplateFor(setting, ''), setting);
      assert.ok(fimPrompt(fimTemplateFor(setting, ''), 'P', 'S').includes('P'));
    }
  });

  it('llama-server: auto leaves the prompt to /infill, but for Wisp’s own models; a setting names the prompt', () => {
    assert.equal(completionTemplateFor('auto', 'wisp-code-small-f16.gguf'), 'starcoder-spm');
    assert.equal(completionTemplateFor('auto', 'Qwen2.5-Coder-1.5B'), undefined);
    assert.equal(completionTemplateFor('auto', ''), undefined);
    assert.equal(completionTemplateFor('qwen', 'wisp-code-small'), 'qwen');
  });
});
