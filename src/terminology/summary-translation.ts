import { createHash } from 'node:crypto';
import type { Bundle } from 'fhir/r4.js';
import { LRUCache } from 'lru-cache';
import { chooseLanguage } from './language-tags.js';
import { documentLanguage, translateSummary, type TranslationCounts } from './summary-translator.js';
import type { TerminologyCatalogue } from './terminology-catalogue.js';

/** A summary as a reader gets it: the original bytes, or a translated copy. */
export interface ReaderCopy {
  bytes: Buffer;
  /** The language the reader got (the catalogue's, or the document's own); undefined when unknown. */
  language: string | undefined;
  /** Present when translated: how much was. */
  translation?: TranslationCounts;
}

/** What is known of one document: its language, and its translated copies by language. */
interface KnownDocument {
  language: string | undefined;
  translated: Map<string, ReaderCopy>;
  /** Bytes of the translated copies (for the content-keyed cache's budget). */
  bytes: number;
}

/** Translated copies kept per document (a node's readers mostly share one or two languages). */
const COPIES_PER_DOCUMENT = 2;
/** Bytes of translated copies kept for documents known by content (summaries from other nodes). */
const CONTENT_CACHE_BYTES = 16 * 2 ** 20;
/** Documents known by content at most (most are only a language, for readers of the original). */
const CONTENT_CACHE_DOCUMENTS = 1000;

/**
 * Serves summaries in their readers' languages at this node (docs/translation.md). Translating
 * the all-sections example costs about a millisecond (parse, walk, serialise), so copies are
 * reused: for a document stored here, by its Buffer (stored versions are immutable Buffers held
 * by the document cache; a copy is dropped with its Buffer); for one received from another node,
 * by the SHA-256 of its bytes, least recently used dropped first beyond a byte budget (lru-cache).
 * A reused copy's Provenance tells when it was first made.
 */
export class SummaryTranslation {
  private readonly byBuffer = new WeakMap<Buffer, KnownDocument>();
  /** Documents received from other nodes, by content digest, within the budgets. */
  private readonly byContent = new LRUCache<string, KnownDocument>({
    max: CONTENT_CACHE_DOCUMENTS,
    maxSize: CONTENT_CACHE_BYTES,
    sizeCalculation: (known) => Math.max(1, known.bytes),
  });
  /**
   * Digests of received Buffers seen before: the clinician's node passes a copy it accepted on
   * as the same Buffer while the home node reuses it, so it is not hashed again.
   */
  private readonly digests = new WeakMap<Buffer, string>();

  constructor(
    readonly catalogue: TerminologyCatalogue,
    private readonly translator: { baseUrl: string; country: string },
  ) {}

  /**
   * The copy of the summary `bytes` (serialised, already verified and validated) for a reader
   * whose language ranges are `ranges` (most wanted first). No range, `*`, the document's own
   * language or none the catalogue holds: the original bytes themselves.
   * `byContent`: the bytes may be fresh at each read (a summary from another node), so copies are
   * found again by digest rather than by Buffer.
   */
  copyFor(bytes: Buffer, ranges: readonly string[], options: { byContent?: boolean } = {}): ReaderCopy {
    if (ranges.length === 0) return { bytes, language: undefined };
    let bundle: Bundle | undefined;
    let digest: string | undefined;
    if (options.byContent) {
      digest = this.digests.get(bytes);
      if (digest === undefined) this.digests.set(bytes, (digest = createHash('sha256').update(bytes).digest('base64url')));
    }
    let known = digest === undefined ? this.byBuffer.get(bytes) : this.byContent.get(digest);
    if (!known) {
      bundle = JSON.parse(bytes.toString('utf8')) as Bundle;
      known = { language: documentLanguage(bundle), translated: new Map(), bytes: 0 };
      if (digest === undefined) this.byBuffer.set(bytes, known);
      else this.byContent.set(digest, known);
    }
    const choice = chooseLanguage(ranges, known.language, this.catalogue.languages);
    if (!choice.translate) return { bytes, language: known.language };
    const cached = known.translated.get(choice.language);
    if (cached) return cached;
    bundle ??= JSON.parse(bytes.toString('utf8')) as Bundle;
    const translation = translateSummary(bundle, { catalogue: this.catalogue, language: choice.language, chain: choice.chain, translator: this.translator });
    const copy: ReaderCopy = { bytes: Buffer.from(JSON.stringify(bundle), 'utf8'), language: choice.language, translation };
    if (known.translated.size >= COPIES_PER_DOCUMENT) {
      const [oldest, dropped] = known.translated.entries().next().value!;
      known.translated.delete(oldest);
      known.bytes -= dropped.bytes.length;
    }
    known.translated.set(choice.language, copy);
    known.bytes += copy.bytes.length;
    // Set again so that the cache counts the document's new size (and drops others to fit it).
    if (digest !== undefined) this.byContent.set(digest, known);
    return copy;
  }
}
