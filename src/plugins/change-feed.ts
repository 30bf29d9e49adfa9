import fp from 'fastify-plugin'
import { ChangeFeed, type ChangeSubscriber } from '../db/change-feed.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The change feed every cache of this instance subscribes to (src/db/change-feed.ts). */
    changeFeed: ChangeFeed
    /** Subscribes a cache to the change feed. */
    changes: ChangeSubscriber
  }
}

/** One change feed per app, listening on the primary from `ready` to `close`. */
export const changeFeedPlugin = fp(
  async (app) => {
    const feed = new ChangeFeed({ db: app.db, log: app.log })
    app.decorate('changeFeed', feed)
    app.decorate('changes', feed.subscribe)
    app.readinessParts.set('changeFeed', {
      // Not a reason to take the instance out: with the feed down, caches are reset and refill; it says so.
      check: () => ({ ready: true, detail: '', report: feed.status() }),
    })
    app.addHook('onReady', async () => feed.start())
    app.addHook('onClose', async () => feed.close())
  },
  { name: 'change-feed', dependencies: ['database', 'readiness'] },
)
