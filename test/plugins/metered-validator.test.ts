import { describe, expect, it } from '@jest/globals';
import { NodeMetrics } from '../../src/plugins/metrics.js';
import { DEFAULT_PROFILE_PACKAGES, OffloadingValidator, type Validator } from '../../src/validation/index.js';
import { minimal, sharedValidator } from '../support/test-node.js';

/** How many validations the node's histogram has counted. */
async function counted(metrics: NodeMetrics): Promise<number> {
  const metric = await metrics.validation.get();
  return metric.values.find((v) => v.metricName === 'pontis_validation_duration_seconds_count')?.value ?? 0;
}

describe('the validator as the node uses it, timed', () => {
  it("passes on every way of checking a document the validator offers, each timed, so that pushes keep the validator's fastest path", async () => {
    const metrics = new NodeMetrics();
    // Inline (the threshold is never reached): the same methods as on the pool, without starting it.
    const validator: Validator = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, Number.MAX_SAFE_INTEGER, {}, 1);
    const metered = metrics.metered(validator);
    const document = minimal();
    const text = JSON.stringify(document);
    for (const method of ['validate', 'checkDocument', 'checkPush', 'checkPushText'] as const) expect(typeof metered[method]).toBe('function');
    expect(await metered.checkPush!(text, document)).toEqual(await validator.checkPush!(text, document));
    expect(await metered.checkPushText!(text)).toEqual(await validator.checkPushText!(text));
    expect(await metered.checkDocument!(text, document)).toEqual(await validator.checkDocument!(text, document));
    expect(await counted(metrics)).toBe(3);
  });

  it('offers no more than the validator does', () => {
    const inline = sharedValidator();
    const metered = new NodeMetrics().metered(inline);
    expect(metered.checkPush).toBeUndefined();
    expect(metered.checkPushText).toBeUndefined();
    expect(metered.validate(minimal())).toEqual(inline.validate(minimal()));
  });
});
