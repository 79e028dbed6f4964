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

/** Translated copies kept per stored document (a node's readers mostly share one or two languages). */
const COPIES_PER_DOCUMENT = 2;

/**
 * Serves summaries in their readers' languages at this node (docs/translation.md). Translated
 * copies of the same stored bytes are reused: stored versions are immutable Buffers held by the
 * document cache, and a copy is dropped with its Buffer.
 */
export class SummaryTranslation {
  private readonly copies = new WeakMap<Buffer, { language: string | undefined; translated: Map<string, ReaderCopy> }>();

  constructor(
    readonly catalogue: TerminologyCatalogue,
    private readonly translator: { baseUrl: string; country: string },
  ) {}

  /**
   * The copy of the summary `bytes` (serialised, already verified and validated) for a reader
   * whose language ranges are `ranges` (most wanted first). No range, `*`, the document's own
   * language or none the catalogue holds: the original bytes themselves.
   */
  copyFor(bytes: Buffer, ranges: readonly string[]): ReaderCopy {
    if (ranges.length === 0) return { bytes, language: undefined };
    let bundle: Record<string, unknown> | undefined;
    let known = this.copies.get(bytes);
    if (!known) {
      bundle = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      known = { language: documentLanguage(bundle), translated: new Map() };
      this.copies.set(bytes, known);
    }
    const choice = chooseLanguage(ranges, known.language, this.catalogue.languages);
    if (!choice.translate) return { bytes, language: known.language };
    const cached = known.translated.get(choice.language);
    if (cached) return cached;
    bundle ??= JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const translation = translateSummary(bundle, { catalogue: this.catalogue, language: choice.language, chain: choice.chain, translator: this.translator });
    const copy: ReaderCopy = { bytes: Buffer.from(JSON.stringify(bundle), 'utf8'), language: choice.language, translation };
    if (known.translated.size >= COPIES_PER_DOCUMENT) known.translated.delete(known.translated.keys().next().value!);
    known.translated.set(choice.language, copy);
    return copy;
  }
}
