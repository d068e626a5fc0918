// /openapi.json (generated from the zod contracts, the same document as contracts/generated),
// /asyncapi.json (the events on the wire, contracts/asyncapi.ts), /docs: the OpenAPI document
// rendered by Swagger UI (swagger-ui-dist), and /docs/events: the AsyncAPI document rendered by
// the AsyncAPI React component's standalone bundle (@asyncapi/react-component, a build-time
// dependency whose two files the image copies). Every asset is served from here (no CDN; no inline
// script, so a strict Content-Security-Policy holds).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import { renderAsyncApi } from '../contracts/asyncapi.ts';
import { EVENT_CONTRACTS } from '../contracts/events.ts';
import { renderOpenApi } from '../contracts/generate.ts';
import { HTTP_ROUTES } from '../contracts/http-api.ts';
import { eventVersions, UPCASTERS } from '../contracts/upcasters.ts';
import type { BffState } from './request.middleware.ts';

const resolvePackage = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
const SWAGGER_UI = resolvePackage('swagger-ui-dist');
const ASYNCAPI_UI = resolvePackage('@asyncapi/react-component');

/** The files of the docs page: Swagger UI's bundle and styles, and the line that starts it. */
const ASSETS: Record<string, { type: string; body: string | Buffer }> = {
  'swagger-ui-bundle.js': {
    type: 'application/javascript',
    body: readFileSync(join(SWAGGER_UI, 'swagger-ui-bundle.js')),
  },
  'swagger-ui.css': { type: 'text/css', body: readFileSync(join(SWAGGER_UI, 'swagger-ui.css')) },
  'start.js': {
    type: 'application/javascript',
    body: `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true });\n`,
  },
  'asyncapi-standalone.js': {
    type: 'application/javascript',
    body: readFileSync(join(ASYNCAPI_UI, 'browser', 'standalone', 'index.js')),
  },
  'asyncapi.css': { type: 'text/css', body: readFileSync(join(ASYNCAPI_UI, 'styles', 'default.min.css')) },
  'events-start.js': {
    type: 'application/javascript',
    body: `AsyncApiStandalone.render({ schema: { url: '/asyncapi.json' }, config: { show: { sidebar: true } } }, document.getElementById('events'));\n`,
  },
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Durable-workflow backend API</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head><body>
<p style="font-family:system-ui,sans-serif;margin:1rem">Machine-readable: <a href="/openapi.json">/openapi.json</a>; the events on the wire: <a href="/docs/events">/docs/events</a> (<a href="/asyncapi.json">/asyncapi.json</a>).</p>
<div id="api"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body></html>
`;

const EVENTS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Durable-workflow backend events</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/asyncapi.css">
</head><body>
<p style="font-family:system-ui,sans-serif;margin:1rem">The HTTP API: <a href="/docs">/docs</a>; machine-readable: <a href="/asyncapi.json">/asyncapi.json</a>.</p>
<div id="events"></div>
<script src="/docs/assets/asyncapi-standalone.js"></script>
<script src="/docs/assets/events-start.js"></script>
</body></html>
`;

/** No script but our own files; styles may be inline (both renderers set element styles). */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";
/**
 * The AsyncAPI renderer's bundle validates documents with ajv, which compiles each JSON Schema into
 * a function when the bundle loads: that page also allows `eval`, still only for scripts from here.
 */
const EVENTS_PAGE_POLICY = `${PAGE_POLICY}; script-src 'self' 'unsafe-eval'`;

export function docsRoutes(): Router<BffState> {
  const document = renderOpenApi(HTTP_ROUTES);
  const events = renderAsyncApi(eventVersions(EVENT_CONTRACTS, UPCASTERS));
  const router = new Router<BffState>();
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  router.get('/asyncapi.json', (ctx) => {
    ctx.body = events;
  });
  for (const [path, page, policy] of [
    ['/docs', PAGE, PAGE_POLICY],
    ['/docs/events', EVENTS_PAGE, EVENTS_PAGE_POLICY],
  ] as const) {
    router.get(path, (ctx) => {
      ctx.type = 'text/html';
      ctx.set('Content-Security-Policy', policy);
      ctx.body = page;
    });
  }
  router.get('/docs/assets/:file', (ctx) => {
    const name = ctx.params.file ?? '';
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return; // 404 problem+json from the fallback
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });
  return router;
}
