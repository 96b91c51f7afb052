import { CliError, EXIT } from './exit.ts';

interface Envelope {
  error?: { code?: string; message?: string; details?: unknown };
}

/**
 * Unwraps an openapi-fetch answer: its data, or a CliError (exit 2) carrying the server's error code and
 * message; a service that cannot be reached is exit 2 too.
 */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let res: { data?: T; error?: unknown; response: Response };
  try {
    res = await call;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach the service: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      EXIT.usage,
    );
  }
  if (res.error !== undefined || !res.response.ok) {
    const env = (res.error ?? {}) as Envelope;
    const code = env.error?.code ?? `HTTP_${res.response.status}`;
    const message = env.error?.message ?? (typeof res.error === 'string' ? res.error : res.response.statusText);
    const details = env.error?.details !== undefined ? `\n${JSON.stringify(env.error.details)}` : '';
    throw new CliError(`${code}: ${message} (HTTP ${res.response.status})${details}`, EXIT.usage);
  }
  return res.data as T;
}
