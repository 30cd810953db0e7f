// GraphiQL at /graphiql (development only: GRAPHIQL, refused in production), served entirely by
// this server: React, ReactDOM and GraphiQL from their npm packages (@fastify/static), plus a
// page and a start-up script of our own, so the Content-Security-Policy stays 'self' (mercurius's
// own page loads them from a public CDN, which a strict policy or an offline network blocks).
// Its policy (scripts and styles from 'self', fonts and images also as data: URLs) applies to
// these routes alone; every other response keeps default-src 'none'.
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { domains } from '../graphql/domain.js'
import { API_HELMET, helmetHeaders } from './security.js'

export interface GraphiqlOptions { config: Config, graphqlPath: string }

const require = createRequire(import.meta.url)
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`))

// URL under /graphiql/ -> [package, file inside it]
const ASSETS: Record<string, [string, string]> = {
  'react.js': ['react', 'umd/react.production.min.js'],
  'react-dom.js': ['react-dom', 'umd/react-dom.production.min.js'],
  'graphiql.js': ['graphiql', 'graphiql.min.js'],
  'graphiql.css': ['graphiql', 'graphiql.min.css']
}

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  connectSrc: ["'self'"],
  // GraphiQL's CSS embeds its fonts and icons as data: URLs (the only loosening)
  fontSrc: ["'self'", 'data:'],
  imgSrc: ["'self'", 'data:'],
  styleSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"]
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.css">
<link rel="stylesheet" href="/graphiql/page.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
<script src="/graphiql/react.js"></script>
<script src="/graphiql/react-dom.js"></script>
<script src="/graphiql/graphiql.js"></script>
<script src="/graphiql/start.js"></script>
</body>
</html>
`

const PAGE_CSS = 'html, body, #graphiql { height: 100%; margin: 0; }\n'

// the first domain's example (src/domain/index.ts), or the one query every schema answers
const EXAMPLE_QUERY = domains.find((domain) => domain.exampleQuery)?.exampleQuery ?? '{ __typename }'

const start = (graphqlPath: string) => `'use strict'
// POST with content-type application/json: passes CSRF prevention without extra headers
const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(graphqlPath)} })
ReactDOM.createRoot(document.getElementById('graphiql'))
  .render(React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(EXAMPLE_QUERY)} }))
`

// Not fastify-plugin: the hook and the static decorators stay inside these routes.
export default async function graphiqlPlugin (app: FastifyInstance, { config, graphqlPath }: GraphiqlOptions) {
  if (!config.GRAPHIQL) return
  const csp = helmetHeaders({ ...API_HELMET, contentSecurityPolicy: { useDefaults: false, directives: CSP } })['content-security-policy']
  app.addHook('onRequest', function graphiqlContentSecurityPolicy (_request, reply, done) {
    reply.header('content-security-policy', csp)
    done()
  })
  await app.register(fastifyStatic, { root: packageDir('graphiql'), serve: false })
  // a developer tool on a developer's machine: not worth a request from their limit
  const route = { config: { rateLimit: false } }
  const script = start(graphqlPath)
  app.get('/graphiql', route, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))
  app.get('/graphiql/page.css', route, async (_request, reply) => reply.type('text/css; charset=utf-8').send(PAGE_CSS))
  app.get('/graphiql/start.js', route, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(script))
  for (const [name, [pkg, file]] of Object.entries(ASSETS)) {
    const root = packageDir(pkg)
    app.get(`/graphiql/${name}`, route, (_request, reply) => reply.sendFile(file, root))
  }
}
