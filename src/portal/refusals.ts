import type { Request } from '@hapi/hapi';
import { isResourceOf } from '../fhir/resources.js';
import type { MessageKey } from './i18n/en.js';
import type { NodeAnswer } from './node-api.js';
import { languageOf } from './portal-context.js';
import { Formats, translate } from './i18n.js';

/** A refusal as the clinician reads it: what happened, and what they can do. */
export interface RefusalView {
  status: number;
  message: string;
  todo: string | undefined;
}

/** The first message of an OperationOutcome, for refusals that are the clinician's to fix (400). */
function outcomeMessage(answer: NodeAnswer): string {
  const issue = isResourceOf(answer.body, 'OperationOutcome') ? answer.body.issue?.[0] : undefined;
  return (issue?.diagnostics ?? '').slice(0, 300);
}

/**
 * The node's refusal in plain words. A patient unknown at their home node and a patient who has
 * not consented get the same words (the node answers both alike, and so does the page); a home
 * node that cannot be reached, and a node that asks to try later, say so with what to do.
 */
export function refusalOf(request: Request, answer: NodeAnswer, country: string): RefusalView {
  const lang = languageOf(request);
  const t = (key: MessageKey, values?: Record<string, unknown>) => translate(lang, key, values);
  const countryName = Formats.of(lang).countryName(country);
  switch (answer.status) {
    case 403:
    case 404:
    case 410:
      return { status: answer.status, message: t('refusal_not_available', { country: countryName }), todo: t('refusal_not_available_todo') };
    case 400:
    case 422:
      return { status: answer.status, message: t('refusal_invalid', { message: outcomeMessage(answer) }), todo: undefined };
    case 429:
      return { status: 429, message: t('refusal_too_many'), todo: t('refusal_later_todo', { seconds: Number(answer.headers['retry-after'] ?? 60) || 60 }) };
    case 503:
      return { status: 503, message: t('refusal_later'), todo: t('refusal_later_todo', { seconds: Number(answer.headers['retry-after'] ?? 30) || 30 }) };
    case 502:
      // A peer's answer that could not be verified or validated is named as such (docs/exchange.md).
      if (/refused|does not meet|not FHIR|signature/i.test(outcomeMessage(answer)) && !/reach|connect/i.test(outcomeMessage(answer))) {
        return { status: 502, message: t('refusal_bad_answer', { country: countryName }), todo: t('refusal_unreachable_todo') };
      }
      return { status: 502, message: t('refusal_unreachable', { country: countryName }), todo: t('refusal_unreachable_todo') };
    case 504:
      return { status: 504, message: t('refusal_unreachable', { country: countryName }), todo: t('refusal_unreachable_todo') };
    default:
      return { status: answer.status >= 500 ? answer.status : 500, message: t('refusal_unexpected'), todo: undefined };
  }
}
