// The clients of the chaos tier, each behaving like a real one: an intended change keeps its
// Idempotency-Key until it is acknowledged (retried after a 503, a 409 "send it again", a broken
// connection or a timeout), so at the end every intended change is acknowledged and must be stored
// exactly once. Some clients are slow (the body trickles in, or the headers never end) and some give
// up mid-request (aborted, or the connection cut halfway through the body) before retrying.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { sleep } from '../../cli/stack/processes.ts';

/** What happened to one HTTP attempt; `status` 0 is a broken connection, a timeout or an abort. */
export interface Attempt {
  status: number;
  ms: number;
  at: number;
  error?: string;
  body?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

/** Every attempt of every client, for the figures and for the list of unexpected answers. */
export interface Tally {
  attempts: number;
  byStatus: Record<string, number>;
  /** Answers no client should ever see: a 5xx other than 503, a 4xx other than a 409 to retry. */
  unexpected: string[];
}

export const newTally = (): Tally => ({ attempts: 0, byStatus: {}, unexpected: [] });

/** 503 (a dependency is down) and 409 IDEMPOTENCY_IN_FLIGHT / VERSION_CONFLICT ("send it again") are retried. */
const RETRIED_CONFLICTS = new Set(['IDEMPOTENCY_IN_FLIGHT', 'VERSION_CONFLICT']);

function count(tally: Tally, attempt: Attempt, what: string, ok: (status: number) => boolean): void {
  tally.attempts++;
  const label = attempt.status === 0 ? `connection: ${attempt.error ?? 'error'}` : String(attempt.status);
  tally.byStatus[label] = (tally.byStatus[label] ?? 0) + 1;
  const expected =
    attempt.status === 0 ||
    attempt.status === 503 ||
    ok(attempt.status) ||
    (attempt.status === 409 && RETRIED_CONFLICTS.has(String(attempt.body?.code)));
  if (!expected) tally.unexpected.push(`${what}: ${attempt.status} ${JSON.stringify(attempt.body)}`);
}

/** A problem+json or JSON answer as an object; anything else (an HTML page, nothing) as its text. */
function parsed(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text: text.slice(0, 200) };
  }
}

type Send = { method: string; url: string; headers: Record<string, string>; body: string };

/** One attempt over fetch, given up after `timeoutMs` or when `abortAfterMs` passes (an impatient client). */
async function viaFetch(send: Send, timeoutMs: number, abortAfterMs?: number): Promise<Attempt> {
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), abortAfterMs ?? timeoutMs);
  try {
    const response = await fetch(send.url, {
      method: send.method,
      headers: send.headers,
      body: send.body,
      signal: controller.signal,
    });
    const body = parsed(await response.text());
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status,
      ms: Date.now() - started,
      at: started,
      body,
      ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
  } catch (error) {
    const reason = controller.signal.aborted
      ? abortAfterMs !== undefined
        ? 'aborted by the client'
        : 'timeout'
      : ((error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
    return { status: 0, ms: Date.now() - started, at: started, error: reason };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One attempt over a raw HTTP/1.1 request whose body is written one byte every `byteMs` (a slow
 * client); with `cutAfterBytes` the connection is destroyed after that many bytes (an abort mid-body).
 */
function trickled(send: Send, byteMs: number, timeoutMs: number, cutAfterBytes?: number): Promise<Attempt> {
  const started = Date.now();
  const bytes = Buffer.from(send.body);
  return new Promise<Attempt>((resolve) => {
    const fail = (error: string) => resolve({ status: 0, ms: Date.now() - started, at: started, error });
    const req = request(send.url, {
      method: send.method,
      headers: { ...send.headers, 'content-length': String(bytes.length) },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(cutAfterBytes !== undefined ? 'cut by the client' : (error.code ?? error.message));
    });
    req.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, ms: Date.now() - started, at: started, body: parsed(text) });
      });
      response.on('error', () => fail('response cut'));
    });
    void (async () => {
      for (let i = 0; i < bytes.length; i++) {
        if (req.destroyed) return;
        if (i === cutAfterBytes) {
          req.destroy(new Error('cut by the client'));
          return;
        }
        req.write(bytes.subarray(i, i + 1));
        await sleep(byteMs);
      }
      req.end();
    })();
  });
}

/** How the first attempt of each change is made; retries are always plain. */
export type FirstAttempt =
  { kind: 'plain' } | { kind: 'slow'; byteMs: number } | { kind: 'aborted'; maxMs: number } | { kind: 'cut-mid-body' };

/**
 * A client that sends one change after another to one endpoint, each under its own Idempotency-Key
 * kept until the change is acknowledged. `ok` is the acknowledging status (200 or 202).
 */
export function idempotentClient(options: {
  name: string;
  method?: string;
  url: string;
  token: string;
  ok: number;
  tally: Tally;
  first?: FirstAttempt;
}) {
  const first = options.first ?? { kind: 'plain' };
  let pending: { key: string; body: unknown; tries: number } | undefined;
  const acknowledged: { key: string; body: unknown; answer: Record<string, unknown> }[] = [];
  return {
    name: options.name,
    acknowledged,
    get pending() {
      return pending !== undefined;
    },
    /** Starts a new change (the previous one must be acknowledged). */
    begin(body: unknown, key: string = randomUUID()) {
      if (pending) throw new Error(`${options.name}: a change is still pending`);
      pending = { key, body, tries: 0 };
    },
    /** One attempt at the pending change; resolves with what happened (acknowledged when status = ok). */
    async attempt(timeoutMs = 10_000): Promise<Attempt> {
      if (!pending) throw new Error(`${options.name}: nothing pending`);
      const send: Send = {
        method: options.method ?? 'POST',
        url: options.url,
        headers: {
          authorization: `Bearer ${options.token}`,
          'idempotency-key': pending.key,
          'content-type': 'application/json',
        },
        body: JSON.stringify(pending.body),
      };
      const firstTry = pending.tries++ === 0;
      let attempt: Attempt;
      if (!firstTry || first.kind === 'plain') attempt = await viaFetch(send, timeoutMs);
      else if (first.kind === 'aborted') attempt = await viaFetch(send, timeoutMs, Math.random() * first.maxMs);
      else if (first.kind === 'slow') {
        // Spaces are valid JSON: a body long enough to take seconds at one byte per byteMs.
        send.body = `${send.body.slice(0, -1)}${' '.repeat(24)}}`;
        attempt = await trickled(send, first.byteMs, 60_000);
      } else attempt = await trickled(send, 20, timeoutMs, Math.floor(send.body.length / 2));
      count(options.tally, attempt, options.name, (status) => status === options.ok);
      if (attempt.status === options.ok) {
        acknowledged.push({ key: pending.key, body: pending.body, answer: attempt.body ?? {} });
        pending = undefined;
      }
      return attempt;
    },
  };
}

export type IdempotentClient = ReturnType<typeof idempotentClient>;

/**
 * Attempts the pending change until it is acknowledged, waiting as told (Retry-After) or briefly;
 * `deadline` is read before each attempt (it is unbounded until the test starts draining).
 */
export async function untilAcknowledged(client: IdempotentClient, deadline: () => number): Promise<void> {
  while (client.pending && Date.now() < deadline()) {
    const attempt = await client.attempt();
    if (!client.pending) return;
    await sleep(attempt.retryAfterSeconds ? Math.min(attempt.retryAfterSeconds, 5) * 1000 : 250);
  }
}

/**
 * Slowloris: connections that send request headers one line every few seconds and never finish,
 * kept at `size` (reopened when the server closes one). They must not keep anyone else waiting.
 */
export function slowHeaders(base: string, size: number) {
  const url = new URL(base);
  const sockets = new Set<Socket>();
  let stopped = false;
  const figures = { opened: 0, closedByServer: 0 };
  const open = () => {
    if (stopped) return;
    figures.opened++;
    const socket = connect(Number(url.port), url.hostname);
    sockets.add(socket);
    let line = 0;
    const drip = setInterval(() => socket.write(`X-Slow-${line++}: ${'x'.repeat(8)}\r\n`), 2_000);
    socket.on('connect', () => socket.write(`GET /readyz HTTP/1.1\r\nHost: ${url.host}\r\n`));
    socket.on('error', () => undefined); // a reset is how the server (or its death) ends it
    socket.on('close', () => {
      clearInterval(drip);
      sockets.delete(socket);
      if (!stopped) {
        figures.closedByServer++;
        setTimeout(open, 500);
      }
    });
  };
  for (let i = 0; i < size; i++) open();
  return {
    figures,
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}
