// A model folder in the Hugging Face ONNX layout (what transformers.js reads):
//   config.json, tokenizer.json, tokenizer_config.json, [generation_config.json], onnx/<variant>.onnx
// Reading one either succeeds or says precisely what is missing or wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';

export class ModelFolderError extends Error {}

export interface ModelFolder {
  dir: string;
  /** The graph to run. */
  onnxPath: string;
  variant: string;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** Preference when the user has not named a variant: exact float graphs first, so KV reuse is exact. */
export const VARIANT_PREFERENCE = [
  'model.onnx',
  'model_quantized.onnx',
  'model_int8.onnx',
  'model_q4.onnx',
  'model_fp16.onnx',
  'decoder_model_merged.onnx',
];

function readJson(file: string, what: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ModelFolderError(`${what} is missing: ${file}`);
  }
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ModelFolderError(`${what} is not valid JSON (${(err as Error).message}): ${file}`);
  }
}

export function listVariants(dir: string): string[] {
  const onnxDir = path.join(dir, 'onnx');
  let names: string[] = [];
  try {
    names = fs.readdirSync(onnxDir).filter((n) => n.endsWith('.onnx'));
  } catch {
    // A folder with no onnx/ subfolder may still hold model.onnx at its top level.
  }
  const top = fs.existsSync(path.join(dir, 'model.onnx')) ? ['../model.onnx'] : [];
  return [...names, ...top];
}

export function chooseVariant(available: string[], requested: string | undefined): string | undefined {
  if (requested && requested !== 'auto') {
    const wanted = requested.endsWith('.onnx') ? requested : `${requested}.onnx`;
    return available.includes(wanted) ? wanted : undefined;
  }
  for (const name of VARIANT_PREFERENCE) if (available.includes(name)) return name;
  return available.includes('../model.onnx') ? '../model.onnx' : available[0];
}

export function readModelFolder(dir: string, requestedVariant?: string): ModelFolder {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new ModelFolderError(`model folder does not exist: ${dir}`);
  }
  if (!stat.isDirectory()) throw new ModelFolderError(`model path is not a folder: ${dir}`);
  const config = readJson(path.join(dir, 'config.json'), 'config.json', true);
  const tokenizerJson = readJson(path.join(dir, 'tokenizer.json'), 'tokenizer.json', true);
  const tokenizerConfig = readJson(path.join(dir, 'tokenizer_config.json'), 'tokenizer_config.json', false);
  const generationConfig = readJson(path.join(dir, 'generation_config.json'), 'generation_config.json', false);
  const available = listVariants(dir);
  if (available.length === 0) {
    throw new ModelFolderError(`no ONNX graph in ${path.join(dir, 'onnx')} (expected e.g. onnx/model.onnx)`);
  }
  const variant = chooseVariant(available, requestedVariant);
  if (!variant) {
    throw new ModelFolderError(
      `the variant '${requestedVariant}' is not in ${path.join(dir, 'onnx')} (there: ${available.join(', ')})`,
    );
  }
  return {
    dir,
    onnxPath: path.join(dir, 'onnx', variant),
    variant,
    config,
    generationConfig,
    tokenizerJson,
    tokenizerConfig,
  };
}
