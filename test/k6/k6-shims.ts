// Just enough of k6's built-in modules to load the scripts in Node: options and thresholds are
// read from the real modules, and setup()/default()/handleSummary() run with requests recorded
// and answered by the test instead of sent.
export interface Sent { url: string, body: string, params: { headers: Record<string, string>, tags: Record<string, string>, responseCallback?: unknown } }
export interface Answer { status: number, body: string }

interface State {
  sent: Sent[]
  checks: Array<{ name: string, ok: boolean, tags: Record<string, string> }>
  answer: (req: Sent) => Answer
  vu: { idInTest: number, iterationInScenario: number }
  reset (): void
}

// on globalThis: vi.resetModules() (to reload the scripts with another __ENV) re-creates this
// module, and the scripts' mocks and the test must still share one state
const g = globalThis as { __k6shim?: State }
export const k6: State = g.__k6shim ??= {
  sent: [] as Sent[],
  checks: [],
  answer: () => ({ status: 200, body: '{"data":null}' }),
  vu: { idInTest: 1, iterationInScenario: 0 },
  reset () {
    this.sent.length = 0
    this.checks.length = 0
    this.vu.idInTest = 1
    this.vu.iterationInScenario = 0
    this.answer = () => ({ status: 200, body: '{"data":null}' })
  }
}

function response (a: Answer) {
  return {
    ...a,
    // res.json('a.b.c'): k6 takes a GJSON path; the scripts use plain dotted ones
    json: (path?: string) => (path ?? '').split('.').filter(Boolean).reduce((v: any, key) => v?.[key], JSON.parse(a.body))
  }
}

export const modules = {
  k6: {
    check (val: unknown, sets: Record<string, (v: unknown) => boolean>, tags: Record<string, string> = {}) {
      let all = true
      for (const [name, fn] of Object.entries(sets)) {
        const ok = fn(val)
        k6.checks.push({ name, ok, tags })
        all &&= ok
      }
      return all
    },
    sleep () {}
  },
  http: {
    default: {
      expectedStatuses: (...statuses: number[]) => ({ expectedStatuses: statuses }),
      post (url: string, body: string, params: Sent['params']) {
        const req = { url, body, params }
        k6.sent.push(req)
        return response(k6.answer(req))
      }
    }
  },
  execution: { default: { vu: k6.vu, scenario: { startTime: Date.now() } } },
  metrics: { Gauge: class { add () {} } },
  encoding: {
    default: { b64decode: (s: string, _enc: string, format?: string) => format === 's' ? Buffer.from(s, 'base64url').toString('utf8') : Buffer.from(s, 'base64url') }
  }
}
