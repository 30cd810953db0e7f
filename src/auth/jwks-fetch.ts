// HTTP for the identity provider: OpenID Connect discovery and the JWKS, with a timeout, no
// redirects and a size bound; and the development cache file of the last JWKS fetched.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** A JWKS or discovery document larger than this is refused (real ones are a few KiB). */
const MAX_BYTES = 512 * 1024

export async function fetchJson (url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
    headers: { accept: 'application/json, application/jwk-set+json' }
  }).catch((err: Error) => {
    throw new Error(err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `unreachable (${(err.cause as Error | undefined)?.message ?? err.message})`)
  })
  if (res.status !== 200) {
    await res.body?.cancel()
    throw new Error(`HTTP ${res.status} from ${url}`)
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_BYTES) {
    await res.body?.cancel()
    throw new Error(`response larger than ${MAX_BYTES} bytes`)
  }
  let text: string
  try {
    text = await boundedText(res, MAX_BYTES)
  } catch (err) {
    if ((err as Error).message.startsWith('response larger')) throw err
    throw new Error((err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'response cut short')
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new Error('response is not JSON')
  }
}

/**
 * The body as text, refused once it passes `max` bytes: a chunked answer has no Content-Length to
 * check first, and res.text() would read it all into memory before any size check.
 */
async function boundedText (res: Response, max: number): Promise<string> {
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += chunk.byteLength
    // leaving the loop by a throw cancels the stream
    if (size > max) throw new Error(`response larger than ${max} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** `jwks_uri` of `<issuer>/.well-known/openid-configuration`, whose `issuer` must be ours (OpenID Connect Discovery 4.3). */
export async function resolveJwksUrl (issuer: string, timeoutMs: number): Promise<string> {
  const doc = await fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, timeoutMs) as { issuer?: unknown, jwks_uri?: unknown } | null
  if (doc?.issuer !== issuer) throw new Error(`discovery names issuer ${JSON.stringify(doc?.issuer)?.slice(0, 200)}, not JWT_ISSUER ${issuer}`)
  const jwksUri = doc.jwks_uri
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) throw new Error('discovery has no http(s) jwks_uri')
  if (new URL(issuer).protocol === 'https:' && !jwksUri.startsWith('https:')) throw new Error('discovery over https names a jwks_uri that is not https')
  return jwksUri
}

export async function saveCachedJwks (file: string, set: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(`${file}.tmp`, JSON.stringify(set))
  await rename(`${file}.tmp`, file)
}

export async function loadCachedJwks (file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown
  } catch {
    return undefined
  }
}
