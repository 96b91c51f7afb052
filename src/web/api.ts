/**
 * The native API from the browser. The token lives in sessionStorage (this tab only, gone when it closes) and is
 * sent as `Authorization: Bearer`, never in a URL: server-sent events are read with fetch() and a stream reader,
 * because EventSource cannot send headers.
 */
const TOKEN_KEY = 'batchgate.token';
const WS_KEY = 'batchgate.workspace';

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(v: string | null) {
    if (v === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, v);
  },
  get workspace(): string | null {
    return sessionStorage.getItem(WS_KEY);
  },
  set workspace(v: string | null) {
    if (v === null) sessionStorage.removeItem(WS_KEY);
    else sessionStorage.setItem(WS_KEY, v);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WS_KEY);
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = session.token;
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

/** Listeners told when the server refuses the token, so the shell can send the user back to sign-in. */
export const onUnauthorized = new Set<() => void>();

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: headers(body !== undefined ? { 'content-type': 'application/json', ...extraHeaders } : extraHeaders),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    // The stored token was refused (expired, revoked): not a sign-in attempt, which passes its own header.
    if (res.status === 401 && session.token && !extraHeaders.authorization) for (const f of onUnauthorized) f();
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? `${method} ${path} answered ${res.status}.`,
    );
  }
  return parsed as T;
}

/** `/workspaces/{current}` + path. */
export function wsPath(path: string): string {
  const ws = session.workspace;
  if (!ws) throw new ApiError(0, 'NO_WORKSPACE', 'Choose a workspace first.');
  return `/workspaces/${encodeURIComponent(ws)}${path}`;
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads a text/event-stream with fetch (Authorization header, no token in the URL), calling `onEvent` per event.
 * Resolves when the server ends the stream or `signal` aborts; rejects on an HTTP or network error.
 */
export async function readEvents(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(`/api/v1${path}`, {
    headers: headers({ accept: 'text/event-stream' }),
    signal,
    cache: 'no-store',
  });
  if (!res.ok || !res.body)
    throw new ApiError(res.status, `HTTP_${res.status}`, `The progress stream answered ${res.status}.`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n?/g, '\n');
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length) onEvent({ event, data: data.join('\n') });
      }
    }
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  } finally {
    reader.releaseLock();
  }
}
