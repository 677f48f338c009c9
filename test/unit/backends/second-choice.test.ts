import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secondChoice } from '../../../src/backends/second-choice';
import type { DrawnToken, TokenPiece } from '../../../src/backends/server-format';

const piece = (id: number, text: string, logprob = -1): TokenPiece => ({
  id,
  bytes: [...Buffer.from(text, 'utf8')],
  logprob,
});
const step = (i: number, drawn: TokenPiece, runnerUp?: TokenPiece): DrawnToken => ({
  ...drawn,
  step: i,
  ...(runnerUp ? { runnerUp } : {}),
});

describe('the model’s second choice on a server (second-choice.ts)', () => {
  it('keeps the whitespace before the first token with content and puts its runner-up there', () => {
    const choice = secondChoice([
      step(0, piece(198, '\n', -0.1), piece(1, 'x')),
      step(1, piece(220, '    ', -0.2), piece(2, '  ')),
      step(2, piece(500, 'return', -0.3), piece(600, 'yield', -1.7)),
      step(3, piece(501, ' x')),
    ]);
    assert.deepEqual(choice, {
      forced: [198, 220, 600],
      text: '\n    yield',
      tokens: [
        { text: '\n', logprob: -0.1 },
        { text: '    ', logprob: -0.2 },
        { text: 'yield', logprob: -1.7 },
      ],
      toRestore: '',
    });
  });

  it('with token healing: content counts after the restored text, and the runner-up must restore it', () => {
    const drawn = [step(0, piece(5, ' ret', -0.1), piece(6, ' r')), step(1, piece(7, 'urn', -0.2), piece(8, 'ry', -2))];
    // " ret" restores the healed text and has no content after it; "urn" is the first with content
    assert.deepEqual(secondChoice(drawn, ' ret'), {
      forced: [5, 8],
      text: ' retry',
      tokens: [
        { text: ' ret', logprob: -0.1 },
        { text: 'ry', logprob: -2 },
      ],
      toRestore: '',
    });
    // a runner-up that only starts the healed text leaves the rest to restore
    const partly = secondChoice([step(0, piece(5, ' retu'), piece(6, ' r', -3))], ' re');
    assert.deepEqual(partly?.forced, [6]);
    assert.equal(partly?.toRestore, 'e');
    // one that leaves it is no second choice
    assert.equal(secondChoice([step(0, piece(5, ' return'), piece(6, ' x'))], ' re'), undefined);
  });

  it('the runner-up of a first token with content', () => {
    const choice = secondChoice([step(0, piece(9, 'foo'), piece(10, 'bar', -2))]);
    assert.deepEqual(choice?.forced, [10]);
    assert.equal(choice?.text, 'bar');
  });

  it('whole multi-byte characters pass', () => {
    const choice = secondChoice([step(0, piece(1, ' ')), step(1, piece(2, 'é'), piece(3, 'ü'))]);
    assert.equal(choice?.text, ' ü');
  });

  it('none where the report cannot give the forced start exactly', () => {
    const cases: Array<[string, DrawnToken[]]> = [
      ['a step without its frame', [step(0, piece(1, ' ')), step(2, piece(2, 'a'), piece(3, 'b'))]],
      ['no runner-up', [step(0, piece(2, 'a'))]],
      ['only whitespace', [step(0, piece(1, '\n'), piece(4, 'x')), step(1, piece(1, ' '))]],
      ['nothing drawn', []],
      ['a token ending inside a character', [step(0, { id: 1, bytes: [0xc3], logprob: -1 }, piece(2, 'a'))]],
      ['a runner-up ending inside a character', [step(0, piece(2, 'a'), { id: 1, bytes: [0xe2, 0x82], logprob: -1 })]],
    ];
    for (const [name, drawn] of cases) assert.equal(secondChoice(drawn), undefined, name);
  });
});
