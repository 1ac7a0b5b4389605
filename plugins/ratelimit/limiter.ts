/** What every backend answers for one request of one client. */
export interface Policy {
  readonly group: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface Decision {
  readonly success: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** When the budget is back, epoch milliseconds. */
  readonly reset: number;
}

export interface Limiter {
  limit(key: string, policy: Policy): Promise<Decision>;
}
