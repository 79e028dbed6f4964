// The parts of oidc-provider (9.x, which ships no types) that the demo identity provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Grant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }
  export interface KoaContextWithOIDC {
    type: string;
    body: unknown;
    oidc: {
      client?: { clientId: string };
      session?: { accountId?: string; grantIdFor(clientId: string): string | undefined };
      provider: { Grant: { new (options: { clientId: string; accountId: string }): Grant; find(id: string): Promise<Grant | undefined> } };
    };
  }
  export interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }
  export type Configuration = Record<string, unknown> & {
    interactions?: { url(ctx: KoaContextWithOIDC, interaction: { uid: string }): string };
    loadExistingGrant?(ctx: KoaContextWithOIDC): Promise<Grant | undefined>;
    findAccount?(ctx: KoaContextWithOIDC, subject: string): Promise<Account | undefined>;
    renderError?(ctx: KoaContextWithOIDC, out: Record<string, unknown>, error: unknown): Promise<void>;
  };
  export interface InteractionDetails {
    uid: string;
    prompt: { name: string };
  }
  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }
}
