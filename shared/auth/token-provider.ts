/** Where the HTTP layer gets its bearer token. */

export interface TokenProvider {
  /** A token valid for a while yet; `forceRefresh` after the API said 401. */
  getToken(options?: { forceRefresh?: boolean; signal?: AbortSignal }): Promise<string>;
  /** False for a fixed token: a 401 cannot be cured by asking again. */
  readonly canRefresh: boolean;
}

/** A ready-made bearer token (MDE_ACCESS_TOKEN): used as is, never refreshed. */
export class StaticTokenProvider implements TokenProvider {
  readonly canRefresh = false;
  constructor(private readonly token: string) {}
  getToken(): Promise<string> {
    return Promise.resolve(this.token);
  }
}
