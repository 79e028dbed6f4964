/**
 * Withholding sections of an IPS document (EHDS Art. 8). A withheld section stays in the
 * Composition, so the document is still a valid IPS (required sections remain present): its
 * entries are removed, its narrative is replaced, and `emptyReason` says `withheld`
 * (list-empty-reason). Resources no longer referenced from anywhere leave the Bundle, and the
 * Bundle is labelled REDACTED in `meta.security`. The reader learns that something was withheld,
 * never what.
 */

import type { Bundle, BundleEntry, CodeableConcept, Coding, CompositionSection, Narrative } from 'fhir/r4.js';
import { visitReferences } from '../documents/reference-resolver.js';
import { isResourceOf, type ParsedObject } from '../fhir/resources.js';

const WITHHELD: CodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'withheld', display: 'Information Withheld' }],
  text: 'withheld at the patient\'s request',
};
const REDACTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };
const NARRATIVE: Narrative = {
  status: 'generated',
  // Written here in English, whatever the document's language: it says so (a translated copy names
  // the language of every narrative that does not).
  div: '<div xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">This section is withheld at the patient\'s request.</div>',
};

function sectionCode(section: CompositionSection): string | undefined {
  return section.code?.coding?.find((c) => c.system === 'http://loinc.org')?.code;
}

/** Resolves a reference to the fullUrl it names in this Bundle. */
function targetOf(reference: string, fullUrls: ReadonlyMap<string, string>): string | undefined {
  return fullUrls.get(reference);
}

/**
 * A copy of `bundle` (a stored IPS document, so valid: a Bundle, or its JSON as parsed) with the
 * sections whose LOINC code is in `withheld` emptied, and the resources only they referenced
 * removed. The input is not changed; the copy has the input's type.
 */
export function withholdSections<T extends Bundle | ParsedObject = Bundle>(bundle: T, withheld: ReadonlySet<string>): T {
  const original = structuredClone(bundle);
  // Stored documents were validated against the IPS Bundle profile before they were stored.
  const copy = original as Bundle;
  const entries: BundleEntry[] = copy.entry ?? [];
  const first = entries[0]?.resource;
  const composition = isResourceOf(first, 'Composition') ? first : undefined;
  const sections = composition?.section ?? [];
  let changed = false;
  for (const section of sections) {
    const code = sectionCode(section);
    if (code === undefined || !withheld.has(code)) continue;
    delete section.entry;
    delete section.section;
    section.text = NARRATIVE;
    section.emptyReason = WITHHELD;
    changed = true;
  }
  if (!changed) return original;

  // Keep what is reachable from the Composition, following references through kept resources.
  const fullUrls = new Map<string, string>();
  entries.forEach((e) => {
    const { fullUrl, resource } = e;
    if (typeof fullUrl !== 'string' || !resource) return;
    fullUrls.set(fullUrl, fullUrl);
    if (typeof resource.resourceType === 'string' && typeof resource.id === 'string') {
      fullUrls.set(`${resource.resourceType}/${resource.id}`, fullUrl);
    }
  });
  const byUrl = new Map(entries.map((e) => [e.fullUrl, e]));
  const kept = new Set<string | undefined>([entries[0]!.fullUrl]);
  const queue = [entries[0]!];
  while (queue.length > 0) {
    const refs = new Set<string>();
    visitReferences(queue.pop()!.resource, (reference) => refs.add(reference));
    for (const ref of refs) {
      const url = targetOf(ref, fullUrls);
      if (url !== undefined && !kept.has(url)) {
        kept.add(url);
        queue.push(byUrl.get(url)!);
      }
    }
  }
  copy.entry = entries.filter((e) => kept.has(e.fullUrl));
  const meta = copy.meta ?? {};
  const security = (meta.security ?? []).filter((s) => s.code !== REDACTED.code);
  copy.meta = { ...meta, security: [...security, REDACTED] };
  return original;
}
