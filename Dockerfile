# syntax=docker/dockerfile:1
# Build: install everything, generate the Prisma client, compile TypeScript.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prisma.mjs scripts/prisma.mjs
COPY prisma prisma
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm ci --no-audit --no-fund && npm run build

# Run: production dependencies only, the compiled app, and the migrations it applies at start.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY prisma/migrations prisma/migrations
COPY assets assets
RUN mkdir -p /app/data && chown node:node /app/data
USER node
ENV PORT=3000 HOST=0.0.0.0 DATA_DIR=/app/data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node directly, not npm, so SIGTERM reaches the app and it drains before exiting. A 32 MB young generation:
# the service allocates fast under load, and with the default a third of its CPU went to scavenges (see docs/directory-query-plans.md).
CMD ["node", "--max-semi-space-size=32", "dist/server.js"]
