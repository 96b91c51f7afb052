// The part of autocannon 8's API that bench/load uses (the package ships no types and @types/autocannon is not
// installed; adding a dependency for four fields is not worth it).
declare module 'autocannon' {
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Called before each request; answers the request to send. */
    setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }
  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    /** A number of requests to send in all, instead of a duration. */
    amount?: number;
    /** Seconds before a request counts as a timeout (10 by default). */
    timeout?: number;
    pipelining?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: Request[];
  }
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }
  export interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    mismatches: number;
    resets: number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }
  export interface Instance extends PromiseLike<Result> {
    stop(): void;
    on(event: 'reqError', fn: (err: Error) => void): this;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
