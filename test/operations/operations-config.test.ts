import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('operations settings', () => {
  it('defaults: no metrics listener or token, no trace export, no shutdown delay, 10 s drain, 1 s ready ping', () => {
    expect(loadConfig({}).operations).toEqual({ metricsPort: undefined, metricsHost: '127.0.0.1', metricsToken: undefined, shutdownDelayMs: 0, drainTimeoutMs: 10_000, readyTimeoutMs: 1000, otlp: undefined });
  });

  it('exports spans only with an endpoint, to /v1/traces of the base or to the traces endpoint as given, with the standard headers', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).operations.otlp).toEqual({ url: 'http://collector:4318/v1/traces', serviceName: 'pontis', headers: {} });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom', OTEL_SERVICE_NAME: 'pontis-at', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%3Dcret,x-tenant=at' }).operations.otlp,
    ).toEqual({ url: 'http://b:4318/custom', serviceName: 'pontis-at', headers: { 'api-key': 's=cret', 'x-tenant': 'at' } });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' }).operations.otlp).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' }).operations.otlp).toBeUndefined();
  });

  it.each([
    [{ PONTIS_METRICS_TOKEN: 'short' }, 'PONTIS_METRICS_TOKEN'],
    [{ PONTIS_METRICS_PORT: '8080', PORT: '8080' }, 'PONTIS_METRICS_PORT'],
    [{ PONTIS_METRICS_PORT: 'ninety' }, 'PONTIS_METRICS_PORT'],
    [{ PONTIS_SHUTDOWN_DELAY_MS: '-1' }, 'PONTIS_SHUTDOWN_DELAY_MS'],
    [{ PONTIS_DRAIN_TIMEOUT_MS: '10' }, 'PONTIS_DRAIN_TIMEOUT_MS'],
    [{ PONTIS_READY_TIMEOUT_MS: '0' }, 'PONTIS_READY_TIMEOUT_MS'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'no pairs here' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
  ])('refuses %j, naming the variable', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${variable}:`));
  });
});
