import { readFileSync } from 'node:fs';
import Joi from 'joi';
import type { TrustList } from '../auth/trust-list.js';

/** One Member State node as the directory lists it. */
export interface PeerNode {
  country: string;
  /** FHIR base URL of its API. */
  baseUrl: string;
  /** The issuer its tokens and signatures come from; its keys are in the trust list. */
  issuer: string;
  /** National identifier systems it is the home of. */
  identifierSystems: readonly string[];
}

const directorySchema = Joi.object({
  description: Joi.string(),
  nodes: Joi.array()
    .items(
      Joi.object({
        country: Joi.string().pattern(/^[A-Z]{2}$/).required(),
        baseUrl: Joi.string().uri({ scheme: ['http', 'https'] }).required(),
        issuer: Joi.string().uri().required(),
        identifierSystems: Joi.array().items(Joi.string().min(1)).min(1).required(),
      }),
    )
    .unique('country')
    .min(1)
    .required(),
});

/** Raised when the directory cannot be used; the node refuses to start. */
export class PeerDirectoryError extends Error {
  override name = 'PeerDirectoryError';
}

/**
 * The Member State nodes this node exchanges with: where each is, which identifier systems it is
 * the home of, and which issuer (in the trust list) signs its tokens and summaries. Read from a
 * JSON file at start-up (docs/exchange.md); checked against the trust list.
 */
export class PeerDirectory {
  private readonly bySystem = new Map<string, PeerNode>();
  private constructor(
    private readonly nodes: ReadonlyMap<string, PeerNode>,
    /** This node's own entry. */
    readonly self: PeerNode,
  ) {
    for (const node of nodes.values()) for (const system of node.identifierSystems) this.bySystem.set(system, node);
  }

  /** Loads a directory file; `overrides` replace base URLs by country (tests, `pontis demo`). */
  static load(path: string, ownCountry: string, trust: TrustList, overrides: Record<string, string> = {}): PeerDirectory {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new PeerDirectoryError(`peer directory ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    return PeerDirectory.from(raw, ownCountry, trust, overrides);
  }

  /** Builds a directory from its JSON form. */
  static from(raw: unknown, ownCountry: string, trust: TrustList, overrides: Record<string, string> = {}): PeerDirectory {
    const { value, error } = directorySchema.validate(raw, { abortEarly: false });
    if (error) throw new PeerDirectoryError(`peer directory is invalid: ${error.details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; ')}`);
    const nodes = new Map<string, PeerNode>();
    const systems = new Set<string>();
    for (const node of value.nodes as PeerNode[]) {
      const issuer = trust.issuer(node.issuer);
      if (!issuer || issuer.kind !== 'peer-node' || issuer.country !== node.country) {
        throw new PeerDirectoryError(`peer directory: ${node.country}'s issuer ${node.issuer} is not a peer-node of ${node.country} in the trust list`);
      }
      for (const s of node.identifierSystems) {
        if (systems.has(s)) throw new PeerDirectoryError(`peer directory: identifier system ${s} has two home countries`);
        systems.add(s);
      }
      nodes.set(node.country, { ...node, baseUrl: (overrides[node.country] ?? node.baseUrl).replace(/\/+$/, '') });
    }
    const self = nodes.get(ownCountry);
    if (!self) throw new PeerDirectoryError(`peer directory has no entry for this node's country ${ownCountry}`);
    return new PeerDirectory(nodes, self);
  }

  /** The node that is home to identifier system `system`, if any. */
  homeOf(system: string): PeerNode | undefined {
    return this.bySystem.get(system);
  }

  /** The node of `country`, if listed. */
  node(country: string): PeerNode | undefined {
    return this.nodes.get(country);
  }

  /** Every listed node but this one. */
  peers(): PeerNode[] {
    return [...this.nodes.values()].filter((n) => n !== this.self);
  }
}
