// The monitoring profile's trace and log stack, cross-checked without Docker: the app replicas
// can send traces to Jaeger, Alloy ships the app's log lines to Loki, and Grafana has both as
// data sources linked both ways (a span opens its log lines by trace_id, a log line its trace).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { ROOT } from '../../src/paths.js'

const DOCKER = join(ROOT, 'docker')
const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'))
const services = compose.services
const env = (text: string) => Object.fromEntries(text.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => l.split(/=(.*)/s, 2)))
const example = env(readFileSync(join(DOCKER, '.env.example'), 'utf8'))
const datasources = parse(readFileSync(join(DOCKER, 'grafana/provisioning/datasources/traces.yml'), 'utf8')).datasources
const byType = (type: string) => datasources.find((d: { type: string }) => d.type === type)

describe('monitoring profile: traces and logs', () => {
  it('runs Jaeger, Loki and Alloy under the monitoring profile, Grafana after them', () => {
    for (const name of ['jaeger', 'loki', 'alloy']) expect(services[name].profiles, name).toEqual(['monitoring'])
    expect(services.grafana.depends_on).toEqual(expect.arrayContaining(['jaeger', 'loki']))
    expect(services.jaeger.ports).toEqual(['127.0.0.1:16686:16686'])
    expect(Object.keys(compose.volumes)).toContain('loki-data')
  })

  it('lets the app send OTLP/HTTP to Jaeger with the endpoint docker/.env documents, off while it is empty', () => {
    const appEnv = services.app.environment as Record<string, string>
    expect(appEnv.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}')
    expect(Object.keys(example)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT')
    expect(readFileSync(join(DOCKER, '.env.example'), 'utf8')).toContain('http://jaeger:4318')
    const base = { NODE_ENV: 'test', OTEL_TRACES_SAMPLER: appEnv.OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG: '0.1' }
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: '' }).otlpTracesUrl).toBeUndefined()
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }).otlpTracesUrl).toBe('http://jaeger:4318/v1/traces')
  })

  it('ships the app containers\' log lines to the Loki that Grafana reads, keeping trace_id', () => {
    const alloy = services.alloy.volumes.map((v: string) => v.split(':'))
    const config = alloy.find(([, target]: string[]) => target === '/etc/alloy/config.alloy')
    expect(config).toBeDefined()
    expect(existsSync(join(DOCKER, config[0]))).toBe(true)
    const text = readFileSync(join(DOCKER, config[0]), 'utf8')
    expect(text).toContain('url = "http://loki:3100/loki/api/v1/push"')
    expect(text).toMatch(/regex\s+= "app"/)
    expect(text).toContain('trace_id')
    expect(byType('loki').url).toBe('http://loki:3100')
  })

  it('links a trace to its logs and a log line to its trace in Grafana', () => {
    const jaeger = byType('jaeger')
    const loki = byType('loki')
    expect(jaeger.url).toBe('http://jaeger:16686')
    expect(jaeger.jsonData.tracesToLogsV2.datasourceUid).toBe(loki.uid)
    // `$$` survives Grafana's environment expansion as a literal `$`
    expect(jaeger.jsonData.tracesToLogsV2.query).toContain('trace_id="$${__trace.traceId}"')
    const link = loki.jsonData.derivedFields[0]
    expect(link.datasourceUid).toBe(jaeger.uid)
    const line = JSON.stringify({ level: 30, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', msg: 'request completed' })
    expect(new RegExp(link.matcherRegex).exec(line)?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
  })
})
