/** RFC3339 to the second, UTC, as DataArts' read-only times are documented (`yyyy-mm-ddTHH:MM:SSZ`). */
export const rfc3339Seconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
