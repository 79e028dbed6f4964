import type { DefinitionRegistry } from './definitions.js';
import type { ElementNode } from './element-tree.js';
import { hl7ExtensionNotLoaded, unknownExtension } from './messages.js';
import type { ValidationIssue } from './validation-issue.js';
import type { Run } from './validation-run.js';

const HL7_EXTENSIONS = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Extensions whose definitions are not loaded. What they report is remembered by identity, so
 * that slicing can tell "fails the profile" from "carries an extension not known here", which
 * never makes a resource fail a slice's profile.
 */
export class ExtensionRules {
  private readonly issues = new WeakSet<ValidationIssue>();

  /**
   * @param severity how an unknown extension is reported (`warning` by default, `error` when configured).
   * @param knownExtensions canonicals known without their definitions loaded (the R4 core ones).
   */
  constructor(
    private readonly registry: DefinitionRegistry,
    private readonly severity: 'warning' | 'error',
    private readonly knownExtensions: ReadonlySet<string> | undefined,
  ) {}

  /**
   * An extension whose definition is not loaded: a warning by default, an error when configured;
   * a modifier extension always an error (it may change the meaning of what holds it). One of
   * HL7's own (`http://hl7.org/fhir/StructureDefinition/...` beyond the R4 core, e.g. the
   * extensions pack) is said once per validation as information. The relative urls of the parts
   * of a complex extension are names, not canonicals.
   */
  check(url: string, node: ElementNode, path: string, run: Run): void {
    if (url.indexOf(':') < 0 || this.registry.get(url) || this.knownExtensions?.has(url)) return;
    const modifier = node.path.endsWith('.modifierExtension');
    if (!modifier && url.startsWith(HL7_EXTENSIONS)) {
      if (run.unexpandable.has(url)) return;
      run.unexpandable.add(url);
      run.issues.push(hl7ExtensionNotLoaded(path, url));
      return;
    }
    const issue = unknownExtension(path, url, modifier, this.severity);
    if (!modifier) this.issues.add(issue);
    run.issues.push(issue);
  }

  /** Whether an issue says only that a (non-modifier) extension is not known here. */
  isUnknownExtension(issue: ValidationIssue): boolean {
    return this.issues.has(issue);
  }

  /** `placed` is `issue` moved to another path: it says the same. */
  moved(issue: ValidationIssue, placed: ValidationIssue): void {
    if (this.issues.has(issue)) this.issues.add(placed);
  }
}
