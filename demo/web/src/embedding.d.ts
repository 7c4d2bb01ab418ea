/** Types of embedding.js (plain JavaScript, shared with the Node script that embeds the data set). */

/** Dimensions of every embedding. */
export declare const DIMENSIONS: number;
/** Names the embedding function. */
export declare const MODEL_ID: string;

/** Document frequencies of the data set's features: what `embed` weighs features by. */
export interface EmbeddingModel {
  readonly id: string;
  readonly dimensions: number;
  readonly documents: number;
  readonly df: ReadonlyMap<string, number>;
}

/** The suffix-stripped form of a lower-case word. */
export declare function stem(word: string): string;
/** The content words of `text`, stemmed, in order. */
export declare function words(text: string): string[];
/** Feature → raw weight. */
export declare function features(text: string): Map<string, number>;
/** The model for a data set's texts. */
export declare function createModel(texts: readonly string[]): EmbeddingModel;
/** A unit-length embedding of `text`, or all zeros when it has no content word. */
export declare function embed(model: EmbeddingModel, text: string): Float32Array;
