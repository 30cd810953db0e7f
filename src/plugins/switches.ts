// Runtime switches (src/switches/): held in Redis, spread by pub/sub, re-read on every reconnect
// and every SWITCHES_REFRESH_S. Registered by the GraphQL plugin right after Mercurius, so the
// operation guard runs before authorization and cost. Without Redis the switches live in this
// process only (app.switches.replace; READ_ONLY is the start-up default of `Mutation`).
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import type { Config } from '../config.js'
import { refuseMutations } from '../graphql/read-only.js'
import { EMPTY, fieldSwitcher, operationGuard, stateOf, type SwitchState } from '../switches/guard.js'
import { readSwitches, switchesChannel } from '../switches/store.js'
import type { Switch } from '../switches/targets.js'

declare module 'fastify' {
  interface FastifyInstance {
    switches: {
      /** the switches this instance applies */
      list (): Switch[]
      /** replaces them (what a Redis re-read does); for a process without Redis */
      replace (list: Switch[]): void
    }
  }
}

export interface SwitchesOptions { config: Config }

export default fp<SwitchesOptions>(async function switchesPlugin (app, { config }) {
  let list: Switch[] = []
  let state: SwitchState = EMPTY
  const gauge = new Gauge({
    name: 'feature_switch_disabled',
    help: 'Runtime switches in force (1 per disabled target: Mutation, Type.field or an operation name)',
    labelNames: ['target'],
    registers: [app.metrics.registry]
  })
  // READ_ONLY is the start-up default of the all-mutations switch (SERVICE_READ_ONLY, src/graphql/read-only.ts)
  if (config.READ_ONLY) {
    app.graphql.addHook('preExecution', refuseMutations)
    gauge.labels('Mutation').set(1)
    app.log.warn('READ_ONLY is on: every mutation is refused with SERVICE_READ_ONLY')
  }
  const applyFields = fieldSwitcher(() => app.graphql.schema, () => state, () => app.graphql.replaceSchema(app.graphql.schema))

  function replace (next: Switch[]) {
    const before = new Map(list.map((s) => [s.target, s]))
    const after = new Map(next.map((s) => [s.target, s]))
    for (const [target, sw] of after) {
      const old = before.get(target)
      if (old && old.reason === sw.reason && old.at === sw.at) continue
      gauge.labels(target).set(1)
      app.log.warn({ switch: { action: 'disable', ...sw } }, 'feature switch on: refused with FEATURE_DISABLED')
    }
    for (const target of before.keys()) {
      if (after.has(target)) continue
      if (target === 'Mutation' && config.READ_ONLY) gauge.labels(target).set(1)
      else gauge.remove(target)
      app.log.warn({ switch: { action: 'enable', target } }, 'feature switch off')
    }
    list = next
    state = stateOf(next)
    applyFields(state.fields)
  }

  app.graphql.addHook('preExecution', operationGuard(() => state))
  app.decorate('switches', { list: () => list, replace })

  if (!app.redis) return
  const redis = app.redis
  // one re-read at a time; a change announced meanwhile triggers one more
  let running: Promise<void> | null = null
  let again = false
  async function reread (): Promise<void> {
    if (running) { again = true; return running }
    running = (async () => {
      for (let attempt = 0; ; attempt++) {
        again = false
        try {
          replace(await readSwitches(redis, app.graphql.schema))
          if (!again) return
        } catch (err) {
          // fail static: keep what we have; retry briefly (the main client may still be reconnecting)
          if (attempt >= 20) { app.log.warn({ err }, 'switches: cannot read Redis; keeping the last ones read'); return }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    })().finally(() => { running = null })
    return running
  }
  // no command timeout on the subscriber: it only waits for messages (ioredis treats 0 as "time out at once")
  const subscriber = redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, lazyConnect: true, commandTimeout: undefined, maxRetriesPerRequest: null })
  subscriber.on('message', () => { void reread() })
  // (re)connected: anything announced while we were away is read now
  subscriber.on('ready', () => { void reread() })
  subscriber.on('error', (err: Error) => app.log.debug({ err }, 'switches subscriber error'))
  await subscriber.connect().then(() => subscriber.subscribe(switchesChannel(config.REDIS_KEY_PREFIX)))
    .catch((err: Error) => app.log.warn({ err }, 'switches: Redis unavailable at start-up'))
  const timer = setInterval(() => { void reread() }, config.SWITCHES_REFRESH_S * 1000).unref()
  app.addHook('onClose', async () => { clearInterval(timer); subscriber.disconnect(); await running })
  await reread()
}, { name: 'switches', dependencies: ['metrics', 'redis'], decorators: { fastify: ['metrics', 'redis', 'graphql'] } })
