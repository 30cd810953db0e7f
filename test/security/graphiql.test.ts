// GraphiQL in a real browser (Debian's Chromium, driven headless by playwright-core; no browser
// download): served by the server itself under its Content-Security-Policy, the page loads, a
// typed query returns data, and the console shows no policy violation. Production has no page.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type BrowserContext } from 'playwright-core'
import { buildTestApp, createTestDatabase, JWT_SECRET, type TestDatabase } from '../helpers/app.js'
import { startServer, type ServerProcess } from '../helpers/child.js'
import { REQUIRE_SERVICES, TEST_REDIS_URL } from '../helpers/services.js'

const CHROMIUM = '/usr/bin/chromium'
// without Debian's Chromium the browser test skips saying so; with REQUIRE_SERVICES=1 (CI) that is a failure
if (!existsSync(CHROMIUM) && REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${CHROMIUM} is missing: apt-get install chromium`)
const SKIP = existsSync(CHROMIUM) ? '' : ` [skipped: needs ${CHROMIUM}; apt-get install chromium]`
if (SKIP) console.warn(`[skipped]${SKIP.slice(10, -1)}`)

let db: TestDatabase
beforeAll(async () => { db = await createTestDatabase() })
afterAll(async () => { await db?.drop() })

describe.skipIf(SKIP !== '')(`GraphiQL in development${SKIP}`, () => {
  let server: ServerProcess
  let browser: BrowserContext
  let profile: string
  beforeAll(async () => {
    server = await startServer({
      NODE_ENV: 'development', DATABASE_URL: db.url, JWT_SECRET
    })
    profile = mkdtempSync(join(tmpdir(), 'bastion-chromium-'))
    // a fresh profile (--user-data-dir) per run
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']
    })
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    server?.child.kill('SIGTERM')
    await server?.exited
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('loads under its CSP, runs a typed query, and logs no CSP violation', async () => {
    const page = await browser.newPage()
    const console: string[] = []
    page.on('console', (msg) => console.push(`${msg.type()}: ${msg.text()}`))
    page.on('pageerror', (err) => console.push(`pageerror: ${err.message}`))
    const violations: string[] = []
    await page.exposeFunction('reportViolation', (v: string) => { violations.push(v) })
    // runs in the page, before its scripts (a string: this project's TypeScript has no DOM types)
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    })
    const res = await page.goto(`${server.url}/graphiql`)
    expect(res?.status()).toBe(200)
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/)

    const editor = page.locator('.graphiql-query-editor .CodeMirror')
    await editor.waitFor({ timeout: 30_000 })
    await editor.click()
    await page.keyboard.press('Control+A')
    await page.keyboard.press('Delete')
    await page.keyboard.type('{ user(id: "2") { name } }')
    await page.locator('.graphiql-execute-button').click()
    const response = page.locator('.graphiql-response')
    await expect.poll(async () => (await response.innerText()).replace(/\s+/g, ' '), { timeout: 20_000 })
      .toContain('"name": "Alan Lovelace"')
    expect(violations).toEqual([])
    expect(console.filter((line) => /Content.Security.Policy|Refused to/i.test(line))).toEqual([])
    await page.close()
  }, 60_000)
})

describe.skipIf(!TEST_REDIS_URL)('GraphiQL in production', () => {
  it('is not served: /graphiql and its assets are 404', async () => {
    const app = await buildTestApp(db.url, { NODE_ENV: 'production', REDIS_URL: TEST_REDIS_URL })
    try {
      for (const url of ['/graphiql', '/graphiql/graphiql.js', '/graphiql/start.js']) {
        expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404)
      }
    } finally {
      await app.close()
    }
  })
})
