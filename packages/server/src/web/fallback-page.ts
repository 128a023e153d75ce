/**
 * What `/` answers when the web app has not been built (a server started with PARLEY_WEB_BUILD=never,
 * or from an installation without the web package's build tools): a page saying how to get the app and
 * what answers meanwhile. It has no script and no inline style, so the app's policy applies unchanged.
 */
export const fallbackPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Parley</title></head>
<body>
<h1>Parley is running</h1>
<p>The web app is not built in this installation. Build it with <code>npm run build -w packages/web</code>
(<code>parley serve</code> does it by itself unless <code>PARLEY_WEB_BUILD=never</code>). The API answers here:</p>
<ul>
<li><a href="/api/health">/api/health</a>: version and database status</li>
<li><a href="/api/openapi.json">/api/openapi.json</a>: every route, as OpenAPI 3.1</li>
<li><code>POST /api/auth/login</code> with <code>{"address","password"}</code> to sign in</li>
<li><code>/api/realtime</code>: the WebSocket for presence and events (see <code>packages/sdk</code>)</li>
</ul>
</body></html>
`;
