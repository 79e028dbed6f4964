/** One finding of the validator, located by FHIRPath. */
export interface ValidationIssue {
  severity: 'error' | 'warning' | 'information';
  code: 'structure' | 'required' | 'value' | 'invariant' | 'not-supported' | 'invalid';
  /** FHIRPath with indexes, e.g. `Bundle.entry[4].resource.section[1].entry[0]`. */
  expression: string;
  message: string;
  /** Key of the violated constraint, when there is one (`ips-1`, `dom-3`). */
  key?: string;
}
