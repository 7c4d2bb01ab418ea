/**
 * Text embeddings for the semantic-search panel, with no model to download:
 * a TF-IDF weighted bag of word stems and their character trigrams (so that
 * "galaxy" and "galaxies", "migrate" and "migration" meet), projected onto
 * DIMENSIONS dimensions by signed feature hashing (each feature adds ± its
 * weight at PROBES hashed positions), then L2-normalised.
 * Cosine distance between two embeddings then tracks the rare words and
 * word pieces the texts share.
 *
 * Plain JavaScript with no imports and nothing but the language's own
 * built-ins, so that the same code runs in Node (scripts/build-semantic-data.mjs
 * embeds the data set once, offline, and the output is committed) and in the
 * page (semantic-panel.ts embeds the user's query): identical input gives
 * bit-identical float32 vectors in both. The IDF weights are derived from the
 * data set's texts, which ship with the vectors. Types: embedding.d.ts.
 */

/** Dimensions of every embedding. */
export const DIMENSIONS = 384;

/** Names this embedding function; a change to it must change this name (and the data set). */
export const MODEL_ID = 'hashed-trigram-tfidf-384-v1';

/** Weights of the two kinds of feature (tuned on the data set's leave-one-out neighbours). */
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.3;
/** Positions each feature is hashed to: more spread the collisions of 384 buckets thinner. */
const PROBES = 4;

const STOP_WORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers him his how i if in ' +
    'into is it its itself just me might more most must my no nor not now of off on once only or other our ours out over own same ' +
    'she should so some such than that the their theirs them then there these they this those through to too under until up upon ' +
    'us very was we were what when where which while who whom why will with within without would you your yours'
  ).split(' '),
);

/** Lower case, accents removed. */
function normalise(text) {
  return String(text).toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/** A light suffix stripper: plurals, -ing, -ed, -ly (then a doubled final consonant). */
export function stem(word) {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  let stripped = false;
  if (w.length > 5 && w.endsWith('ing')) {
    w = w.slice(0, -3);
    stripped = true;
  } else if (w.length > 4 && w.endsWith('ed')) {
    w = w.slice(0, -2);
    stripped = true;
  } else if (w.length > 4 && w.endsWith('ly')) {
    w = w.slice(0, -2);
  }
  if (stripped && w.length > 3 && w[w.length - 1] === w[w.length - 2] && !/[lsz]/.test(w[w.length - 1])) w = w.slice(0, -1);
  return w;
}

/** The content words of `text`, stemmed, in order. */
export function words(text) {
  const out = [];
  for (const m of normalise(text).matchAll(/[a-z0-9]+/g)) {
    const w = m[0];
    if (w.length < 2 || STOP_WORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** Feature → raw weight (term frequency times the feature kind's weight). */
export function features(text) {
  const out = new Map();
  const add = (f, w) => out.set(f, (out.get(f) ?? 0) + w);
  for (const w of words(text)) {
    add(`w:${w}`, WORD_WEIGHT);
    const padded = `<${w}>`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, TRIGRAM_WEIGHT);
  }
  return out;
}

/** FNV-1a over UTF-16 code units, 32 bits. */
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: spreads the bits of a 32-bit integer. */
function mix(h) {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The model: document frequencies of every feature over `texts` (the data
 * set), from which each feature's inverse document frequency comes.
 */
export function createModel(texts) {
  const df = new Map();
  for (const t of texts) for (const f of features(t).keys()) df.set(f, (df.get(f) ?? 0) + 1);
  return { id: MODEL_ID, dimensions: DIMENSIONS, documents: texts.length, df };
}

/** Smoothed inverse document frequency; a feature the data set never has gets the highest. */
function idf(model, feature) {
  return Math.log((1 + model.documents) / (1 + (model.df.get(feature) ?? 0))) + 1;
}

/**
 * The embedding of `text`: DIMENSIONS float32s of unit length, or all zeros
 * when the text has no content word (only stop words, or nothing).
 */
export function embed(model, text) {
  const acc = new Float64Array(DIMENSIONS);
  const feats = [...features(text)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [f, tf] of feats) {
    const weight = (tf * idf(model, f)) / Math.sqrt(PROBES);
    const h = fnv1a(f);
    for (let p = 0; p < PROBES; p++) {
      const x = mix(h + Math.imul(p + 1, 0x9e3779b9));
      acc[x % DIMENSIONS] += mix(x ^ 0x5bd1e995) & 1 ? -weight : weight;
    }
  }
  let norm = 0;
  for (let i = 0; i < DIMENSIONS; i++) norm += acc[i] * acc[i];
  norm = Math.sqrt(norm);
  const out = new Float32Array(DIMENSIONS);
  if (norm > 0) for (let i = 0; i < DIMENSIONS; i++) out[i] = acc[i] / norm;
  return out;
}
