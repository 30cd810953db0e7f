// A reader for the Prometheus text format (what /metrics serves), for assertions on whole families.
export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, type: string, samples: Sample[] }

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g

export function parseMetrics (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line)
    if (type) { families.set(type[1], { name: type[1], type: type[2], samples: [] }); continue }
    if (line === '' || line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, '$1')
    const family = families.get(m[1]) ?? families.get(m[1].replace(/_(bucket|sum|count|total|created)$/, ''))
    if (!family) throw new Error(`sample without a TYPE line: ${line}`)
    family.samples.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return families
}

/** the value of the one sample with exactly these labels (0 when absent) */
export function valueOf (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''))
  const want = JSON.stringify(Object.entries(labels).sort())
  const sample = family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)
  return sample?.value ?? 0
}

/** label names of a family's samples (without `le`) */
export function labelNamesOf (family: Family | undefined): string[] {
  const names = new Set<string>()
  for (const s of family?.samples ?? []) for (const k of Object.keys(s.labels)) if (k !== 'le') names.add(k)
  return [...names].sort()
}
