// The Getting Started walkthrough as package.json contributes it: every step ends with a test
// completion, every button runs a command Wisp contributes, every media file exists, and the model
// the download step offers is the one Download Model… recommends.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RECOMMENDED_MODEL } from '../../../src/hub/recommended-model';
import { REPO_ROOT } from '../fixture';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string; altText?: string };
  completionEvents?: string[];
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
const walkthroughs = manifest.contributes.walkthroughs as Array<{ id: string; title: string; steps: Step[] }>;
const commands = new Set((manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command));

/** `[label](command:id?args)` links, as VS Code renders buttons. */
function links(description: string): Array<{ label: string; command: string; args?: unknown[] }> {
  return [...description.matchAll(/\[([^\]]+)\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)].map((m) => ({
    label: m[1]!,
    command: m[2]!,
    args: m[3] ? (JSON.parse(decodeURIComponent(m[3])) as unknown[]) : undefined,
  }));
}

describe('Getting Started walkthrough', () => {
  it('offers the three choices, each ending with Test Completion', () => {
    assert.equal(walkthroughs.length, 1);
    const [walkthrough] = walkthroughs;
    assert.equal(walkthrough!.id, 'wisp.gettingStarted');
    assert.deepEqual(
      walkthrough!.steps.map((s) => s.id),
      ['bundled', 'download', 'server'],
    );
    for (const step of walkthrough!.steps) {
      const buttons = links(step.description);
      assert.equal(buttons.at(-1)?.command, 'wisp.testCompletion', step.id);
      for (const button of buttons) assert.ok(commands.has(button.command), `${step.id}: ${button.command}`);
    }
  });

  it('has every media file it names', () => {
    for (const step of walkthroughs[0]!.steps) {
      const file = step.media.markdown ?? step.media.image;
      assert.ok(file && fs.existsSync(path.join(REPO_ROOT, file)), `${step.id}: ${file}`);
      // The packaged extension carries media/ (.vscodeignore).
      assert.ok(file.startsWith('media/'), file);
    }
  });

  it('says plainly what the bundled model is, and offers the recommended download with its size', () => {
    const [bundled, download, server] = walkthroughs[0]!.steps;
    assert.match(bundled!.description, /3\.45 M parameters/);
    assert.match(bundled!.description, /about 3% exact matches/);
    const offer = links(download!.description).find((l) => l.command === 'wisp.downloadModel');
    assert.deepEqual(offer?.args, [RECOMMENDED_MODEL.repo]);
    assert.ok(download!.title.includes(RECOMMENDED_MODEL.size), download!.title);
    assert.ok(download!.description.includes(RECOMMENDED_MODEL.variant));
    const media = fs.readFileSync(path.join(REPO_ROOT, download!.media.markdown!), 'utf8');
    assert.ok(media.includes(RECOMMENDED_MODEL.repo) && media.includes(RECOMMENDED_MODEL.variant));
    assert.deepEqual(
      links(server!.description).map((l) => l.command),
      ['wisp.useModelServer', 'wisp.setServerApiKey', 'wisp.testCompletion'],
    );
  });
});
