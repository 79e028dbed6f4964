import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TrustList } from '../../src/auth/trust-list.js';
import { loadConfig } from '../../src/config.js';
import { PeerDirectory } from '../../src/exchange/peer-directory.js';
import { projectRoot } from '../../src/project-root.js';
import { sharedValidator } from '../support/test-node.js';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so what it tells the nodes is checked
 * with the code that reads it at start-up: each node would start, and the two are each other's
 * peers. The exchange itself between two processes is test/exchange/cross-border.test.ts.
 */

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(join(projectRoot(), 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const nodes = Object.entries(compose.services).filter(([, s]) => s.environment?.['PONTIS_COUNTRY'] !== undefined);

describe('docker-compose.yml', () => {
  it('runs two nodes of different countries, each on its own database, waiting for MongoDB', () => {
    expect(nodes.map(([, s]) => s.environment!['PONTIS_COUNTRY']).sort()).toEqual(['AT', 'PT']);
    expect(new Set(nodes.map(([, s]) => s.environment!['MONGODB_DATABASE'])).size).toBe(2);
    expect(new Set(nodes.map(([, s]) => s.ports?.[0]?.split(':')[0])).size).toBe(2);
    for (const [, s] of nodes) {
      expect(s.environment!['MONGODB_URI']).toBe('mongodb://mongodb:27017');
      expect(s.depends_on?.['mongodb']?.condition).toBe('service_healthy');
    }
  });

  it.each(nodes)('gives %s a configuration its start-up accepts, and the other node as its peer', async (name, service) => {
    // As in the image (Dockerfile): port 8080 on all interfaces.
    const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080', ...service.environment });
    expect(config.baseUrl).toBe(`http://${name}:8080/fhir`);
    expect(sharedValidator().knows(config.documentProfile)).toBe(true);
    const trust = await TrustList.load(config.trustListPath);
    const directory = PeerDirectory.load(config.peerDirectoryPath, config.country, trust, config.peerUrls);
    const [other] = nodes.filter(([n]) => n !== name);
    const peer = directory.peers().find((p) => p.country === other![1].environment!['PONTIS_COUNTRY']);
    expect(peer?.baseUrl).toBe(other![1].environment!['PONTIS_BASE_URL']);
    expect(directory.self.baseUrl).toBe(config.baseUrl);
  });
});
