/**
 * SMART on FHIR v2 scopes (`system/Bundle.cru`, `user/*.rs`, `patient/Consent.crus`): what a
 * token lets its bearer do, intersected with what its issuer may grant (see the trust list).
 */

/** Who a scope speaks for: a system, a user (clinician), or the patient themself. */
export type ScopeContext = 'system' | 'user' | 'patient';
/** SMART v2 permissions: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One parsed scope. */
export interface Scope {
  context: ScopeContext;
  /** A resource type, or `*`. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
}

const SCOPE = /^(system|user|patient)\/([A-Z][A-Za-z]{0,63}|\*)\.(c?r?u?d?s?)$/;

/** Parses one scope; undefined for scopes that are not SMART v2 resource scopes (ignored). */
export function parseScope(text: string): Scope | undefined {
  const m = SCOPE.exec(text);
  if (!m || m[3] === '') return undefined;
  return { context: m[1] as ScopeContext, resourceType: m[2]!, permissions: new Set(m[3]!.split('') as Permission[]) };
}

/** Parses a space-separated `scope` claim, keeping the SMART v2 resource scopes. */
export function parseScopes(claim: string): Scope[] {
  return claim
    .split(' ')
    .map(parseScope)
    .filter((s): s is Scope => s !== undefined);
}

/** Whether `granted` covers `permission` on `resourceType` in `context`. */
function covers(granted: Scope, context: ScopeContext, resourceType: string, permission: Permission): boolean {
  return (
    granted.context === context &&
    (granted.resourceType === '*' || granted.resourceType === resourceType) &&
    granted.permissions.has(permission)
  );
}

/** Whether any of `scopes` allows `permission` on `resourceType`, in any context. */
export function allows(scopes: readonly Scope[], resourceType: string, permission: Permission): boolean {
  return scopes.some((s) => covers(s, s.context, resourceType, permission));
}

/**
 * The part of `requested` that `grantable` covers: each requested scope keeps only the
 * permissions some grantable scope of the same context and type (or `*`) has.
 */
export function intersectScopes(requested: readonly Scope[], grantable: readonly Scope[]): Scope[] {
  const out: Scope[] = [];
  for (const r of requested) {
    const kept = [...r.permissions].filter((p) =>
      r.resourceType === '*'
        ? grantable.some((g) => g.context === r.context && g.resourceType === '*' && g.permissions.has(p))
        : grantable.some((g) => covers(g, r.context, r.resourceType, p)),
    );
    if (kept.length > 0) out.push({ context: r.context, resourceType: r.resourceType, permissions: new Set(kept) });
  }
  return out;
}

/** A scope back in its text form. */
export function formatScope(scope: Scope): string {
  const order: Permission[] = ['c', 'r', 'u', 'd', 's'];
  return `${scope.context}/${scope.resourceType}.${order.filter((p) => scope.permissions.has(p)).join('')}`;
}
