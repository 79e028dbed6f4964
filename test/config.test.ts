import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has defaults for a local node on the embedded store', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', mongodbUri: undefined, country: 'AT', logLevel: 'info', maxPayloadBytes: 5 * 1024 * 1024 });
    expect(config.baseUrl).toBe('http://127.0.0.1:8080/fhir');
    expect(config.mongodbDatabase).toBe('pontis_at');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      MONGODB_URI: 'mongodb://db:27017',
      PONTIS_COUNTRY: 'pt',
      PONTIS_BASE_URL: 'https://ncp.example.pt/fhir/',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', mongodbUri: 'mongodb://db:27017', country: 'PT', baseUrl: 'https://ncp.example.pt/fhir', logLevel: 'warn', mongodbDatabase: 'pontis_pt' });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PONTIS_COUNTRY', 'Austria'],
    ['MONGODB_URI', 'postgres://db'],
    ['LOG_LEVEL', 'loud'],
    ['PONTIS_BASE_URL', 'not a url'],
    ['PONTIS_MAX_PAYLOAD_BYTES', '-1'],
  ])('refuses an invalid %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('bounds the connect timeout of peer calls by their total timeout', () => {
    expect(loadConfig({})).toMatchObject({ peerTimeoutMs: 5000, peerConnectTimeoutMs: 2000 });
    expect(loadConfig({ PONTIS_PEER_TIMEOUT_MS: '1500' })).toMatchObject({ peerTimeoutMs: 1500, peerConnectTimeoutMs: 1500 });
    expect(() => loadConfig({ PONTIS_PEER_TIMEOUT_MS: '1500', PONTIS_PEER_CONNECT_TIMEOUT_MS: '3000' })).toThrow(/PONTIS_PEER_CONNECT_TIMEOUT_MS" must be at most PONTIS_PEER_TIMEOUT_MS/);
  });
});
