/**
 * oidc-provider's storage for the demo identity provider: sessions, interactions, codes and
 * grants in a Map of this process, each dropped when it expires. Our own (rather than the
 * library's development adapter) so that it is explicit that the demo keeps nothing across a
 * restart, and expired entries do not accumulate.
 */
type Payload = Record<string, unknown> & { uid?: string; userCode?: string; grantId?: string; consumed?: number };

type Entries = Map<string, { payload: Payload; expires: number }>;

/** An adapter class with storage of its own: one per identity provider, so that two never share. */
export function demoMemoryAdapter(): new (name: string) => DemoMemoryAdapter {
  const stores = new Map<string, Entries>();
  return class extends DemoMemoryAdapter {
    constructor(name: string) {
      let found = stores.get(name);
      if (!found) {
        found = new Map();
        stores.set(name, found);
      }
      super(name, found);
    }
  };
}

/** Storage of one kind of oidc-provider model (Session, Interaction, AuthorizationCode...). */
export class DemoMemoryAdapter {
  constructor(
    readonly name: string,
    private readonly entries: Entries,
  ) {}

  private live(id: string): Payload | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
    this.entries.set(id, { payload, expires: now + expiresIn * 1000 });
  }

  async find(id: string): Promise<Payload | undefined> {
    return this.live(id);
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    for (const [id, entry] of this.entries) if (entry.payload.uid === uid) return this.live(id);
    return undefined;
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    for (const [id, entry] of this.entries) if (entry.payload.userCode === userCode) return this.live(id);
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.live(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [id, entry] of this.entries) if (entry.payload.grantId === grantId) this.entries.delete(id);
  }
}
