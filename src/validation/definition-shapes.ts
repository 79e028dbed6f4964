/**
 * What the validator reads of the FHIR definitions, derived from the R4 types (`fhir/r4`): the
 * members it uses, so that the compacted definitions (dist/fhir-r4-base.json,
 * dist/profile-packages.json) and the package files under profiles/ both fit. The compacted ones
 * are not R4 resources (they lack `status`, and more), hence these names; a full definition read
 * from a package file is one of them, since it has every member named here.
 */
import type {
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  FhirResource,
  ElementDefinitionBase,
  ElementDefinitionConstraint,
  StructureDefinition,
  ValueSet,
} from 'fhir/r4.js';

/** The `fixed[x]` and `pattern[x]` members of an element definition (`fixedUri`, `patternCodeableConcept`, ...). */
type FixedAndPattern = Pick<ElementDefinition, Extract<keyof ElementDefinition, `fixed${string}` | `pattern${string}`>>;

/**
 * An element definition as `trimElement` keeps it: the base's maximum only, constraints without
 * their requirements and XPath, bindings without their description. `id` is required: snapshot
 * elements have one, and the tree hangs each element under its parent's id.
 */
export type CompactElementDefinition = Pick<ElementDefinition, 'path' | 'sliceName' | 'min' | 'max' | 'type' | 'contentReference' | 'slicing' | 'binding'> &
  FixedAndPattern & {
    id: string;
    base?: Pick<ElementDefinitionBase, 'max'>;
    constraint?: Pick<ElementDefinitionConstraint, 'key' | 'severity' | 'human' | 'expression'>[];
  };

/** A StructureDefinition as `compactStructureDefinition` keeps it: its identity, derivation and (trimmed) snapshot. */
export type CompactStructureDefinition = Pick<StructureDefinition, 'resourceType' | 'url' | 'name' | 'type' | 'kind' | 'baseDefinition' | 'derivation'> &
  Partial<Pick<StructureDefinition, 'abstract' | 'version'>> & {
    snapshot?: { element: CompactElementDefinition[] };
    differential?: { element: CompactElementDefinition[] };
  };

/** A CodeSystem concept as kept: its code and the concepts under it (the hierarchy filters walk). */
export type CompactConcept = Pick<CodeSystemConcept, 'code'> & { concept?: CompactConcept[] };

/** A CodeSystem as `trimTerminology` keeps it: what local expansion reads. */
export type CompactCodeSystem = Pick<CodeSystem, 'resourceType' | 'url' | 'version'> & Partial<Pick<CodeSystem, 'content'>> & { concept?: CompactConcept[] };

/** A ValueSet as `trimTerminology` keeps it: its composition, or its expansion when it has none. */
export type CompactValueSet = Pick<ValueSet, 'resourceType' | 'url' | 'compose' | 'expansion'>;

/** What a package gives the terminology: compact ValueSets and CodeSystems, or a package file's resources (others are ignored). */
export type PackageResource = FhirResource | CompactValueSet | CompactCodeSystem;
