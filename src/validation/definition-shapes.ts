/**
 * The shapes of the FHIR definitions the validator reads: only the members it uses, so that the
 * compacted base definitions (dist/fhir-r4-base.json) and the packages under profiles/ both fit.
 */

/** The parts of an ElementDefinition the validator reads. */
export interface ElementDefinition {
  id: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  base?: { path: string; min: number; max: string };
  type?: { code: string; profile?: string[]; targetProfile?: string[]; extension?: { url: string; valueUrl?: string }[] }[];
  contentReference?: string;
  slicing?: { discriminator?: { type: string; path: string }[]; rules?: 'open' | 'closed' | 'openAtEnd'; ordered?: boolean };
  constraint?: { key: string; severity: 'error' | 'warning'; human: string; expression?: string }[];
  binding?: { strength: string; valueSet?: string };
  [fixedOrPattern: string]: unknown;
}

/** The parts of a StructureDefinition the validator reads. */
export interface StructureDefinition {
  resourceType: 'StructureDefinition';
  url: string;
  version?: string;
  name: string;
  type: string;
  kind: 'primitive-type' | 'complex-type' | 'resource' | 'logical';
  abstract?: boolean;
  baseDefinition?: string;
  derivation?: 'specialization' | 'constraint';
  snapshot?: { element: ElementDefinition[] };
  differential?: { element: ElementDefinition[] };
}
