// PromQL helpers shared by the tests of the app's rules (prometheus.test.ts) and of the exporters'
// rules (exporters.test.ts).

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan'])

/** metric names in a PromQL expression: identifiers that are not functions, keywords or labels */
export function metricNames (expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
  const names = new Set<string>()
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length)
    if (/^\s*\(/.test(after) || KEYWORDS.has(m[0].toLowerCase())) continue
    names.add(m[0])
  }
  return [...names]
}

/** series served by the exporters beside the app (node_exporter with the backup textfile, postgres_exporter, redis_exporter), not by the app */
export const EXPORTER_METRIC = /^(node_|pg_|redis_|backup_)/
