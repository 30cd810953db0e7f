// A small Kustomize resolver for the features docker/k8s/ uses (resources, patches as strategic
// merge files or RFC 6902 lists with a target, namespace, labels, images), so CI can check the
// built overlays without kubectl. Written by hand because no npm package builds kustomizations;
// kubernetes.test.ts compares it with `kubectl kustomize` wherever kubectl is installed. A
// kustomization field it does not know fails the build rather than being ignored.
import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'

export type Resource = { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }, [k: string]: any }

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'patches', 'namespace', 'labels', 'images'])
// kinds without a namespace (of those a kustomization here could hold)
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'CustomResourceDefinition', 'IngressClass'])

const clone = <T>(v: T): T => structuredClone(v)
const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function readYamlDocuments (file: string): any[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`)
    return d.toJS()
  }).filter((d) => d !== null)
}

/** Strategic merge as Kubernetes does it for these fields: maps merge, null deletes, lists of named items merge by name. */
function strategicMerge (target: any, patch: any): any {
  if (!isObject(patch) || !isObject(target)) return clone(patch)
  const out: Record<string, any> = { ...target }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else if (Array.isArray(value) && Array.isArray(out[key]) && value.every((v) => isObject(v) && 'name' in v)) {
      const merged = [...out[key]]
      for (const item of value) {
        const at = merged.findIndex((m) => m.name === item.name)
        if (at >= 0) merged[at] = strategicMerge(merged[at], item)
        else merged.push(clone(item))
      }
      out[key] = merged
    } else out[key] = strategicMerge(out[key], value)
  }
  return out
}

function pointer (path: string): string[] {
  return path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** RFC 6902 add, replace and remove. */
function jsonPatch (doc: any, ops: Array<{ op: string, path: string, value?: unknown }>): any {
  const out = clone(doc)
  for (const { op, path, value } of ops) {
    const parts = pointer(path)
    const last = parts.pop()!
    let parent = out
    for (const p of parts) {
      if (parent[p] === undefined) throw new Error(`${op} ${path}: ${p} does not exist`)
      parent = parent[p]
    }
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last
    if (op === 'remove') {
      if (Array.isArray(parent)) parent.splice(index as number, 1); else delete parent[last]
    } else if (op === 'replace') {
      if (parent[index as never] === undefined) throw new Error(`replace ${path}: nothing to replace`)
      parent[index as never] = clone(value) as never
    } else if (op === 'add') {
      if (Array.isArray(parent)) parent.splice(index as number, 0, clone(value)); else parent[last] = clone(value)
    } else throw new Error(`unsupported JSON patch op ${op}`)
  }
  return out
}

function applyPatch (resources: Resource[], dir: string, entry: { path?: string, patch?: string, target?: { kind?: string, name?: string } }): Resource[] {
  const body = entry.path ? readFileSync(join(dir, entry.path), 'utf8') : entry.patch!
  const parsed = parse(body)
  if (Array.isArray(parsed)) {
    const t = entry.target ?? {}
    const hits = resources.filter((r) => (!t.kind || r.kind === t.kind) && (!t.name || r.metadata.name === t.name))
    if (hits.length === 0) throw new Error(`patch target ${JSON.stringify(t)} matches nothing`)
    return resources.map((r) => (hits.includes(r) ? jsonPatch(r, parsed) : r))
  }
  const at = resources.findIndex((r) => r.kind === parsed.kind && r.metadata.name === parsed.metadata?.name)
  if (at < 0) throw new Error(`patch ${entry.path ?? ''} (${parsed.kind}/${parsed.metadata?.name}) matches no resource`)
  return resources.map((r, i) => (i === at ? strategicMerge(r, parsed) : r))
}

function setImages (node: any, images: Array<{ name: string, newName?: string, newTag?: string, digest?: string }>) {
  if (Array.isArray(node)) { node.forEach((n) => setImages(n, images)); return }
  if (!isObject(node)) return
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
      for (const c of value) {
        const name = String(c.image).replace(/@.*$/, '').replace(/:[^:/]+$/, '')
        const rule = images.find((i) => i.name === name)
        if (!rule) continue
        c.image = `${rule.newName ?? name}${rule.digest ? `@${rule.digest}` : `:${rule.newTag ?? 'latest'}`}`
      }
    } else setImages(value, images)
  }
}

/** The resources `kubectl kustomize dir` would print (in another order). */
export function build (dir: string): Resource[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))
  for (const field of Object.keys(k)) if (!KNOWN.has(field)) throw new Error(`${dir}: kustomization field ${field} is not supported here`)
  let resources: Resource[] = []
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r)
    resources.push(...(statSync(path).isDirectory() ? build(path) : readYamlDocuments(path)))
  }
  resources = clone(resources)
  // kustomize's order: patches, namespace, labels, images
  for (const entry of k.patches ?? []) resources = applyPatch(resources, dir, entry)
  if (k.namespace) for (const r of resources) if (!CLUSTER_SCOPED.has(r.kind)) r.metadata.namespace = k.namespace
  for (const { pairs, includeSelectors, includeTemplates } of k.labels ?? []) {
    if (includeSelectors || includeTemplates) throw new Error('labels with includeSelectors or includeTemplates are not supported here')
    for (const r of resources) r.metadata.labels = { ...r.metadata.labels, ...pairs }
  }
  if (k.images) for (const r of resources) setImages(r, k.images)
  return resources
}
