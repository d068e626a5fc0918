// /openapi.json (generated from the zod contracts, the same document as contracts/generated),
// /asyncapi.json (the events on the wire, contracts/asyncapi.ts) and /docs, a plain HTML page.
import Router from '@koa/router';
import { renderAsyncApi } from '../contracts/asyncapi.ts';
import { EVENT_CONTRACTS } from '../contracts/events.ts';
import { eventVersions, UPCASTERS } from '../contracts/upcasters.ts';
import { renderOpenApi } from '../contracts/generate.ts';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import type { BffState } from './request.middleware.ts';

interface OpenApiOperation {
  operationId: string;
  summary: string;
  'x-required-access': string;
  parameters: { name: string; in: string; required: boolean; description?: string; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content: Record<string, { schema: unknown }> }>;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

export function renderDocsPage(document: {
  info: { title: string; description: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
}): string {
  const sections = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = op.parameters
        .map(
          (p) =>
            `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td>${escape(p.description ?? '')}${json(p.schema)}</td></tr>`,
        )
        .join('');
      const body = op.requestBody
        ? `<h4>Body (application/json)</h4>${json(op.requestBody.content['application/json']?.schema)}`
        : '';
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<tr><td>${status}</td><td>${escape(r.description)}</td></tr>`)
        .join('');
      return `<section id="${op.operationId}"><h2><code>${method.toUpperCase()} ${escape(path)}</code></h2>
<p>${escape(op.summary)} — access: <b>${escape(op['x-required-access'])}</b>, auth: <code>Authorization: Bearer &lt;JWT&gt;</code></p>
<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${params}</table>${body}
<h4>Responses</h4><table><tr><th>status</th><th>meaning (error codes)</th></tr>${responses}</table></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(document.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;text-align:left}pre{margin:0;font-size:.8rem}</style>
</head><body><h1>${escape(document.info.title)}</h1><p>${escape(document.info.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a>; the events: <a href="/asyncapi.json">/asyncapi.json</a>.</p>
${sections.join('\n')}</body></html>`;
}

export function docsRoutes(): Router<BffState> {
  const document = renderOpenApi(HTTP_ROUTES) as Parameters<typeof renderDocsPage>[0];
  const page = renderDocsPage(document);
  const router = new Router<BffState>();
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  const events = renderAsyncApi(eventVersions(EVENT_CONTRACTS, UPCASTERS));
  router.get('/asyncapi.json', (ctx) => {
    ctx.body = events;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html';
    ctx.body = page;
  });
  return router;
}
