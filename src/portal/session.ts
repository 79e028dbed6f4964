import type { Request } from '@hapi/hapi';
import Boom from '@hapi/boom';

/** The signed-in person, as the identity provider's ID token describes them. */
export interface SignedInPerson {
  /** `sub` of the ID token: the subject of every token minted for them. */
  subject: string;
  kind: 'clinician' | 'patient';
  name: string;
  /** Clinicians: ISCO-08 role code, organisation name and identifier. */
  role?: string;
  organization?: string;
  organizationId?: string;
  /** Patients: their national identifier, `system|value`. */
  personId?: string;
}

/** Narrowing demographics a home node may need to tell patients apart. */
export interface ConsultationDemographics {
  family?: string;
  given?: string;
  birthdate?: string;
  gender?: string;
}

/** The minimal Patient the home node returns to confirm identity. */
export interface MinimalPatient {
  name: string;
  birthDate?: string;
  gender?: string;
  identifiers: Array<{ system: string; value: string }>;
}

/** One clinician's look-up of one patient: who, for what, and whether identity was confirmed. */
export interface Consultation {
  /** Country the patient comes from (peer directory). */
  country: string;
  system: string;
  value: string;
  demographics: ConsultationDemographics;
  purpose: 'TREAT' | 'ETREAT';
  /** Break-glass: why (mandatory with ETREAT). */
  reason?: string;
  patient?: MinimalPatient;
  confirmed?: boolean;
}

/** What the encrypted session cookie holds. */
export interface PortalSession {
  /** Random id, so that a signed-out session can be refused even if its cookie is replayed. */
  sid: string;
  person: SignedInPerson;
  /** When signed in and when last used (ms): the idle timeout and the absolute lifetime. */
  started: number;
  seen: number;
  consultation?: Consultation;
}

/** A session lasts at most this long, however active (ms). */
export const SESSION_MAX_AGE_MS = 12 * 3600_000;

/**
 * Sessions signed out in this process, until they would have expired anyway: a copied cookie of a
 * signed-out session is refused. (Per instance: a second instance would accept it until its idle
 * timeout; docs/portal.md.)
 */
export class SignedOutSessions {
  private readonly ended = new Map<string, number>();

  end(session: PortalSession): void {
    const now = Date.now();
    for (const [sid, until] of this.ended) if (until < now) this.ended.delete(sid);
    this.ended.set(session.sid, session.started + SESSION_MAX_AGE_MS);
  }

  has(sid: string): boolean {
    return this.ended.has(sid);
  }
}

/** The session of an authenticated portal request. */
export function sessionOf(request: Request): PortalSession {
  const session = request.auth.credentials as unknown as PortalSession | undefined;
  if (!session?.person) throw Boom.unauthorized();
  return session;
}

/** The session, if the person is of `kind`; a 403 page otherwise. */
export function sessionOfKind(request: Request, kind: SignedInPerson['kind']): PortalSession {
  const session = sessionOf(request);
  if (session.person.kind !== kind) throw Boom.forbidden(kind === 'clinician' ? 'clinicians-only' : 'patients-only');
  return session;
}
