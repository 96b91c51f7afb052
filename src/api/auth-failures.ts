/**
 * Failed authentications per client address, counted in memory by each process: after `limit` failures within
 * one window, requests from that address that carry no valid token answer 429 TOO_MANY_AUTH_FAILURES with
 * Retry-After until the window ends. Requests with a valid token are never refused: the address is often a
 * whole office behind one NAT (or the reverse proxy in front of us), and one script looping on a revoked token
 * must not lock its colleagues out. What the limit takes away is guessing tokens and flooding the token lookup
 * from one place.
 *
 * Memory is bounded: at most `maxAddresses` windows are tracked; past that the oldest window is forgotten
 * (an address cycling through more addresses than that gets a fresh count, not our memory).
 */
export interface AuthFailureOptions {
  /** Failures allowed per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** 10,000 windows of ~100 bytes each: about 1 MB at most. */
  maxAddresses?: number;
  now?: () => number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT = 20;
export const DEFAULT_AUTH_FAILURE_WINDOW_SECONDS = 60;
const DEFAULT_MAX_ADDRESSES = 10_000;

interface Window {
  since: number;
  count: number;
}

/**
 * The key an address is counted under: IPv4 as is (an IPv4-mapped IPv6 address is its IPv4 address), IPv6 by
 * its /64 prefix, which one host usually holds whole and could otherwise rotate through freely.
 */
export function clientKey(ip: string): string {
  // A socket already closed has no remote address: all such requests share one count.
  if (!ip) return '';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':') || ip.includes('.')) return ip;
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The settings as buildApp and the worker's metrics app take them (docs/operations.md: Configuration). */
export interface AuthFailureSettings {
  authFailureLimit?: number;
  authFailureWindowSeconds?: number;
  authFailureMaxAddresses?: number;
  /** The limiter's clock (ms); Date.now unless a test injects its own. */
  authFailureNow?: () => number;
}

/** A limiter for one app, from its settings; every app whose routes authenticate needs one. */
export function authFailureLimiter(s: AuthFailureSettings): AuthFailureLimiter {
  return new AuthFailureLimiter({
    limit: s.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT,
    windowMs: (s.authFailureWindowSeconds ?? DEFAULT_AUTH_FAILURE_WINDOW_SECONDS) * 1000,
    ...(s.authFailureMaxAddresses !== undefined ? { maxAddresses: s.authFailureMaxAddresses } : {}),
    ...(s.authFailureNow ? { now: s.authFailureNow } : {}),
  });
}

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(opts: AuthFailureOptions) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.maxAddresses = opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until `ip` may be refused no more (for Retry-After), or 0 when it is not over the limit. */
  retryAfter(ip: string): number {
    // Asked twice by every request: with no failures anywhere, skip the address's key (a regex per call).
    if (this.limit <= 0 || this.windows.size === 0) return 0;
    const key = clientKey(ip);
    const w = this.windows.get(key);
    if (!w) return 0;
    const left = w.since + this.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one failed authentication from `ip`; true when that failure reached the limit. */
  fail(ip: string): boolean {
    if (this.limit <= 0) return false;
    const key = clientKey(ip);
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.since + this.windowMs <= now) {
      // Re-inserted, so the map stays ordered by window start and the first entry is the oldest.
      this.windows.delete(key);
      w = { since: now, count: 0 };
      this.windows.set(key, w);
      while (this.windows.size > this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    }
    w.count++;
    return w.count === this.limit;
  }

  /** Addresses tracked now (for tests of the memory bound). */
  get size(): number {
    return this.windows.size;
  }
}
