import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/project-root.js';

/** National identifier of the patient whose document is hostile (AT system). */
export const HOSTILE_PATIENT = { system: 'urn:oid:1.2.40.0.10.1.4.3.1', value: '9990010170' };

/**
 * Narrative a hostile or broken sender could write: scripts, event handlers, `javascript:` links,
 * CSS tricks, frames, forms, SVG, a base element and DOM clobbering. Each payload, if it ran,
 * would set `window.__pontisPwned` or call `alert`. A node refuses most of it at the door (txt-1:
 * script, handlers, style elements, frames, forms); {@link HOSTILE_VALID_NARRATIVE} is what gets
 * through FHIR validation, and so reaches the portal.
 */
export const HOSTILE_NARRATIVE =
  '<div xmlns="http://www.w3.org/1999/xhtml"><p>Allergy to penicillin</p>' +
  '<script>window.__pontisPwned = "script"; alert(1)</script>' +
  '<img src="x" onerror="window.__pontisPwned = \'onerror\'" />' +
  '<a href="javascript:window.__pontisPwned = \'link\'" id="hostile-link">open record</a>' +
  '<p style="position:fixed;top:0;left:0;width:100%;height:100%;background:red" onclick="window.__pontisPwned = \'click\'">overlay</p>' +
  '<style>body { display: none }</style>' +
  '<iframe src="javascript:alert(2)"></iframe>' +
  '<form action="https://evil.example/"><input name="q" /></form>' +
  '<svg onload="window.__pontisPwned = \'svg\'"><script>alert(3)</script></svg>' +
  '<base href="https://evil.example/" />' +
  '<span id="main-content" class="govuk-header">clobber</span>' +
  '<table><tr><td onmouseover="window.__pontisPwned = \'td\'">cell</td></tr></table></div>';

/**
 * The hostile narrative that FHIR's own narrative rule lets through: a `javascript:` link, a
 * full-page CSS overlay, an image beacon, an external link, and ids and classes of the page's own.
 */
export const HOSTILE_VALID_NARRATIVE =
  '<div xmlns="http://www.w3.org/1999/xhtml"><p>Allergy to penicillin</p>' +
  '<a href="javascript:window.__pontisPwned = \'link\'" id="hostile-link">open record</a> ' +
  '<a href="https://evil.example/phish">see full record</a>' +
  '<p style="position:fixed;top:0;left:0;width:100%;height:100%;background:red;z-index:9999" id="overlay">overlay</p>' +
  '<img src="https://evil.example/beacon.png" alt="beacon" />' +
  '<span id="main-content" class="govuk-header">clobber</span>' +
  '<table><tr><td>cell</td></tr></table></div>';

/** An IPS document (Anna Gruber's, renamed) whose allergy narrative is `narrative`. */
export function hostileDocument(narrative = HOSTILE_VALID_NARRATIVE): Record<string, any> {
  const bundle = JSON.parse(readFileSync(join(projectRoot(), 'seed', 'AT', 'at-anna-gruber.json'), 'utf8')) as Record<string, any>;
  bundle['identifier'] = { system: 'urn:oid:1.2.40.0.34.99.4613.1', value: '5b1d3c3e-0000-4000-8000-00000000bad1' };
  const patient = bundle['entry'].find((e: any) => e.resource.resourceType === 'Patient').resource;
  patient.identifier = [HOSTILE_PATIENT];
  patient.name = [{ family: 'Hostile', given: ['Harriet'] }];
  const composition = bundle['entry'][0].resource;
  composition.section[0].text.div = narrative;
  return bundle;
}
