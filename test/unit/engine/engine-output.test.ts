// The engine process's output as log lines: whole lines however the pipe cuts them, no terminal
// escape codes, and the providers' messages folded into one debug line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineOutput, providerMessage } from '../../../src/engine/process/engine-output';

const ORT_WARNING =
  '\x1b[0;93m2026-12-01 09:31:52.812433117 [W:onnxruntime:, session_state.cc:1397 VerifyEachNodeIsAssignedToAnEp] ' +
  'Some nodes were not assigned to the preferred execution providers.\x1b[m';
const DAWN_WARNING = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16.';

describe('engine output', () => {
  it('gives whole lines, however the chunks cut them', () => {
    const output = new EngineOutput();
    assert.deepEqual(output.push('No supported ad'), []);
    assert.deepEqual(output.push('apters\nsecond line\nthi'), [
      { text: 'No supported adapters', level: 'info' },
      { text: 'second line', level: 'info' },
    ]);
    assert.deepEqual(output.end(), [{ text: 'thi', level: 'info' }]);
  });

  it("folds Dawn's and onnxruntime's messages into one debug line without escape codes", () => {
    const output = new EngineOutput();
    const chunk = `${DAWN_WARNING}\n${DAWN_WARNING}\n    at CheckVkSuccessImpl (/build/VulkanError.cpp:106)\n${ORT_WARNING}\n`;
    assert.deepEqual(output.push(chunk.slice(0, 50)), []);
    assert.deepEqual(output.push(chunk.slice(50)), []);
    const folded = output.fold();
    assert.equal(folded.length, 1);
    assert.equal(folded[0].level, 'debug');
    assert.equal(
      folded[0].text,
      'provider messages: Dawn/Vulkan: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 ' +
        'to 16. | onnxruntime: Some nodes were not assigned to the preferred execution providers.',
    );
    assert.deepEqual(output.fold(), []);
  });

  it('lets an ordinary line through after the folded ones, in order', () => {
    const output = new EngineOutput();
    assert.deepEqual(output.push(`${DAWN_WARNING}\nmodel ready\n`), [
      { text: `provider messages: ${providerMessage(DAWN_WARNING)}`, level: 'debug' },
      { text: 'model ready', level: 'info' },
    ]);
    assert.equal(providerMessage('model ready'), undefined);
  });
});
