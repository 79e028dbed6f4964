import type { NodeConfig } from '../config.js';
import type { CheckpointWitness } from '../audit/checkpoint-witness.js';
import type { AccessLogService } from '../services/access-log-service.js';
import type { ConsentService } from '../services/consent-service.js';
import type { PatientService } from '../services/patient-service.js';
import type { SummaryService } from '../services/summary-service.js';
import type { Exchange } from '../exchange/exchange.js';
import type { CrossBorderService } from '../services/cross-border-service.js';
import type { SummaryTranslation } from '../terminology/summary-translation.js';
import type { Validator } from '../validation/index.js';

/** What route handlers are given: the services and the node's configuration. */
export interface RouteContext {
  config: NodeConfig;
  summaries: SummaryService;
  patients: PatientService;
  consents: ConsentService;
  accessLog: AccessLogService;
  validator: Validator;
  /** Fetching from other Member States; absent when the node has no peer directory. */
  crossBorder: CrossBorderService | undefined;
  /** The peer directory and this node's signing key, for signing what peers receive. */
  exchange: Exchange | undefined;
  /** Summaries in their readers' languages (Accept-Language); absent when the node has no catalogue. */
  translation?: SummaryTranslation | undefined;
  /** Witnessing of the peers' audit checkpoints; absent when the node has no peers. */
  witness?: CheckpointWitness | undefined;
}
