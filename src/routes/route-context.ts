import type { NodeConfig } from '../config.js';
import type { PatientRepository } from '../repositories/patient-repository.js';
import type { SummaryService } from '../services/summary-service.js';
import type { Validator } from '../validation/index.js';

/** What route handlers are given: the services and the node's configuration. */
export interface RouteContext {
  config: NodeConfig;
  summaries: SummaryService;
  patients: PatientRepository;
  validator: Validator;
}
