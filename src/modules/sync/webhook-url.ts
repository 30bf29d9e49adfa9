import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { BadRequestError } from '../../lib/errors.js'

/**
 * Webhook URLs must not turn the service into a proxy into its own network (SSRF). An endpoint must
 * be https and its host must resolve only to public addresses, checked when it is saved and again at
 * every connection: the delivery's socket connects through `publicLookup`, so a name that later
 * resolves to a private address (DNS rebinding) is refused at connect time, not merely at save time.
 * Redirects are never followed. WEBHOOK_ALLOW_PRIVATE_URLS lifts both rules, for tests and local
 * development only.
 */

const blocked = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(network, prefix, 'ipv6')

/** Whether an IP address is publicly routable (IPv4-mapped IPv6 addresses are judged as their IPv4). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return !blocked.check(address, 'ipv4')
  if (family !== 6) return false
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped) return isPublicAddress(mapped)
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (hexMapped) {
    const high = parseInt(hexMapped[1] ?? '0', 16)
    const low = parseInt(hexMapped[2] ?? '0', 16)
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`)
  }
  return !blocked.check(address, 'ipv6')
}

const urlError = (code: string, message: string) =>
  new BadRequestError(code, `The webhook URL is refused: ${message}`, { errors: [{ in: 'body', field: 'url', message, code }] })

const resolveAll = (host: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)))
  })

/** The host as DNS and `isIP` know it (URL keeps IPv6 literals in brackets). */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1')

/**
 * Checks a URL an app wants events sent to.
 * @throws BadRequestError `webhook_url_not_https`, `webhook_url_credentials`, `webhook_url_unresolvable` or `webhook_url_not_public`
 */
export async function checkWebhookUrl(text: string, allowPrivate: boolean): Promise<string> {
  const url = new URL(text)
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw urlError('webhook_url_not_https', 'it must use https.')
  }
  if (url.username !== '' || url.password !== '') throw urlError('webhook_url_credentials', 'it must not carry a user name or password.')
  if (allowPrivate) return url.toString()
  const host = hostOf(url)
  let addresses: string[]
  if (isIP(host) !== 0) {
    addresses = [host]
  } else {
    try {
      addresses = (await resolveAll(host)).map((entry) => entry.address)
    } catch {
      throw urlError('webhook_url_unresolvable', `its host ${host} does not resolve.`)
    }
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    throw urlError('webhook_url_not_public', `its host ${host} resolves to an address that is not public (private, loopback, link-local or reserved).`)
  }
  return url.toString()
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for http(s).request that resolves like the default one and fails the connection when any
 * address is not public: the address checked is the address connected to.
 */
export function publicLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
    if (error) {
      callback(error, [])
      return
    }
    const refused = addresses.find((entry) => !isPublicAddress(entry.address))
    if (refused || addresses.length === 0) {
      const failure: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not a public address`)
      failure.code = 'EADDRNOTPUBLIC'
      callback(failure, [])
      return
    }
    if (options.all) {
      callback(null, addresses)
      return
    }
    const [first] = addresses
    callback(null, first?.address ?? '', first?.family)
  })
}
